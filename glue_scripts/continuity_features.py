"""Glue job: leak-free continuity features of every firm-year with exports, with the label.

Reads the curated tables and the derived `export_status` table (run `export_status.py`
first) and replaces the derived `continuity_features` table (partitioned by year). The
features are `exportintel.continuity.features`, the label `exportintel.continuity.target`.

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored), one folder per
table (S3 URIs in Glue, local folders offline):
  --export-history-path --exporters-path --firm-financials-path --credit-evaluations-path
  --fx-rates-path --commodity-prices-path --country-risk-path --trade-flows-path
  --export-status-path   the inputs
  --output-path          the continuity_features table's folder (replaced)
  --first-year           first observed data year (default: the first year of export_history)
  --last-year            last observed data year (default: the last year of export_history)
  --summary-path         optional: where the run summary JSON goes (S3 URI or local file)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

INPUTS = (
    "export_history",
    "exporters",
    "firm_financials",
    "credit_evaluations",
    "fx_rates",
    "commodity_prices",
    "country_risk",
    "trade_flows",
    "export_status",
)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for table in INPUTS:
        parser.add_argument(f"--{table.replace('_', '-')}-path", required=True)
    parser.add_argument("--output-path", required=True)
    parser.add_argument("--first-year", type=int)
    parser.add_argument("--last-year", type=int)
    parser.add_argument("--summary-path")
    args, _glue_arguments = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str]) -> int:
    from pyspark.sql import functions as F

    from exportintel.continuity.features import FeatureInputs, build_features
    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session

    args = parse_args(argv)
    contract = get_contract("continuity_features")
    spark = spark_session(f"derive-{contract.name}")
    tables = {table: read_table(spark, table, getattr(args, f"{table}_path")) for table in INPUTS}
    features = build_features(
        FeatureInputs(**tables),
        first_observed_year=args.first_year,
        last_observed_year=args.last_year,
    )
    write_table(features, contract, args.output_path)

    written = read_table(spark, contract, args.output_path)
    by_year = {
        str(row["year"]): {"rows": row["rows"], "labelled": row["labelled"]}
        for row in written.groupBy("year")
        .agg(F.count(F.lit(1)).alias("rows"), F.count("label").alias("labelled"))
        .orderBy("year")
        .collect()
    }
    summary = json.dumps(
        {
            "dataset": contract.name,
            "rows": sum(v["rows"] for v in by_year.values()),
            "labelled": sum(v["labelled"] for v in by_year.values()),
            "by_year": by_year,
        },
        indent=2,
    )
    if args.summary_path:
        write_text(args.summary_path, summary)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
