"""Script mode on this machine: the job sees its SM_* folders, a failure carries its reason."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from exportintel.local.sagemaker import JobFailed, JobFolders, pack_model, run_job, script

JOB = """
import os, sys
from pathlib import Path
from exportintel.models.jobenv import report_failure
train = Path(os.environ["SM_CHANNEL_TRAIN"])
if sys.argv[1:] == ["--fail"]:
    report_failure("no features.parquet in " + str(train))
    sys.exit(1)
model = Path(os.environ["SM_MODEL_DIR"])
(model / "model.json").write_text(os.environ["TRAINING_JOB_NAME"])
(Path(os.environ["SM_OUTPUT_DATA_DIR"]) / "metrics.json").write_text((train / "x").read_text())
"""


def _job(tmp_path: Path) -> Path:
    path = tmp_path / "job.py"
    path.write_text(JOB, encoding="utf-8")
    (tmp_path / "channel").mkdir()
    (tmp_path / "channel" / "x").write_text("from the channel")
    return path


def test_a_job_reads_its_channel_and_writes_its_model_and_output(tmp_path: Path) -> None:
    folders = JobFolders(tmp_path / "run")
    run_job(_job(tmp_path), job_name="job-1", channels={"train": tmp_path / "channel"},
            folders=folders)  # fmt: skip
    assert (folders.model / "model.json").read_text() == "job-1"
    assert (folders.output_data / "metrics.json").read_text() == "from the channel"
    with tarfile.open(pack_model(folders.model, tmp_path / "model.tar.gz")) as tar:
        assert tar.getnames() == ["model.json"]


def test_a_failed_job_raises_with_the_reason_it_reported(tmp_path: Path) -> None:
    with pytest.raises(JobFailed, match=r"no features\.parquet in .*channel"):
        run_job(_job(tmp_path), job_name="job-2", channels={"train": tmp_path / "channel"},
                folders=JobFolders(tmp_path / "run"), arguments=["--fail"])  # fmt: skip


def test_the_project_scripts_are_found_and_unknown_ones_named() -> None:
    assert script("continuity", "train").name == "train.py"
    with pytest.raises(FileNotFoundError, match=r"nothing\.py"):
        script("continuity", "nothing")
