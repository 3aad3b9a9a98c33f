"""Glue job: the export status of every firm in every analysis year (the three-year rule).

Reads the curated `export_history` and `exporters` tables and replaces the derived
`export_status` table (partitioned by year). The rule is `exportintel.continuity.status`, the
job body `exportintel.continuity.derive.derive_export_status`.

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored):
  --export-history-path  curated export_history folder (S3 URI or local folder)
  --exporters-path       curated exporters folder
  --export-status-path   the export_status table's folder (replaced)
  --first-year           first observed data year (default: the first year of export_history)
  --last-year            last observed data year (default: the last year of export_history)
  --summary-path         optional: where the run summary JSON goes (S3 URI or local file)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from exportintel.continuity.derive import derive_export_status, observation_window
    from exportintel.etl.derived_job import run_derived_job
    from exportintel.glue_jobs import EXPORT_STATUS

    return run_derived_job(
        EXPORT_STATUS,
        argv,
        lambda spark, paths, args: derive_export_status(
            spark, paths, first_year=args.first_year, last_year=args.last_year
        ),
        observation_window,
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
