"""Raw to curated for one contract dataset, as DataFrame functions (Glue 5.1 = Spark 3.5).

Validation and personal-data treatment run in Python over Arrow batches (`curation.curate_line`,
the same rules the API applies); dedupe, merge and writes stay in Spark. Nothing here knows
whether paths are S3 URIs (Glue) or local folders (the offline runner).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from exportintel.contracts.model import Contract
from exportintel.contracts.registry import get_contract
from exportintel.contracts.schemas import arrow_schema, spark_ddl
from exportintel.curation import curate_line, partition_value

META = (
    pa.field("_reason", pa.string()),
    pa.field("_reason_code", pa.string()),
    pa.field("_safe_text", pa.string()),
    pa.field("_source_file", pa.string()),
    pa.field("_line_hash", pa.string()),
)
# Rows per Parquet file: large enough for Athena to scan efficiently (hundreds of MB at most).
MAX_RECORDS_PER_FILE = 2_000_000


class ReconciliationError(RuntimeError):
    """Counts do not add up: some records would be lost. The run must not be trusted."""


@dataclass
class RunSummary:
    dataset: str
    run_id: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    duplicates: int = 0  # repeated within the batch or already curated by an earlier run
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    partitions_written: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return self.read == self.written + self.quarantined + self.duplicates

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "reconciled": self.reconciled}, indent=2)


def _outcome_schema(contract: Contract) -> pa.Schema:
    return pa.schema([*arrow_schema(contract), *META])


def curate_lines(lines: DataFrame, contract: Contract, key: bytes) -> DataFrame:
    """Raw lines (`value`, `_source_file`) to typed, treated rows plus rejection columns."""
    schema = _outcome_schema(contract)

    def curate_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = []
            for raw in batch.to_pylist():
                line = raw["value"]
                outcome = curate_line(contract, line, key)
                row: dict[str, Any] = dict(outcome.record or {})
                row["_reason"] = outcome.reason
                row["_reason_code"] = outcome.reason_code
                row["_safe_text"] = outcome.safe_text
                row["_source_file"] = raw["_source_file"]
                row["_line_hash"] = hashlib.sha256(line.encode("utf-8")).hexdigest()
                rows.append(row)
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    return lines.mapInArrow(curate_batches, spark_ddl(schema))


def read_raw_lines(
    spark: SparkSession, raw_path: str, source_uri: tuple[str, str] | None = None
) -> DataFrame:
    """Every non-blank line under `raw_path` with the object it came from.

    `source_uri` = (local folder, S3 URI) names sources by their S3 location when the raw
    objects were staged to a local folder first (the offline runner).
    """
    lines = spark.read.option("recursiveFileLookup", "true").text(raw_path)
    source = F.input_file_name()
    if source_uri is not None:
        folder, uri = source_uri
        # \\Q..\\E quotes the folder for Java's regex engine.
        pattern = "^(file:)?(//)?\\Q" + str(Path(folder).resolve()) + "\\E/?"
        source = F.regexp_replace(source, pattern, uri.rstrip("/") + "/")
    return lines.where(F.trim("value") != "").withColumn("_source_file", source)


def read_existing_keys(
    spark: SparkSession, path: str, contract: Contract, partitions: list[Any] | None = None
) -> DataFrame | None:
    """Primary keys already stored, in the given partitions only (None: nothing stored yet)."""
    try:
        # The contract's schema, not inference: partition values keep their declared types.
        existing = spark.read.schema(spark_ddl(arrow_schema(contract))).parquet(path)
    except AnalysisException:
        return None
    if contract.partition_key is not None and partitions is not None:
        existing = existing.where(F.col(contract.partition_key).isin(partitions))
    return existing.select(*contract.primary_key)


def _append_new(
    spark: SparkSession, rows: DataFrame, path: str, contract: Contract, *, prune: bool = False
) -> tuple[int, list[Any]]:
    """Append the rows whose primary key is not stored yet: (rows appended, partitions).

    `prune` limits the existing-key scan to the partitions the rows fall in (a replayed
    record always lands in the same partition as its first copy).
    """
    key = list(contract.primary_key)
    unique = rows.dropDuplicates(key)
    partitions: list[Any] | None = None
    if prune and contract.partition_key is not None:
        partitions = [r[0] for r in unique.select(contract.partition_key).distinct().collect()]
    existing = read_existing_keys(spark, path, contract, partitions)
    new = unique if existing is None else unique.join(existing, key, "left_anti")
    # Materialise first: the anti-join reads the very folder the write appends to.
    new = new.select(*rows.columns).localCheckpoint(eager=True)
    count = new.count()
    if count:
        _write(new, path, contract.partition_key)
    return count, sorted(partitions or [])


def quarantine_rows(rejected: DataFrame, contract: Contract, run_id: str) -> DataFrame:
    now = dt.datetime.now(dt.UTC)
    quarantine = get_contract("quarantine")
    day = partition_value(quarantine, {"quarantined_at": now})
    return rejected.select(
        F.lit(contract.name).alias("dataset"),
        F.lit(run_id).alias("run_id"),
        F.col("_reason_code").alias("reason_code"),
        F.col("_reason").alias("reason"),
        F.col("_source_file").alias("source_file"),
        F.col("_safe_text").alias("record"),
        F.col("_line_hash").alias("record_hash"),
        F.lit(now).cast("timestamp").alias("quarantined_at"),
        F.lit(day).alias("quarantine_date"),
    )


def _write(frame: DataFrame, path: str, partition_key: str | None) -> None:
    if partition_key is not None:
        # One task per partition value: one file per partition per run, not one per core.
        frame = frame.repartition(partition_key)
    writer = frame.write.mode("append").option("compression", "snappy")
    writer = writer.option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
    if partition_key is not None:
        writer = writer.partitionBy(partition_key)
    writer.parquet(path)


def curate_dataset(
    spark: SparkSession,
    *,
    contract: Contract,
    raw_path: str,
    curated_path: str,
    quarantine_path: str,
    key: bytes,
    run_id: str,
    source_uri: tuple[str, str] | None = None,
) -> RunSummary:
    """Validate, treat, dedupe and append one dataset's raw batch; fail unless counts reconcile.

    Merging, not overwriting: rows whose primary key is already curated are counted as
    duplicates and skipped, new rows are appended to their partitions. Replaying a batch adds
    nothing; a second batch of the same day keeps the first.
    """
    summary = RunSummary(dataset=contract.name, run_id=run_id)
    lines = read_raw_lines(spark, raw_path, source_uri)
    outcomes = curate_lines(lines, contract, key).persist()
    try:
        # Counted on the input, not on the outcomes: a record lost in between must show.
        summary.read = lines.count()
        rejected = outcomes.where(F.col("_reason").isNotNull())
        summary.quarantined_by_reason = {
            row["_reason_code"]: row["count"]
            for row in rejected.groupBy("_reason_code").count().collect()
        }
        summary.quarantined = sum(summary.quarantined_by_reason.values())
        if summary.quarantined:
            _append_new(spark, quarantine_rows(rejected, contract, run_id), quarantine_path,
                        get_contract("quarantine"))  # fmt: skip

        good = outcomes.where(F.col("_reason").isNull())
        good = good.select(*arrow_schema(contract).names)
        accepted = good.count()
        summary.written, partitions = _append_new(spark, good, curated_path, contract, prune=True)
        summary.duplicates = accepted - summary.written
        summary.partitions_written = [str(p) for p in partitions] if summary.written else []
    finally:
        outcomes.unpersist()
    if not summary.reconciled:
        raise ReconciliationError(summary.to_json())
    return summary
