"""The matching-inputs Glue job's body: curated tables in, interactions and side features out.

`glue_scripts/matching_inputs.py` and the local runner call this same function. Paths are S3
URIs in Glue and local folders offline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from exportintel.glue_jobs import MATCHING_INPUTS


def derive_matching_inputs(
    spark: SparkSession, paths: Mapping[str, str], *, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Replace the `interactions`, `matching_exporters` and `matching_buyers` tables (at their
    `paths`); returns the run summary. `as_of` dates the side features (default: the last
    date of fx_rates)."""
    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract
    from exportintel.matching.interactions import interactions_frame, web_interactions_frame
    from exportintel.matching.sides import default_as_of

    tables = read_inputs(spark, paths)
    as_of = as_of or default_as_of(tables["fx_rates"])

    outputs = {
        "interactions": interactions_frame(tables["web_events"], tables["match_history"]),
        **side_frames(tables, as_of),
    }
    for name, frame in outputs.items():
        write_table(frame, get_contract(name), paths[name])

    written = {name: read_table(spark, name, paths[name]) for name in MATCHING_INPUTS.writes}
    by_kind = {
        f"{row['source']}/{row['event_type']}/{row['actor']}": row["count"]
        for row in written["interactions"]
        .groupBy("source", "event_type", "actor")
        .count()
        .orderBy("source", "event_type", "actor")
        .collect()
    }
    buyers = (
        written["matching_buyers"]
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.count("fx_change").alias("with_fx_change"),
            F.sum(F.col("bad_credit").cast("int")).alias("bad_credit"),
        )
        .first()
    )
    exporters = (
        written["matching_exporters"]
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.count("figures_year").alias("with_figures"),
            F.count("credit_grade").alias("with_credit_grade"),
            F.count("raw_material_change").alias("with_raw_material_change"),
        )
        .first()
    )
    # Web events read, those that are pair interactions, and those kept: the difference is
    # the ratings that restate a match_history rating.
    web_pairs = web_interactions_frame(tables["web_events"]).count()
    web_kept = sum(n for kind, n in by_kind.items() if kind.startswith("web_events/"))
    summary: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "interactions": {
            "rows": sum(by_kind.values()),
            "web_events_read": tables["web_events"].count(),
            "web_pair_interactions": web_pairs,
            "web_ratings_restating_match_history": web_pairs - web_kept,
            "by_source_event_type_actor": by_kind,
        },
        "matching_exporters": exporters.asDict() if exporters else {},
        "matching_buyers": buyers.asDict() if buyers else {},
    }
    return summary


def read_inputs(spark: SparkSession, paths: Mapping[str, str]) -> dict[str, DataFrame]:
    """The curated tables the job reads, by name."""
    from exportintel.continuity.tables import read_table

    return {table: read_table(spark, table, paths[table]) for table in MATCHING_INPUTS.reads}


def side_frames(tables: Mapping[str, DataFrame], as_of: dt.date) -> dict[str, DataFrame]:
    """`matching_exporters` and `matching_buyers` as known on `as_of` (an evaluation builds
    them as of its cutoff, so no side feature comes from the held-out period)."""
    from exportintel.matching.sides import buyer_sides, exporter_sides

    return {
        "matching_exporters": exporter_sides(
            tables["exporters"],
            tables["firm_financials"],
            tables["credit_evaluations"],
            tables["commodity_prices"],
            as_of=as_of,
        ),
        "matching_buyers": buyer_sides(tables["buyers"], tables["fx_rates"], as_of=as_of),
    }
