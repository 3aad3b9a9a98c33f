"""The Glue entry points run as Glue runs them: a process with Glue-style arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lake import SmallLake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_every_glue_script_is_covered_here() -> None:
    # curate_dataset.py here; export_status.py and continuity_features.py in
    # test_continuity_scripts.py; matching_inputs.py in test_matching_inputs.py.
    assert sorted(p.name for p in (ROOT / "glue_scripts").glob("*.py")) == [
        "continuity_features.py",
        "curate_dataset.py",
        "export_status.py",
        "matching_inputs.py",
    ]


def test_curate_dataset_runs_as_a_process_and_ignores_glue_arguments(
    small_lake: SmallLake, tmp_path: Path
) -> None:
    raw = small_lake.workdir / "raw" / "exporters"  # staged by the lake's first run
    env = {**os.environ, **small_lake.aws.environ()}
    command = [
        sys.executable, str(ROOT / "glue_scripts" / "curate_dataset.py"),
        "--JOB_NAME", "curate-exporters", "--job-bookmark-option", "job-bookmark-disable",
        "--dataset", "exporters",
        "--raw-path", str(raw),
        "--curated-path", str(tmp_path / "curated" / "exporters"),
        "--quarantine-path", str(tmp_path / "quarantine"),
        "--summary-path", f"{tmp_path}/summaries/",
        "--key-secret-id", small_lake.resources.pseudonymisation_secret,
        "--run-id", "glue-style",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "summaries" / "glue-style" / "exporters.json").read_text())
    expected = small_lake.summaries["exporters"]
    assert summary["reconciled"] is True
    assert (summary["read"], summary["written"], summary["quarantined"]) == (
        expected.read, expected.written, expected.quarantined)  # fmt: skip
    assert list((tmp_path / "curated" / "exporters").glob("*.parquet"))


def test_a_missing_argument_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "glue_scripts" / "curate_dataset.py"), "--dataset", "x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "the following arguments are required: --raw-path" in done.stderr
