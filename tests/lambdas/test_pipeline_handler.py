"""The pipeline function on emulated S3 and SNS, called with the events the state machine sends."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.continuity.alerts import RiskChange, to_json
from exportintel.pipeline import actions, versions
from exportintel.pipeline.graph import BadModes
from exportintel.serving.functions import ENVIRONMENT_ENV
from exportintel.settings import DEV

EVENTS = Path(__file__).resolve().parents[1] / "events" / "pipeline"
BUCKET = "exportintel-dev-artifacts"
RUN_ID = "4f7c3a9e-5d2b-4c1a-9e8f-0b6d2a1c7e35"


@dataclass
class FakeContext:
    function_name: str = "exportintel-dev-pipeline"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-2:123456789012:function:pipeline"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def event(name: str, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return {**loaded, **changes}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from lambdas.pipeline import handler

    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
        )
        sns = boto3.client("sns")
        topic = sns.create_topic(Name="exportintel-dev-risk-changes")["TopicArn"]
        monkeypatch.setenv(actions.ARTIFACTS_BUCKET_ENV, BUCKET)
        monkeypatch.setenv(actions.RISK_TOPIC_ENV, topic)
        monkeypatch.setenv(ENVIRONMENT_ENV, DEV.name)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        # Clients made under another test's emulation must not be reused.
        handler.client.cache_clear()
        yield {"s3": s3, "sns": sns, "topic": topic}
        handler.client.cache_clear()


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    from lambdas.pipeline import handler

    result: dict[str, Any] = handler.lambda_handler(payload, FakeContext())
    return result


def model_archive(metrics: dict[str, Any] | None) -> bytes:
    """A SageMaker `model.tar.gz` with `metrics.json` (or without, for None) and a model file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        files = {"model.joblib": b"not a real model"}
        if metrics is not None:
            files["metrics.json"] = json.dumps(metrics).encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def continuity_metrics(auc: float, version: str) -> dict[str, Any]:
    return {
        "model_version": version,
        "chosen_model": "lr",
        "models": {"lr": {"auc": {"value": auc}}, "baseline": {"auc": {"value": 0.60}}},
    }


