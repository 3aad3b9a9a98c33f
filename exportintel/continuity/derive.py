"""The continuity Glue jobs' bodies: curated tables in, a derived table out, a summary back.

The Glue entry points (`glue_scripts/export_status.py`, `continuity_features.py`) and the local
runner call these same functions, so the jobs cannot drift apart. Paths are S3 URIs in Glue
and local folders offline.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from exportintel.glue_jobs import CONTINUITY_FEATURES, EXPORT_STATUS

STATUS_INPUTS = EXPORT_STATUS.reads
FEATURE_INPUTS = CONTINUITY_FEATURES.reads


def observation_window(parser: argparse.ArgumentParser) -> None:
    """The continuity jobs' own options: the observed data years."""
    parser.add_argument("--first-year", type=int, help="default: first year of export_history")
    parser.add_argument("--last-year", type=int, help="default: last year of export_history")


def derive_export_status(
    spark: SparkSession,
    paths: Mapping[str, str],
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> dict[str, Any]:
    """Replace the `export_status` table (at `paths["export_status"]`); returns row counts
    per year and status."""
    output = paths["export_status"]
    from exportintel.continuity.status import export_status_frame
    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract

    contract = get_contract("export_status")
    status = export_status_frame(
        read_table(spark, "export_history", paths["export_history"]),
        read_table(spark, "exporters", paths["exporters"]),
        first_observed_year=first_year,
        last_observed_year=last_year,
    )
    write_table(status, contract, output)
    written = read_table(spark, contract, output)
    counts = {
        f"{row['year']}/{row['status']}": row["count"]
        for row in written.groupBy("year", "status").count().orderBy("year", "status").collect()
    }
    return {"dataset": contract.name, "rows": sum(counts.values()), "by_year_and_status": counts}


def derive_features(
    spark: SparkSession,
    paths: Mapping[str, str],
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> dict[str, Any]:
    """Replace the `continuity_features` table (at `paths["continuity_features"]`); returns
    rows and labelled rows per year."""
    output = paths["continuity_features"]
    from exportintel.continuity.features import FeatureInputs, build_features
    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract

    contract = get_contract("continuity_features")
    tables = {table: read_table(spark, table, paths[table]) for table in FEATURE_INPUTS}
    features = build_features(
        FeatureInputs(**tables), first_observed_year=first_year, last_observed_year=last_year
    )
    write_table(features, contract, output)
    written = read_table(spark, contract, output)
    by_year = {
        str(row["year"]): {"rows": row["rows"], "labelled": row["labelled"]}
        for row in written.groupBy("year")
        .agg(F.count(F.lit(1)).alias("rows"), F.count("label").alias("labelled"))
        .orderBy("year")
        .collect()
    }
    return {
        "dataset": contract.name,
        "rows": sum(v["rows"] for v in by_year.values()),
        "labelled": sum(v["labelled"] for v in by_year.values()),
        "by_year": by_year,
    }
