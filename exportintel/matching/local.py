"""The matching steps on the local emulation: derive, train, score, with the AWS code.

As for the continuity index (`exportintel.continuity.local`): the Glue job's body under local
Spark writes the `interactions`, `matching_exporters` and `matching_buyers` tables to the
curated bucket; the SageMaker scripts run as processes over a channel built from them; models
land under `models/matching/<version>/` of the artifacts bucket; scoring replaces the
`recommendations` table, so analysts query the stored lists like any other table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from exportintel.glue_jobs import MATCHING_INPUTS
from exportintel.local import models
from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.settings import EnvironmentSettings

MODEL = "matching"
# The channel's files, from the derived tables; the table columns the jobs do not read stay out
# (`as_of` dates the side tables, `source`, `event_id` and `year` are bookkeeping).
CHANNEL_FILES = {
    "interactions": "interactions.parquet",
    "matching_exporters": "exporters.parquet",
    "matching_buyers": "buyers.parquet",
}
LEFT_OUT = {"as_of", "source", "event_id", "year"}


def derive(lake: LocalLake) -> dict[str, Any]:
    """interactions, matching_exporters and matching_buyers from the curated tables (the Glue
    job); returns its run summary."""
    from exportintel.etl.session import spark_session
    from exportintel.matching.derive import derive_matching_inputs

    paths = {table: str(lake.pull(table)) for table in MATCHING_INPUTS.reads}
    missing = [
        t for t in ("web_events", "match_history", "exporters", "buyers")
        if not has_data(Path(paths[t]))
    ]  # fmt: skip
    if missing:
        raise NotReady(f"no curated {', '.join(missing)} yet: run `exportintel etl` first")
    for table in MATCHING_INPUTS.writes:
        paths[table] = str(lake.mirror(table).folder)
    summary = derive_matching_inputs(spark_session("exportintel-local-matching"), paths)
    for table in MATCHING_INPUTS.writes:
        lake.publish(table)
    return summary


def write_channel(lake: LocalLake, folder: Path) -> Path:
    """The training channel (`interactions.parquet`, `exporters.parquet`, `buyers.parquet`)
    from the derived tables in the lake."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for table, name in CHANNEL_FILES.items():
        source = lake.pull(table)
        if not has_data(source):
            raise NotReady(f"no {table} table yet: run `exportintel derive matching`")
        data = pq.read_table(source, partitioning=None)
        data = data.drop_columns([c for c in data.column_names if c in LEFT_OUT])
        pq.write_table(data, folder / name, compression="snappy")
    return folder


def training_arguments(settings: EnvironmentSettings) -> list[str]:
    """The training job's arguments (SageMaker hyperparameters) from the settings."""
    return [
        "--candidates", str(settings.matching_candidates),
        "--shown", str(settings.matching_shown),
    ]  # fmt: skip


def scoring_arguments(settings: EnvironmentSettings) -> list[str]:
    return [
        "--k", str(settings.matching_candidates),
        "--shown", str(settings.matching_shown),
        "--explore", str(settings.matching_explore),
        "--explain-top", str(settings.matching_explained_ranks),
    ]  # fmt: skip


def train(
    lake: LocalLake, settings: EnvironmentSettings, *, job_name: str | None = None
) -> models.TrainedModel:
    """The training job over the derived tables; the model becomes the current one. Its
    held-out tables are `output_text("evaluation.txt")`."""
    return models.train(
        lake,
        MODEL,
        channels=lambda inputs: {"train": write_channel(lake, inputs / "train")},
        arguments=training_arguments(settings),
        job_name=job_name,
    )


def score(lake: LocalLake, settings: EnvironmentSettings) -> models.SummarisedScoreRun:
    """The scoring job with the current model: both directions' stored lists, kept under the
    version's `scores/` (`publish` makes them the `recommendations` table)."""

    from exportintel.matching.scoring import OUTPUT_FILES

    files = [*OUTPUT_FILES.values(), "scoring.json"]
    version, folders = models.score(
        lake, MODEL, channels={}, arguments=scoring_arguments(settings), outputs=files
    )
    return models.SummarisedScoreRun.read(version, folders)


def publish(lake: LocalLake, run: models.SummarisedScoreRun) -> int:
    """Replace the `recommendations` table with the run's lists; returns their rows."""
    from exportintel.pipeline.load import publish_recommendations

    return len(publish_recommendations(lake, run.folders.output_data))


def sample_matches(lake: LocalLake, *, exporters: int = 2, shown: int = 5) -> list[dict[str, Any]]:
    """What staff would see for a few exporters: the drawn recommendations with their reasons,
    from the `recommendations` table (the exporters with the most stored candidates first)."""
    import pandas as pd

    folder = lake.pull("recommendations")
    if not has_data(folder):
        raise NotReady("no recommendations table yet: run `exportintel score matching`")
    table = pd.read_parquet(folder, partitioning=None)
    lists = table[(table["direction"] == "buyers_for_exporter") & table["shown_rank"].notna()]
    chosen = lists["exporter_id"].value_counts().sort_index(kind="stable").index[:exporters]
    samples = []
    for exporter in chosen:
        rows = lists[lists["exporter_id"] == exporter].sort_values("shown_rank").head(shown)
        samples.append({"exporter_id": exporter, "matches": rows.to_dict("records")})
    return samples


def describe_recommendations(on_line: Callable[[str], None], samples: list[dict[str, Any]]) -> None:
    for sample in samples:
        on_line(f"buyers shown to exporter {sample['exporter_id']}:")
        for row in sample["matches"]:
            reasons = "; ".join(row["reasons_en"]) if row["reasons_en"] is not None else ""
            on_line(
                f"  {int(row['shown_rank']):>2}. buyer {row['buyer_id']}  score "
                f"{row['score']:.3f} (stored rank {row['rank']})  {reasons}"
            )
