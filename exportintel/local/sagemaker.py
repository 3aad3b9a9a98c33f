"""SageMaker script mode on this machine: the same `sagemaker_jobs/` scripts, run as processes.

A training job is a process whose `SM_*` variables point at local folders: channels in, a
model folder and an output folder out, a `failure` file on error. That is all the scripts
know of SageMaker, so the run here is the run in AWS with the infrastructure taken away.
Like SageMaker, the model folder is also packed into `model.tar.gz` for whoever loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

JOBS_FOLDER = Path(__file__).resolve().parents[2] / "sagemaker_jobs"


class JobFailed(RuntimeError):
    """The script exited non-zero; the message is what it reported (its `failure` file)."""


@dataclass(frozen=True)
class JobFolders:
    """The folders of one job, laid out as in the container under /opt/ml."""

    root: Path

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def output(self) -> Path:
        return self.root / "output"


def script(model: str, name: str) -> Path:
    """`sagemaker_jobs/<model>/<name>.py` of the source tree (an editable install)."""
    path = JOBS_FOLDER / model / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: local jobs run from a source checkout")
    return path


def run_job(
    job_script: Path,
    *,
    job_name: str,
    channels: Mapping[str, Path],
    folders: JobFolders,
    arguments: Sequence[str] = (),
) -> None:
    """Run one script-mode job to completion; raise `JobFailed` with its reason on failure."""
    for folder in (folders.model, folders.output_data):
        folder.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ)
    environ.update(
        {
            "TRAINING_JOB_NAME": job_name,
            "SM_MODEL_DIR": str(folders.model),
            "SM_OUTPUT_DATA_DIR": str(folders.output_data),
            "SM_OUTPUT_DIR": str(folders.output),
            **{f"SM_CHANNEL_{name.upper()}": str(path) for name, path in channels.items()},
        }
    )
    done = subprocess.run(
        [sys.executable, str(job_script), *arguments], env=environ, capture_output=True, text=True
    )
    if done.returncode != 0:
        failure = folders.output / "failure"
        reason = failure.read_text(encoding="utf-8").strip() if failure.exists() else ""
        raise JobFailed(reason or done.stderr.strip()[-2000:] or f"exit code {done.returncode}")


def pack_model(model_dir: Path, archive: Path) -> Path:
    """`model.tar.gz` of the model folder's files, as SageMaker uploads it."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive
