"""What the state machine's pipeline function does between the Glue and SageMaker tasks.

One function, four actions (`lambdas/pipeline/handler.py` dispatches on `event["action"]`):

- `prepare`: check the run's modes (`graph.parse_modes`) and make the run id, which names
  the SageMaker jobs of the run (so it must fit their naming rules);
- `gate`: read `metrics.json` from the new version's `model.tar.gz`, judge it, record the
  verdict beside the version and make the version current only if it passed;
- `current`: the version that serves, its model archive and where its scores go;
- `alert`: publish the risk-group changes the continuity load step wrote for the run.

Plain boto3 and the core package, no pandas: the function stays small, and the local runner
can call the same code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exportintel.pipeline import gate as quality_gate
from exportintel.pipeline import versions
from exportintel.pipeline.graph import MODELS, parse_modes
from exportintel.settings import EnvironmentSettings

RUNS_PREFIX = "pipeline-runs"
ACTIONS = ("prepare", "gate", "current", "alert")
# The function's environment (the environment's name is `serving.functions.ENVIRONMENT_ENV`).
ARTIFACTS_BUCKET_ENV = "ARTIFACTS_BUCKET"
RISK_TOPIC_ENV = "RISK_TOPIC_ARN"
# SageMaker job names: letters, digits and single hyphens, at most 63 characters. The longest
# name of a run is `continuity-score-<run id>`.
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-?[a-zA-Z0-9])*$")
_LONGEST_JOB_PREFIX = max(len(f"{model}-score-") for model in MODELS)
MAX_RUN_ID = 63 - _LONGEST_JOB_PREFIX


class BadRunId(ValueError):
    """The execution name cannot name the run's SageMaker jobs."""


class AlertsNotSent(RuntimeError):
    """Some risk-group changes could not be published: officers would miss them."""


def risk_changes_key(run_id: str) -> str:
    """Where the continuity load step writes the run's risk-group changes."""
    return f"{RUNS_PREFIX}/{run_id}/risk-changes.json"


def scores_prefix(model: str, version: str) -> str:
    return f"{versions.version_prefix(model, version)}/scores/"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` as (bucket, key)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an S3 object URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def prepare(modes: Mapping[str, str] | None, execution_name: str) -> dict[str, Any]:
    """The run's input for the steps: every model's mode and the run id."""
    checked = parse_modes(modes)
    if len(execution_name) > MAX_RUN_ID or not _JOB_NAME.match(execution_name):
        raise BadRunId(
            f"execution name {execution_name!r} names the run's SageMaker jobs: use at most "
            f"{MAX_RUN_ID} letters, digits and single hyphens (or let Step Functions choose)"
        )
    return {"modes": checked, "run_id": execution_name}


def gate(
    s3: Any,
    *,
    bucket: str,
    settings: EnvironmentSettings,
    model: str,
    version: str,
    model_uri: str,
) -> dict[str, Any]:
    """Judge a newly trained version; record the verdict; promote it only on a pass.

    Missing metrics fail the gate (closed) rather than the step: the previous version keeps
    serving and the run ends with the gate's alert, which says what was missing.
    """
    archive_bucket, archive_key = split_s3_uri(model_uri)
    body = s3.get_object(Bucket=archive_bucket, Key=archive_key)["Body"]
    try:
        metrics = quality_gate.metrics_from_archive(body)
        verdict = quality_gate.judge(model, metrics, settings)
        record = verdict.to_dict()
        failures = verdict.failures
        passed = verdict.passed
    except quality_gate.MetricsMissing as missing:
        failures = [str(missing)]
        passed = False
        record = {"model": model, "version": version, "passed": False, "failures": failures}
    finally:
        body.close()
    # The job name is the version, whatever metrics.json says.
    record["version"] = version
    versions.record_verdict(s3, bucket, model, version, record)
    if passed:
        versions.promote(s3, bucket, model, version, model_uri, reason="passed the quality gate")
    return {"passed": passed, "version": version, "failures": failures, "model_uri": model_uri}


def current(s3: Any, *, bucket: str, model: str) -> dict[str, Any]:
    """The serving version (`versions.NoVersion` if none), its model and its scores' prefix."""
    found = versions.require_current(s3, bucket, model)
    version = str(found["model_version"])
    return {
        "version": version,
        "model_uri": found["model_uri"],
        "scores_uri": f"s3://{bucket}/{scores_prefix(model, version)}",
    }


def alert(s3: Any, sns: Any, *, bucket: str, topic_arn: str, run_id: str) -> dict[str, Any]:
    """Publish the run's risk-group changes to the risk topic; the counts go back to the run."""
    # Imported here: the function's bundle carries no pandas, and the module's comparison
    # half needs it (its publishing half does not).
    from exportintel.continuity.alerts import from_json, publish_changes

    body = s3.get_object(Bucket=bucket, Key=risk_changes_key(run_id))["Body"].read()
    changes = from_json(body)
    summary = publish_changes(sns, topic_arn, changes)
    if summary.failed:
        # Fails the step (no retry: the changes already sent would go out twice), so the
        # run's failure alert tells operators which firms' officers were not told.
        details = "; ".join(f"{f.firm_id} {f.change}: {f.code}" for f in summary.failures)
        raise AlertsNotSent(f"{summary.render()}: {details}")
    return {
        "changes": len(changes),
        "sent": summary.sent,
    }
