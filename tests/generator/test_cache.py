"""A cached world is reused only when the same generator and ground truth made it for the same
scale and seed (benchmarks and evaluation harnesses keep generated worlds between runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from exportintel.generate import is_current
from tests.generator.conftest import Generated


def test_a_world_is_current_only_for_its_scale_seed_and_truth(
    small: Generated, tmp_path: Path
) -> None:
    assert is_current(small.out, "small", 7)
    assert not is_current(small.out, "small", 8)
    assert not is_current(small.out, "tiny", 7)
    assert not is_current(tmp_path, "small", 7)  # nothing generated there

    copy = tmp_path / "world"
    copy.mkdir()
    shutil.copy(small.out / "manifest.json", copy / "manifest.json")
    manifest = json.loads((copy / "manifest.json").read_text())
    assert is_current(copy, "small", 7)
    manifest["ground_truth_version"] = "2026.1"  # made before the market-entry mechanism
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert not is_current(copy, "small", 7)
