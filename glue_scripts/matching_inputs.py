"""Glue job: the inputs of the exporter-buyer matching model, from the curated tables.

Replaces three derived tables: `interactions` (pair interactions of the web events and the
match history, weighted by their event's value, partitioned by year;
`exportintel.matching.interactions`), and `matching_exporters` and `matching_buyers` (one row
of side features per exporter and per buyer as of a date; `exportintel.matching.sides`).

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored), one folder per
table (S3 URIs in Glue, local folders offline):
  --web-events-path --match-history-path --exporters-path --buyers-path
  --firm-financials-path --credit-evaluations-path --fx-rates-path --commodity-prices-path
                               the curated inputs
  --interactions-path          the interactions table's folder (replaced)
  --matching-exporters-path    the matching_exporters table's folder (replaced)
  --matching-buyers-path       the matching_buyers table's folder (replaced)
  --as-of                      yyyy-MM-dd date of the side features (default: the last date
                               of fx_rates)
  --summary-path               optional: where the run summary JSON goes (S3 URI or local file)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

INPUTS = (
    "web_events",
    "match_history",
    "exporters",
    "buyers",
    "firm_financials",
    "credit_evaluations",
    "fx_rates",
    "commodity_prices",
)
OUTPUTS = ("interactions", "matching_exporters", "matching_buyers")


def _option(table: str) -> str:
    return f"--{table.replace('_', '-')}-path"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for table in (*INPUTS, *OUTPUTS):
        parser.add_argument(_option(table), required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--summary-path")
    args, _glue_arguments = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str]) -> int:
    from pyspark.sql import functions as F

    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session
    from exportintel.matching.interactions import interactions_frame, web_interactions_frame
    from exportintel.matching.sides import buyer_sides, default_as_of, exporter_sides

    args = parse_args(argv)
    spark = spark_session("derive-matching-inputs")
    tables = {table: read_table(spark, table, getattr(args, f"{table}_path")) for table in INPUTS}
    as_of: dt.date = args.as_of or default_as_of(tables["fx_rates"])

    outputs = {
        "interactions": interactions_frame(tables["web_events"], tables["match_history"]),
        "matching_exporters": exporter_sides(
            tables["exporters"],
            tables["firm_financials"],
            tables["credit_evaluations"],
            tables["commodity_prices"],
            as_of=as_of,
        ),
        "matching_buyers": buyer_sides(tables["buyers"], tables["fx_rates"], as_of=as_of),
    }
    for name, frame in outputs.items():
        write_table(frame, get_contract(name), getattr(args, f"{name}_path"))

    written = {name: read_table(spark, name, getattr(args, f"{name}_path")) for name in OUTPUTS}
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
    text = json.dumps(summary, indent=2)
    if args.summary_path:
        write_text(args.summary_path, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
