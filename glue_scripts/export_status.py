"""Glue job: the export status of every firm in every analysis year (the three-year rule).

Reads the curated `export_history` and `exporters` tables and replaces the derived
`export_status` table (partitioned by year). The rule is `exportintel.continuity.status`.

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored):
  --export-history-path  curated export_history folder (S3 URI or local folder)
  --exporters-path       curated exporters folder
  --output-path          the export_status table's folder (replaced)
  --first-year           first observed data year (default: the first year of export_history)
  --last-year            last observed data year (default: the last year of export_history)
  --summary-path         optional: where the run summary JSON goes (S3 URI or local file)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("export-history-path", "exporters-path", "output-path"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--first-year", type=int)
    parser.add_argument("--last-year", type=int)
    parser.add_argument("--summary-path")
    args, _glue_arguments = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str]) -> int:
    from exportintel.continuity.status import export_status_frame
    from exportintel.continuity.tables import read_table, write_table
    from exportintel.contracts import get_contract
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session

    args = parse_args(argv)
    contract = get_contract("export_status")
    spark = spark_session(f"derive-{contract.name}")
    status = export_status_frame(
        read_table(spark, "export_history", args.export_history_path),
        read_table(spark, "exporters", args.exporters_path),
        first_observed_year=args.first_year,
        last_observed_year=args.last_year,
    )
    write_table(status, contract, args.output_path)

    written = read_table(spark, contract, args.output_path)
    counts = {
        f"{row['year']}/{row['status']}": row["count"]
        for row in written.groupBy("year", "status").count().orderBy("year", "status").collect()
    }
    summary = json.dumps(
        {"dataset": contract.name, "rows": sum(counts.values()), "by_year_and_status": counts},
        indent=2,
    )
    if args.summary_path:
        write_text(args.summary_path, summary)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
