"""The load step as a SageMaker processing job: `sagemaker_jobs/<model>/load.py` calls `main`.

The processing job downloads the version's `scores/` prefix to `--scores`; the rest goes
through the AWS APIs with the job's role: the curated score table is replaced in the curated
bucket, the serving tables are written, and for the continuity index the risk group's changes
go to `s3://<artifacts>/pipeline-runs/<run id>/risk-changes.json` for the alert step.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from exportintel.models.jobenv import run_script
from exportintel.pipeline.actions import risk_changes_key

log = logging.getLogger("pipeline.load")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Load a scoring run into the lake and serving.")
    parser.add_argument("--scores", default="/opt/ml/processing/input/scores")
    parser.add_argument("--model-version", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--environment", required=True, help="settings: dev or prod")
    parser.add_argument("--curated-bucket", required=True)
    parser.add_argument("--artifacts-bucket", required=True)
    parser.add_argument("--firms-table", required=True)
    parser.add_argument("--matches-table", required=True)
    parser.add_argument("--continuity-table", required=True)
    parser.add_argument("--markets-table", required=True)
    parser.add_argument("--workdir", default="/opt/ml/processing/work")
    return parser.parse_args(argv)


def load(model: str, args: argparse.Namespace) -> None:
    import boto3

    from exportintel.continuity.alerts import to_json
    from exportintel.local.lake import LocalLake
    from exportintel.pipeline.load import load_continuity, load_markets, load_matching
    from exportintel.resources import Resources
    from exportintel.settings import ENVIRONMENTS

    settings = ENVIRONMENTS[args.environment]
    # Only the curated and artifacts buckets are used; the other names are never reached.
    resources = replace(
        Resources.local(settings),
        curated_bucket=args.curated_bucket,
        artifacts_bucket=args.artifacts_bucket,
    )
    lake = LocalLake(resources, Path(args.workdir))
    dynamodb = boto3.resource("dynamodb")
    tables = {
        "firms": dynamodb.Table(args.firms_table),
        "matches": dynamodb.Table(args.matches_table),
        "continuity": dynamodb.Table(args.continuity_table),
        "markets": dynamodb.Table(args.markets_table),
    }
    scores = Path(args.scores)
    if model == "continuity":
        result = load_continuity(lake, tables, scores, args.model_version)
        boto3.client("s3").put_object(
            Bucket=args.artifacts_bucket,
            Key=risk_changes_key(args.run_id),
            Body=to_json(result.risk_changes, run_id=args.run_id).encode("utf-8"),
            ContentType="application/json",
        )
    elif model == "matching":
        result = load_matching(lake, tables, scores, args.model_version, settings)
    elif model == "markets":
        result = load_markets(lake, tables, scores, args.model_version)
    else:
        raise ValueError(f"no load step for model {model!r}")
    log.info("%s", result.render())


def main(model: str, argv: Sequence[str] | None = None) -> int:
    return run_script(lambda args: load(model, args), parse_args, argv)
