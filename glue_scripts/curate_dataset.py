"""Glue job: curate one contract dataset from raw JSON lines to Parquet, with quarantine.

Arguments (Glue style, `--name value`; unknown Glue arguments are ignored):
  --dataset          contract name, e.g. web_events
  --raw-path         raw objects to read (S3 URI or local folder)
  --curated-path     the dataset's curated folder
  --quarantine-path  the quarantine table's folder
  --summary-path     where the run summary JSON goes: a file, or a prefix ending with "/"
                     under which the run writes <run-id>/<dataset>.json
  --key-secret-id    Secrets Manager secret holding the pseudonymisation key (hex)
  --run-id           an id for this run (default: a UTC timestamp)

At the end of a run in AWS (an `s3://` summary path), the run's counts also go to CloudWatch:
`RecordsRead` and `QuarantinedRecords` in the project's namespace, dimension `Dataset`, which the
monitoring unit (`infra/monitoring.py`) charts and alarms on. Local runs and tests write no
metrics. Publishing is best effort: the curated data and the summary are written by then, so a
CloudWatch failure is logged and the run still succeeds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exportintel.etl.curate import RunSummary

# What each run publishes; `infra/monitoring.py` reads the same names from here.
RECORDS_READ = "RecordsRead"
QUARANTINED_RECORDS = "QuarantinedRecords"
DATASET_DIMENSION = "Dataset"

logger = logging.getLogger("curate_dataset")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("dataset", "raw-path", "curated-path", "quarantine-path", "summary-path",
                 "key-secret-id"):  # fmt: skip
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--run-id", default=dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"))
    args, _glue_arguments = parser.parse_known_args(argv)
    return args


def summary_uri(summary_path: str, run_id: str, dataset: str) -> str:
    """The summary object: `summary_path` itself, or `<run-id>/<dataset>.json` under a prefix.

    The prefix form is what the deployed jobs use (`s3://<artifacts>/etl-runs/`), so the runs
    of every dataset sit side by side as the local runner writes them.
    """
    if summary_path.endswith("/"):
        return f"{summary_path}{run_id}/{dataset}.json"
    return summary_path


def metrics_namespace() -> str:
    """The project's CloudWatch namespace, the one the serving functions publish to."""
    from exportintel.serving.functions import METRICS_NAMESPACE

    return METRICS_NAMESPACE


def publish_metrics(summary: RunSummary, summary_path: str, *, client: Any = None) -> bool:
    """Put the run's `RecordsRead` and `QuarantinedRecords` to CloudWatch; True if sent.

    Only for runs in AWS, told apart by their `s3://` summary path: a local run (a folder)
    publishes nothing, whatever credentials happen to be around. Any failure (no permission,
    no endpoint, throttling) is logged, never raised: the run's data is already written.
    """
    if not summary_path.startswith("s3://"):
        return False
    dimensions = [{"Name": DATASET_DIMENSION, "Value": summary.dataset}]
    try:
        if client is None:
            import boto3

            client = boto3.client("cloudwatch")
        client.put_metric_data(
            Namespace=metrics_namespace(),
            MetricData=[
                {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"}
                for name, value in (
                    (RECORDS_READ, summary.read),
                    (QUARANTINED_RECORDS, summary.quarantined),
                )
            ],
        )
    except Exception:  # a metric must never fail a run whose data is written
        logger.exception("could not publish the run metrics of %s", summary.dataset)
        return False
    return True


def main(argv: Sequence[str]) -> int:
    from exportintel.contracts import get_contract
    from exportintel.etl.curate import curate_dataset
    from exportintel.etl.io import pseudonymisation_key, write_text
    from exportintel.etl.session import spark_session

    args = parse_args(argv)
    contract = get_contract(args.dataset)
    spark = spark_session(f"curate-{contract.name}")
    summary = curate_dataset(
        spark,
        contract=contract,
        raw_path=args.raw_path,
        curated_path=args.curated_path,
        quarantine_path=args.quarantine_path,
        key=pseudonymisation_key(args.key_secret_id),
        run_id=args.run_id,
    )
    write_text(summary_uri(args.summary_path, args.run_id, contract.name), summary.to_json())
    publish_metrics(summary, args.summary_path)
    print(summary.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