def put_version(s3: Any, metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The gate event, with its training job's archive in the artifacts bucket."""
    gate = event("gate")
    _, key = actions.split_s3_uri(gate["model_uri"])
    s3.put_object(Bucket=BUCKET, Key=key, Body=model_archive(metrics))
    return gate


# --- prepare ---------------------------------------------------------------------------------


def test_prepare_fills_in_skipped_models_and_takes_the_execution_name_as_run_id(
    aws: dict[str, Any],
) -> None:
    result = invoke(event("prepare", input={"modes": {"matching": "score"}}))
    assert result == {
        "modes": {"continuity": "skip", "matching": "score", "markets": "skip"},
        "run_id": RUN_ID,
    }


def test_prepare_refuses_an_unknown_mode_with_a_clear_message(aws: dict[str, Any]) -> None:
    with pytest.raises(BadModes, match=r"matching: unknown mode 'retrain'.*train.*score.*skip"):
        invoke(event("prepare", input={"modes": {"matching": "retrain"}}))


def test_prepare_of_a_run_started_without_modes_skips_every_model(aws: dict[str, Any]) -> None:
    assert invoke(event("prepare", input={}))["modes"] == {
        "continuity": "skip",
        "matching": "skip",
        "markets": "skip",
    }


def test_prepare_refuses_an_unknown_model(aws: dict[str, Any]) -> None:
    with pytest.raises(BadModes, match="unknown model"):
        invoke(event("prepare", input={"modes": {"pricing": "train"}}))


@pytest.mark.parametrize("name", ["run_2024", "x" * (actions.MAX_RUN_ID + 1), "a--b"])
def test_prepare_refuses_run_ids_that_cannot_name_sagemaker_jobs(
    aws: dict[str, Any], name: str
) -> None:
    with pytest.raises(actions.BadRunId, match="SageMaker jobs"):
        invoke(event("prepare", run_id=name))


def test_an_unknown_action_is_refused(aws: dict[str, Any]) -> None:
    from lambdas.pipeline.handler import BadRequest

    with pytest.raises(BadRequest, match="unknown action 'deploy'"):
        invoke({"action": "deploy", "run_id": RUN_ID})


# --- gate ------------------------------------------------------------------------------------


def test_a_passing_version_is_recorded_and_becomes_current(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    gate = put_version(s3, continuity_metrics(0.81, "ignored-the-job-name-wins"))

    result = invoke(gate)

    assert result == {
        "passed": True,
        "version": gate["version"],
        "failures": [],
        "model_uri": gate["model_uri"],
    }
    current = versions.current(s3, BUCKET, "continuity")
    assert current is not None
    assert current["model_version"] == gate["version"]
    assert current["model_uri"] == gate["model_uri"]
    verdict = versions.verdict(s3, BUCKET, "continuity", gate["version"])
    assert verdict is not None and verdict["passed"] is True
    assert verdict["version"] == gate["version"]


def test_a_failing_version_is_recorded_and_the_previous_one_keeps_serving(
    aws: dict[str, Any],
) -> None:
    s3 = aws["s3"]
    versions.promote(
        s3, BUCKET, "continuity", "continuity-previous", "s3://b/previous.tar.gz", reason="seed"
    )
    before = s3.get_object(Bucket=BUCKET, Key="models/continuity/current.json")["Body"].read()
    gate = put_version(s3, continuity_metrics(0.58, "v"))  # below the naive baseline (0.60)

    result = invoke(gate)

    assert result["passed"] is False
    assert any("baseline" in failure for failure in result["failures"])
    assert any("floor" in failure for failure in result["failures"])
    after = s3.get_object(Bucket=BUCKET, Key="models/continuity/current.json")["Body"].read()
    assert after == before
    verdict = versions.verdict(s3, BUCKET, "continuity", gate["version"])
    assert verdict is not None and verdict["passed"] is False


def test_the_market_models_gate_reads_its_held_out_hits(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    version = f"markets-{RUN_ID}"
    uri = f"s3://{BUCKET}/models/markets/{version}/output/model.tar.gz"

    def gate_with(model_hit: float) -> dict[str, Any]:
        hits = {"model": {"value": model_hit}, "largest_importers": {"value": 0.35},
                "fastest_growing": {"value": 0.1}}  # fmt: skip
        metrics = {"model_version": version, "held_out": {"hit_at_5": hits}}
        _, key = actions.split_s3_uri(uri)
        s3.put_object(Bucket=BUCKET, Key=key, Body=model_archive(metrics))
        return invoke(event("gate", model="markets", version=version, model_uri=uri))

    behind = gate_with(0.3)
    assert behind["passed"] is False
    assert behind["failures"] == ["hit@5 beats largest importers: 0.3000 (needs > 0.3500)"]
    assert versions.current(s3, BUCKET, "markets") is None

    assert gate_with(0.41)["passed"] is True
    current = versions.current(s3, BUCKET, "markets")
    assert current is not None and current["model_version"] == version
    assert versions.current(s3, BUCKET, "continuity") is None


def test_an_archive_without_metrics_fails_the_gate_closed(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    gate = put_version(s3, None)

    result = invoke(gate)

    assert result["passed"] is False
    assert result["failures"] == ["the archive holds no metrics.json"]
    assert versions.current(s3, BUCKET, "continuity") is None


def test_the_gate_needs_the_training_jobs_artifacts(aws: dict[str, Any]) -> None:
    from lambdas.pipeline.handler import BadRequest

    with pytest.raises(BadRequest, match="needs model_uri"):
        invoke(event("gate", model_uri=""))


# --- current ---------------------------------------------------------------------------------


def test_current_gives_the_serving_version_and_where_its_scores_go(aws: dict[str, Any]) -> None:
    uri = f"s3://{BUCKET}/models/matching/matching-1/output/model.tar.gz"
    versions.promote(aws["s3"], BUCKET, "matching", "matching-1", uri, reason="test")

    result = invoke(event("current"))

    assert result == {
        "version": "matching-1",
        "model_uri": uri,
        "scores_uri": f"s3://{BUCKET}/models/matching/matching-1/scores/",
    }


def test_current_without_a_promoted_version_says_to_train_one(aws: dict[str, Any]) -> None:
    with pytest.raises(versions.NoVersion, match="train one"):
        invoke(event("current"))


# --- alert -----------------------------------------------------------------------------------


def change(firm_id: str, kind: str) -> RiskChange:
    return RiskChange(
        firm_id=firm_id,
        change=kind,  # type: ignore[arg-type]
        year=2024,
        continuity_index=0.41 if kind == "entered" else 0.82,
        previous_index=0.79 if kind == "entered" else 0.62,
        region="부산" if firm_id.endswith("1") else "서울",
        hs_chapter="85",
        size_band="small",
        risk_factors_ko=("해외 마케팅 인력 감소",),
        risk_factors_en=("Fewer overseas-marketing staff",),
        model_version="continuity-20240401",
    )


def test_alert_publishes_the_runs_risk_changes_to_the_risk_topic(aws: dict[str, Any]) -> None:
    s3, sns = aws["s3"], aws["sns"]
    queue_url = boto3.client("sqs").create_queue(QueueName="officer")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=aws["topic"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    changes = [change("EXP000101", "entered"), change("EXP000202", "left")]
    s3.put_object(Bucket=BUCKET, Key=actions.risk_changes_key(RUN_ID), Body=to_json(changes))

    result = invoke(event("alert"))

    assert result == {"changes": 2, "sent": 2}
    received = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    firms = {json.loads(m["Body"])["firm_id"] for m in received["Messages"]}
    assert firms == {"EXP000101", "EXP000202"}


def test_alert_of_a_run_without_changes_publishes_nothing(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key=actions.risk_changes_key(RUN_ID), Body=to_json([]))
    assert invoke(event("alert")) == {"changes": 0, "sent": 0}


def test_alert_fails_when_sns_refuses_entries(aws: dict[str, Any]) -> None:
    """Officers must not silently miss a change: the step fails and the run alerts operators."""

    class RefusingSns:
        def publish_batch(self, **request: Any) -> dict[str, Any]:
            return {
                "Failed": [
                    {"Id": entry["Id"], "Code": "InternalError", "SenderFault": False}
                    for entry in request["PublishBatchRequestEntries"]
                ]
            }

    s3 = aws["s3"]
    s3.put_object(
        Bucket=BUCKET,
        Key=actions.risk_changes_key(RUN_ID),
        Body=to_json([change("EXP000101", "entered")]),
    )
    with pytest.raises(actions.AlertsNotSent, match="EXP000101 entered: InternalError"):
        actions.alert(s3, RefusingSns(), bucket=BUCKET, topic_arn=aws["topic"], run_id=RUN_ID)
