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

import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from exportintel.continuity.derive import derive_features, job_arguments, table_paths
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session
    from exportintel.glue_jobs import CONTINUITY_FEATURES

    args = job_arguments(CONTINUITY_FEATURES, argv)
    summary = derive_features(
        spark_session("derive-continuity_features"),
        table_paths(args, CONTINUITY_FEATURES),
        first_year=args.first_year,
        last_year=args.last_year,
    )
    text = json.dumps(summary, indent=2)
    if args.summary_path:
        write_text(args.summary_path, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
