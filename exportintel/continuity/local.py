"""The continuity steps on the local emulation: derive, train, score, with the AWS code.

Each step reads the (emulated) S3 lake, runs what runs in AWS (the Glue jobs' bodies under
local Spark, the SageMaker scripts as processes with their `SM_*` folders) and writes back
where AWS would: derived tables to the curated bucket, models and their metrics under a
versioned prefix of the artifacts bucket, `models/continuity/current.json` naming the version
that scores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exportintel.glue_jobs import CONTINUITY_FEATURES
from exportintel.local import models
from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.local.sagemaker import JobFolders
from exportintel.settings import EnvironmentSettings

MODEL = "continuity"
MODELS_PREFIX = models.models_prefix(MODEL)
CURRENT = f"{MODELS_PREFIX}/current.json"
DERIVED = ("export_status", "continuity_features")


def derive(lake: LocalLake, *, on_table: Callable[[dict[str, Any]], None] = print) -> None:
    """export_status, then continuity_features, from the curated tables (the Glue jobs)."""
    from exportintel.continuity.derive import derive_export_status, derive_features
    from exportintel.etl.session import spark_session

    curated = [t for t in CONTINUITY_FEATURES.reads if t not in DERIVED]
    paths = {table: str(lake.pull(table)) for table in curated}
    missing = [t for t in ("export_history", "exporters") if not has_data(Path(paths[t]))]
    if missing:
        raise NotReady(f"no curated {', '.join(missing)} yet: run `exportintel etl` first")
    spark = spark_session("exportintel-local-continuity")
    for table in DERIVED:
        paths[table] = str(lake.mirror(table).folder)
    on_table(derive_export_status(spark, paths))
    lake.publish("export_status")
    on_table(derive_features(spark, paths))
    lake.publish("continuity_features")


def training_arguments(settings: EnvironmentSettings) -> list[str]:
    """The training job's arguments (SageMaker hyperparameters) from the settings."""
    excluded = ",".join(settings.continuity_excluded_columns)
    return ["--threshold", str(settings.continuity_risk_threshold), "--exclude-columns", excluded]


def scoring_arguments(settings: EnvironmentSettings) -> list[str]:
    return ["--threshold", str(settings.continuity_risk_threshold)]


def train(
    lake: LocalLake, settings: EnvironmentSettings, *, job_name: str | None = None
) -> models.TrainedModel:
    """The training job over the curated `continuity_features` table; the model becomes
    the current one."""
    return models.train(
        lake,
        MODEL,
        channels={"train": _features(lake)},
        arguments=training_arguments(settings),
        job_name=job_name,
    )


@dataclass(frozen=True)
class ScoreRun:
    version: str
    rows: int
    by_year: dict[int, tuple[int, int]]  # year -> (scored firms, firms in the risk group)
    folders: JobFolders


def score(lake: LocalLake, settings: EnvironmentSettings) -> ScoreRun:
    """The scoring job with the current model over every firm-year of the features; its
    `index.parquet` is kept under the version's `scores/` (`publish` makes it the table)."""
    import pandas as pd

    version, folders = models.score(
        lake,
        MODEL,
        channels={"score": _features(lake)},
        arguments=scoring_arguments(settings),
        outputs=("index.parquet",),
    )
    scored = pd.read_parquet(folders.output_data / "index.parquet")
    by_year = {
        int(year): (len(group), int(group["risk_group"].sum()))
        for year, group in scored.groupby("year")
    }
    return ScoreRun(version, len(scored), by_year, folders)


def publish(lake: LocalLake, run: ScoreRun) -> int:
    """Replace the `continuity_index` table with the run's rows; returns their number."""
    from exportintel.pipeline.load import continuity_features, publish_index

    index, _previous = publish_index(lake, run.folders.output_data, continuity_features(lake))
    return len(index)


def report(lake: LocalLake, settings: EnvironmentSettings, out_dir: Path) -> Path:
    """The group analysis of the current scores: the `continuity_group_profile` table and
    the HTML report (with the training run's held-out predictions) in `out_dir`."""
    import boto3
    import pandas as pd

    from exportintel.continuity.groups import group_profile
    from exportintel.continuity.report import ReportInputs, write_report
    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import to_arrow, write_partitioned
    from exportintel.models.tabular import read_features

    features = read_features(_features(lake))
    index_folder = lake.pull("continuity_index")
    if not has_data(index_folder):
        raise NotReady("no continuity_index table yet: run `exportintel score continuity`")
    index = pd.read_parquet(index_folder, partitioning=None)
    versions = sorted(set(index["model_version"]))
    if len(versions) != 1:
        raise NotReady(f"the index holds several model versions {versions}: score again")
    version = versions[0]
    s3 = boto3.client("s3")
    bucket = lake.resources.artifacts_bucket
    prefix = f"{models.version_prefix(MODEL, version)}/output"
    training = lake.workdir / "reports" / version
    training.mkdir(parents=True, exist_ok=True)
    for name in ("metrics.json", "test_predictions.parquet"):
        s3.download_file(bucket, f"{prefix}/{name}", str(training / name))
    contract = get_contract("continuity_group_profile")
    profile = to_arrow(group_profile(features, index), contract)
    write_partitioned(profile, contract, lake.mirror(contract.name).folder)
    lake.publish(contract.name)
    inputs = ReportInputs(
        features=features,
        index=index,
        metrics=json.loads((training / "metrics.json").read_text(encoding="utf-8")),
        test_predictions=pd.read_parquet(training / "test_predictions.parquet"),
        threshold=settings.continuity_risk_threshold,
    )
    return write_report(inputs, out_dir)


def _features(lake: LocalLake) -> Path:
    folder = lake.pull("continuity_features")
    if not has_data(folder):
        raise NotReady("no continuity_features table yet: run `exportintel derive continuity`")
    return folder
