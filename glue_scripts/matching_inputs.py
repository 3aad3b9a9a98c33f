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
import sys
from collections.abc import Sequence


def as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=dt.date.fromisoformat)


def main(argv: Sequence[str]) -> int:
    from exportintel.etl.derived_job import run_derived_job
    from exportintel.glue_jobs import MATCHING_INPUTS
    from exportintel.matching.derive import derive_matching_inputs

    return run_derived_job(
        MATCHING_INPUTS,
        argv,
        lambda spark, paths, args: derive_matching_inputs(spark, paths, as_of=args.as_of),
        as_of_option,
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
