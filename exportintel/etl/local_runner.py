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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exportintel.contracts.model import Contract
from exportintel.contracts.registry import all_contracts, get_contract
from exportintel.etl.curate import RunSummary, curate_dataset
from exportintel.resources import Resources

QUARANTINE = "quarantine"
SUMMARY_PREFIX = "etl-runs"


@dataclass(frozen=True)
class Mirror:
    """An S3 prefix and the local folder that mirrors it."""

    bucket: str
    prefix: str  # ends with "/"
    folder: Path

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def _remote(s3: Any, mirror: Mirror) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=mirror.bucket, Prefix=mirror.prefix
    ):
        for item in page.get("Contents", []):
            sizes[item["Key"]] = item["Size"]
    return sizes


def pull(s3: Any, mirror: Mirror) -> int:
    """Make the folder a copy of the prefix: download the objects not yet mirrored (same key
    and size), delete local data files the prefix no longer holds (a lake rebuilt from
    scratch must not meet the last run's files). Returns the object count."""
    remote = _remote(s3, mirror)
    for key, size in remote.items():
        if key.endswith("/"):
            continue
        target = mirror.folder / key.removeprefix(mirror.prefix)
        if target.is_file() and target.stat().st_size == size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(mirror.bucket, key, str(target))
    if mirror.folder.is_dir():
        for path in mirror.folder.rglob("*"):
            hidden = path.name.startswith((".", "_"))  # Spark's checksums and markers
            key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
            if path.is_file() and not hidden and key not in remote:
                path.unlink()
    return len(remote)


def push(s3: Any, mirror: Mirror) -> int:
    """Upload the data files the run added (Spark's `_SUCCESS` and checksums stay local)."""
    remote = _remote(s3, mirror)
    uploaded = 0
    for path in sorted(mirror.folder.rglob("*.parquet")):
        key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
        if key not in remote:
            s3.upload_file(str(path), mirror.bucket, key)
            uploaded += 1
    return uploaded


def publish(s3: Any, mirror: Mirror) -> int:
    """Replace the prefix with the folder's data files: a derived table is rewritten whole,
    so objects the new run did not write must go. Returns the files uploaded."""
    stale = set(_remote(s3, mirror))
    uploaded = 0
    for path in sorted(mirror.folder.rglob("*.parquet")):
        key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
        s3.upload_file(str(path), mirror.bucket, key)
        stale.discard(key)
        uploaded += 1
    for start in range(0, len(stale), 1000):
        batch = sorted(stale)[start : start + 1000]
        s3.delete_objects(
            Bucket=mirror.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
    return uploaded


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
