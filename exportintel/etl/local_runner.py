"""Run the curation job offline: stage S3 objects to local folders, run Spark, stage back.

Local Spark cannot read `s3://` (the hadoop-aws jars are not reachable offline), so the runner
plays the part of Glue's S3 connector: it mirrors a dataset's raw objects and its current
curated and quarantine folders from the (emulated) S3 into a work folder, runs the very
function the Glue job runs (`curate_dataset`) in one Spark session for all datasets, then
uploads the Parquet files the run added. The job's logic never knows the difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from exportintel.contracts.model import Contract
from exportintel.contracts.registry import all_contracts, get_contract
from exportintel.etl.curate import RunSummary, curate_dataset
from exportintel.etl.staging import Mirror, publish, pull, push
from exportintel.resources import Resources

__all__ = ["Mirror", "curate_folder", "publish", "pull", "push", "run_local_etl", "sources"]

QUARANTINE = "quarantine"
SUMMARY_PREFIX = "etl-runs"


def sources(datasets: Sequence[str] | None) -> list[Contract]:
    """The contracts to curate: the named ones, or every source that lands in raw."""
    if datasets:
        return [get_contract(name) for name in datasets]
    return [c for c in all_contracts() if c.lands_in_raw]


def run_local_etl(
    *,
    resources: Resources,
    workdir: Path,
    key: bytes,
    datasets: Sequence[str] | None = None,
    run_id: str | None = None,
    on_dataset: Callable[[RunSummary], None] | None = None,
) -> list[RunSummary]:
    """Curate each dataset from the (emulated) S3 lake; summaries go to the artifacts bucket."""
    import boto3

    from exportintel.etl.session import spark_session

    s3 = boto3.client("s3")
    run_id = run_id or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    spark = spark_session("exportintel-local-etl")
    quarantine = Mirror(resources.quarantine_bucket, f"{QUARANTINE}/", workdir / QUARANTINE)
    pull(s3, quarantine)
    summaries = []
    for contract in sources(datasets):
        raw = Mirror(resources.raw_bucket, f"{contract.name}/", workdir / "raw" / contract.name)
        curated = Mirror(
            resources.curated_bucket, f"{contract.name}/", workdir / "curated" / contract.name
        )
        if pull(s3, raw) == 0:
            summary = RunSummary(dataset=contract.name, run_id=run_id)
        else:
            pull(s3, curated)
            summary = curate_dataset(
                spark,
                contract=contract,
                raw_path=str(raw.folder),
                curated_path=str(curated.folder),
                quarantine_path=str(quarantine.folder),
                key=key,
                run_id=run_id,
                source_uri=(str(raw.folder), raw.uri),
            )
            push(s3, curated)
            push(s3, quarantine)
        s3.put_object(
            Bucket=resources.artifacts_bucket,
            Key=f"{SUMMARY_PREFIX}/{run_id}/{contract.name}.json",
            Body=summary.to_json().encode("utf-8"),
        )
        summaries.append(summary)
        if on_dataset is not None:
            on_dataset(summary)
    return summaries


def curate_folder(
    spark: Any,
    *,
    data: Path,
    lake: Path,
    key: bytes,
    datasets: Sequence[str],
    run_id: str = "folder",
) -> dict[str, RunSummary]:
    """Curate generated JSON lines (`data/<dataset>/`) straight into `lake/curated/<dataset>`,
    without S3: for benchmarks and model tests, which need curated tables of several data
    sets and not the delivery path."""
    summaries = {}
    for contract in sources(datasets):
        summaries[contract.name] = curate_dataset(
            spark,
            contract=contract,
            raw_path=str(data / contract.name),
            curated_path=str(lake / "curated" / contract.name),
            quarantine_path=str(lake / QUARANTINE),
            key=key,
            run_id=run_id,
        )
    return summaries
