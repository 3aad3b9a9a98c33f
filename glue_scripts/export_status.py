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

import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from exportintel.continuity.derive import derive_export_status, job_arguments, table_paths
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session
    from exportintel.glue_jobs import EXPORT_STATUS

    args = job_arguments(EXPORT_STATUS, argv)
    summary = derive_export_status(
        spark_session("derive-export_status"),
        table_paths(args, EXPORT_STATUS),
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
