"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from exportintel.generate import SCALES, generate


def _digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    first, again, other = (tmp_path_factory.mktemp(n) for n in ("first", "again", "other"))
    generate(scale="tiny", seed=11, out=first)
    generate(scale="tiny", seed=11, out=again)
    generate(scale="tiny", seed=12, out=other)
    return first, again, other


def test_same_seed_gives_identical_bytes(three_runs: tuple[Path, Path, Path]) -> None:
    first, again, _ = three_runs
    digests = _digests(first)
    assert len(digests) == 12 + 1 + 5  # datasets, manifest, ground truth files
    assert digests == _digests(again)


def test_another_seed_gives_other_data(three_runs: tuple[Path, Path, Path]) -> None:
    first, _, other = three_runs
    a, b = _digests(first), _digests(other)
    for name in ("exporters", "buyers", "web_events", "export_history", "commodity_prices"):
        assert a[f"{name}/{name}-00000.jsonl"] != b[f"{name}/{name}-00000.jsonl"]


def test_a_rerun_replaces_the_old_output(tmp_path: Path) -> None:
    stale = tmp_path / "exporters" / "exporters-00007.jsonl"
    stale.parent.mkdir(parents=True)
    stale.write_text("old\n")
    generate(scale="tiny", seed=1, out=tmp_path)
    assert not stale.exists()


def test_manifest_records_the_run(three_runs: tuple[Path, Path, Path]) -> None:
    manifest = json.loads((three_runs[0] / "manifest.json").read_text())
    assert manifest["scale"] == "tiny" and manifest["seed"] == 11
    assert manifest["today"] == "2026-06-30"
    assert manifest["history_years"] == [2016, 2025]
    assert manifest["generator_version"] and manifest["ground_truth_version"]
    assert "ground_truth/parameters.json" in manifest["ground_truth"]


def test_unknown_scale_is_refused(tmp_path: Path) -> None:
    assert "small" in SCALES
    with pytest.raises(ValueError, match="unknown scale"):
        generate(scale="huge", seed=1, out=tmp_path)
