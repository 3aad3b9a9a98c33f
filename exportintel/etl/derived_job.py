"""The entry point every derived-table Glue script shares.

Glue-style arguments (one `--<table>-path` per table the job reads or writes, the job's own
options, an optional `--summary-path`), the job body under a Spark session, and the run
summary written and printed. Arguments Glue adds on its own (`--JOB_NAME`, bookmarks,
metrics) are ignored.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from exportintel.glue_jobs import DerivedJob, path_option

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Body = Callable[["SparkSession", Mapping[str, str], argparse.Namespace], dict[str, Any]]


def job_arguments(
    job: DerivedJob,
    argv: Sequence[str],
    add_options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=job.script, description=job.description)
    for table in job.tables:
        parser.add_argument(path_option(table), required=True)
    if add_options is not None:
        add_options(parser)
    parser.add_argument("--summary-path", help="where the run summary JSON goes (optional)")
    args, _glue_arguments = parser.parse_known_args(argv)
    return args


def table_paths(args: argparse.Namespace, job: DerivedJob) -> dict[str, str]:
    return {table: getattr(args, f"{table}_path") for table in job.tables}


def run_derived_job(
    job: DerivedJob,
    argv: Sequence[str],
    body: Body,
    add_options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Parse `argv`, run `body(spark, paths, args)`, write and print its summary."""
    from exportintel.etl.io import write_text
    from exportintel.etl.session import spark_session

    args = job_arguments(job, argv, add_options)
    summary = body(spark_session(f"derive-{job.name}"), table_paths(args, job), args)
    text = json.dumps(summary, indent=2)
    if args.summary_path:
        write_text(args.summary_path, text)
    print(text)
    return 0
