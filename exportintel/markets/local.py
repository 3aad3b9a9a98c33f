"""The market model's steps on the local emulation: train and score, with the AWS scripts.

As for the other models (`exportintel.continuity.local`): the SageMaker scripts run as
processes, here with one channel per curated input table; the model lands under
`models/markets/<version>/` of the artifacts bucket and serves once the gate passed; scoring
keeps its files under the version's `scores/` (the load step makes them the
`market_suggestions` table and the `markets` serving table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exportintel.local import models
from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.markets.data import INPUT_TABLES
from exportintel.settings import EnvironmentSettings

MODEL = "markets"
OUTPUT_FILES = ("suggestions.parquet", "cold_start.parquet", "current_markets.parquet")


def training_arguments(settings: EnvironmentSettings) -> list[str]:
    """The training job's arguments (SageMaker hyperparameters)."""
    return ["--test-years", "3", "--seed", "7"]


def scoring_arguments(settings: EnvironmentSettings) -> list[str]:
    return []


def table_channels(lake: LocalLake) -> dict[str, Path]:
    """One channel per curated input table (channel name = table name)."""
    channels = {table: lake.pull(table) for table in INPUT_TABLES}
    missing = [table for table, folder in channels.items() if not has_data(folder)]
    if missing:
        raise NotReady(f"no curated {', '.join(missing)} yet: run `exportintel etl` first")
    return channels


def train(
    lake: LocalLake, settings: EnvironmentSettings, *, job_name: str | None = None
) -> models.TrainedModel:
    """The training job over the curated tables; the version serves once the gate passes."""
    return models.train(
        lake,
        MODEL,
        channels=table_channels(lake),
        arguments=training_arguments(settings),
        job_name=job_name,
    )


def score(lake: LocalLake, settings: EnvironmentSettings) -> models.SummarisedScoreRun:
    """The scoring job with the current model over the latest year of evidence."""
    version, folders = models.score(
        lake,
        MODEL,
        channels=table_channels(lake),
        arguments=scoring_arguments(settings),
        outputs=(*OUTPUT_FILES, "scoring.json"),
    )
    return models.SummarisedScoreRun.read(version, folders)


def publish(lake: LocalLake, run: models.SummarisedScoreRun) -> int:
    """Replace the `market_suggestions` table with the run's suggestions; returns their rows
    (the pipeline's load step also writes the serving table)."""
    from exportintel.pipeline.load import publish_suggestions

    return publish_suggestions(lake, run.folders.output_data)


def sample_suggestions(lake: LocalLake, firms: int = 2) -> list[dict[str, Any]]:
    """A novice's and an experienced exporter's suggestions from the `market_suggestions`
    table (the first of each by firm id), for the demo and the CLI."""
    import pandas as pd

    folder = lake.pull("market_suggestions")
    if not has_data(folder):
        raise NotReady("no market_suggestions table yet: run `exportintel score markets`")
    table = pd.read_parquet(folder, partitioning=None).sort_values(["firm_id", "rank"])
    chosen = []
    for novice in (True, False):
        ids = table.loc[table["novice"] == novice, "firm_id"].drop_duplicates()
        chosen.extend(ids.head(max(firms // 2, 1)).tolist())
    return [
        {"firm_id": firm, "rows": table[table["firm_id"] == firm].to_dict("records")}
        for firm in chosen
    ]
