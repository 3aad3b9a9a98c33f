"""Model versions in the (emulated) artifacts bucket, as the pipeline keeps them in AWS.

`models/<model>/<version>/model.tar.gz` and `.../output/<file>` per training run, and
`models/<model>/current.json` naming the version that scores (`exportintel.pipeline.versions`).
Training registers a version; only the quality gate makes it current
(`exportintel.pipeline.local.gate`); scoring fetches the current one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exportintel.local.lake import LocalLake, NotReady
from exportintel.local.sagemaker import JobFolders, pack_model, run_job, script
from exportintel.pipeline import versions


def models_prefix(model: str) -> str:
    return versions.model_prefix(model)


def version_prefix(model: str, version: str) -> str:
    return versions.version_prefix(model, version)


def new_job_name(model: str) -> str:
    """A training job name, unique per second, which becomes the model version."""
    return f"{model}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"


def register(lake: LocalLake, model: str, version: str, folders: JobFolders) -> str:
    """Upload a training job's model (packed as SageMaker packs it) and its output files
    under the version's prefix; returns the model URI. The version does not serve yet."""
    import boto3

    s3 = boto3.client("s3")
    bucket, prefix = lake.resources.artifacts_bucket, version_prefix(model, version)
    archive = pack_model(folders.model, folders.root / "model.tar.gz")
    s3.upload_file(str(archive), bucket, f"{prefix}/model.tar.gz")
    for path in sorted(folders.output_data.iterdir()):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/output/{path.name}")
    return f"s3://{bucket}/{prefix}/model.tar.gz"


@dataclass(frozen=True)
class TrainedModel:
    version: str
    metrics: dict[str, Any]
    folders: JobFolders
    model_uri: str

    def output_text(self, name: str) -> str:
        """A text file the job wrote to its output folder (evaluation.txt, for instance)."""
        return (self.folders.output_data / name).read_text(encoding="utf-8")


def train(
    lake: LocalLake,
    model: str,
    *,
    channels: Mapping[str, Path] | Callable[[Path], Mapping[str, Path]],
    arguments: Sequence[str],
    job_name: str | None = None,
) -> TrainedModel:
    """Run `sagemaker_jobs/<model>/train.py` and register its model (not yet serving: the
    gate decides). `channels` may be built inside the job's folder (a function of its input
    folder)."""
    job_name = job_name or new_job_name(model)
    folders = JobFolders(lake.workdir / "jobs" / job_name)
    if callable(channels):
        channels = channels(folders.root / "input")
    run_job(
        script(model, "train"),
        job_name=job_name,
        channels=channels,
        folders=folders,
        arguments=arguments,
    )
    metrics = json.loads((folders.model / "metrics.json").read_text(encoding="utf-8"))
    version = str(metrics["model_version"])
    return TrainedModel(version, metrics, folders, register(lake, model, version, folders))


def current_version(lake: LocalLake, model: str) -> dict[str, Any]:
    """`current.json` of the model; `NotReady` when no version was trained."""
    import boto3

    current = versions.current(boto3.client("s3"), lake.resources.artifacts_bucket, model)
    if current is None:
        raise NotReady(f"no {model} model serves yet: run `exportintel train {model}`")
    return current


def fetch_current(lake: LocalLake, model: str, folder: Path) -> str:
    """Download the current version's model.tar.gz into `folder` (a scoring job's `model`
    channel); returns the version."""
    import boto3

    current = current_version(lake, model)
    bucket, key = current["model_uri"].removeprefix("s3://").split("/", 1)
    folder.mkdir(parents=True, exist_ok=True)
    boto3.client("s3").download_file(bucket, key, str(folder / "model.tar.gz"))
    return str(current["model_version"])


@dataclass(frozen=True)
class SummarisedScoreRun:
    """A scoring run whose job writes `scoring.json` (matching, markets): its version, that
    summary and the job's folders."""

    version: str
    summary: dict[str, Any]
    folders: JobFolders

    @classmethod
    def read(cls, version: str, folders: JobFolders) -> SummarisedScoreRun:
        text = (folders.output_data / "scoring.json").read_text(encoding="utf-8")
        return cls(version, json.loads(text), folders)


def score(
    lake: LocalLake,
    model: str,
    *,
    channels: Mapping[str, Path],
    arguments: Sequence[str],
    outputs: Sequence[str],
) -> tuple[str, JobFolders]:
    """Run `sagemaker_jobs/<model>/score.py` with the current version as its `model` channel
    beside `channels`, and keep its `outputs` under the version's `scores/`; returns the
    version and the job's folders."""
    folder = lake.workdir / "jobs" / "score-input" / model
    version = fetch_current(lake, model, folder)
    folders = JobFolders(lake.workdir / "jobs" / f"score-{version}")
    run_job(
        script(model, "score"),
        job_name=f"score-{version}",
        channels={**channels, "model": folder},
        folders=folders,
        arguments=arguments,
    )
    for name in outputs:
        upload_output(lake, model, version, folders.output_data / name, f"scores/{name}")
    return version, folders


def upload_output(lake: LocalLake, model: str, version: str, path: Path, key: str) -> str:
    """A scoring or report file stored beside the version (`<version>/<key>`)."""
    import boto3

    bucket = lake.resources.artifacts_bucket
    full_key = f"{version_prefix(model, version)}/{key}"
    boto3.client("s3").upload_file(str(path), bucket, full_key)
    return f"s3://{bucket}/{full_key}"
