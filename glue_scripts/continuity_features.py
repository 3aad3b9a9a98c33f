"""Glue job: leak-free continuity features of every firm-year with exports, with the label.

Reads the curated tables and the derived `export_status` table (run `export_status.py`
first) and replaces the derived `continuity_features` table (partitioned by year). The
features are `exportintel.continuity.features`, the label `exportintel.continuity.target`,
the job body `exportintel.continuity.derive.derive_features`.

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored), one folder per
table (S3 URIs in Glue, local folders offline):
  --export-history-path --exporters-path --firm-financials-path --credit-evaluations-path
  --fx-rates-path --commodity-prices-path --country-risk-path --trade-flows-path
  --export-status-path   the inputs
  --continuity-features-path  the continuity_features table's folder (replaced)
  --first-year           first observed data year (default: the first year of export_history)
  --last-year            last observed data year (default: the last year of export_history)
  --summary-path         optional: where the run summary JSON goes (S3 URI or local file)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from exportintel.continuity.derive import derive_features, observation_window
    from exportintel.etl.derived_job import run_derived_job
    from exportintel.glue_jobs import CONTINUITY_FEATURES

    return run_derived_job(
        CONTINUITY_FEATURES,
        argv,
        lambda spark, paths, args: derive_features(
            spark, paths, first_year=args.first_year, last_year=args.last_year
        ),
        observation_window,
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
