"""`exportintel etl | query`: curate the lake and ask it questions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exportintel.cli import target


def _etl(args: argparse.Namespace) -> int:
    from exportintel.etl.curate import ReconciliationError, RunSummary
    from exportintel.etl.io import pseudonymisation_key
    from exportintel.etl.local_runner import run_local_etl

    resources = target.resolve(None)
    workdir = Path(args.workdir) if args.workdir else target.state_dir() / "work"

    def report(summary: RunSummary) -> None:
        print(render_summary(summary), flush=True)

    print(f"{'dataset':<20}{'read':>10}{'written':>10}{'quarantined':>13}{'duplicates':>12}")
    try:
        run_local_etl(
            resources=resources,
            workdir=workdir,
            key=pseudonymisation_key(resources.pseudonymisation_secret),
            datasets=args.datasets,
            on_dataset=report,
        )
    except ReconciliationError as error:
        print(f"the counts do not reconcile, nothing was published:\n{error}", file=sys.stderr)
        return 2
    print(f"run summaries: s3://{resources.artifacts_bucket}/etl-runs/")
    return 0


def render_summary(summary: Any) -> str:
    reasons = ", ".join(f"{k} x{v}" for k, v in sorted(summary.quarantined_by_reason.items()))
    check = "ok" if summary.reconciled else "MISMATCH"
    line = (
        f"{summary.dataset:<20}{summary.read:>10,}{summary.written:>10,}"
        f"{summary.quarantined:>13,}{summary.duplicates:>12,}  {check}"
    )
    return line + (f"\n{'':<20}quarantined: {reasons}" if reasons else "")


def _query(args: argparse.Namespace) -> int:
    from exportintel.queries import get_named_query, named_queries
    from exportintel.query import QueryError, glue_resolver, render, run_athena, run_local

    if args.list:
        for query in named_queries():
            print(f"{query.name:<36}{query.description}")
        return 0
    if bool(args.sql) == bool(args.named):
        print("give either SQL or --named NAME (see --list)", file=sys.stderr)
        return 2
    try:
        sql = get_named_query(args.named).sql if args.named else args.sql
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    resources = target.resolve(args.stack_outputs)
    try:
        if args.athena:
            table = run_athena(sql, resources)
        else:
            table = run_local(sql, glue_resolver(resources.curated_database))
    except QueryError as error:
        print(f"query error: {error}", file=sys.stderr)
        return 2
    if args.format == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
    elif args.format == "json":
        import json

        json.dump(table.to_pylist(), sys.stdout, default=str, ensure_ascii=False, indent=1)
        print()
    else:
        print(render(table, limit=args.limit))
    return 0


def register(commands: Any) -> None:
    etl = commands.add_parser(
        "etl", help="curate raw into the lake with local Spark (the Glue job's code)"
    )
    etl.add_argument("--datasets", nargs="+", help="only these datasets (default: all sources)")
    etl.add_argument("--workdir", help="local staging folder (default: .local/work)")
    etl.set_defaults(run=_etl)

    query = commands.add_parser(
        "query", help="run Athena SQL on the curated lake (DuckDB locally, or --athena)"
    )
    query.add_argument("sql", nargs="?", help="Athena (Trino) SQL")
    query.add_argument("--named", help="run one of the analysts' named queries")
    query.add_argument("--list", action="store_true", help="list the named queries")
    query.add_argument("--athena", action="store_true", help="run on Athena in AWS")
    query.add_argument("--stack-outputs", help="`cdk deploy --outputs-file` JSON (with --athena)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--limit", type=int, default=20, help="rows shown as a table")
    query.set_defaults(run=_query)
