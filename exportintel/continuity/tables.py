"""Curated tables in, derived tables out, each as its contract declares it.

Paths are S3 URIs in Glue and local folders offline; nothing here tells them apart.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from exportintel.contracts.model import Contract
from exportintel.contracts.registry import get_contract
from exportintel.contracts.schemas import arrow_schema, spark_ddl
from exportintel.contracts.tables import curated_columns


def read_table(spark: SparkSession, contract: Contract | str, path: str) -> DataFrame:
    """A curated table with its declared types (partition values included), never inferred."""
    contract = get_contract(contract) if isinstance(contract, str) else contract
    return spark.read.schema(spark_ddl(arrow_schema(contract))).parquet(path)


def conform(frame: DataFrame, contract: Contract) -> DataFrame:
    """The contract's columns in contract order, cast to their declared types, plus the
    partition key derived from its (year) source field."""
    # Glue column types (string, int, double, boolean, ...) are Spark SQL types as well.
    columns = [F.col(c.name).cast(c.type).alias(c.name) for c in curated_columns(contract)]
    if contract.partition_key is not None:
        if contract.partition_granularity != "year":
            raise ValueError(f"{contract.name}: derived tables are partitioned by a year field")
        source = F.col(str(contract.partition_source)).cast("int")
        columns.append(source.alias(contract.partition_key))
    return frame.select(*columns)


def write_table(frame: DataFrame, contract: Contract, path: str) -> None:
    """Replace the table: a derived table is recomputed whole from the curated inputs, so a
    partition merge (as curation needs for batches of the same day) would only keep stale rows.
    """
    frame = conform(frame, contract)
    writer = frame
    if contract.partition_key is not None:
        # One task per partition value: one file per partition, not one per core.
        writer = frame.repartition(contract.partition_key)
    out = writer.write.mode("overwrite").option("compression", "snappy")
    if contract.partition_key is not None:
        out = out.partitionBy(contract.partition_key)
    out.parquet(path)
