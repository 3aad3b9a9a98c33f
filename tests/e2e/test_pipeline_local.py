"""The pipeline's step graph on the emulation over the small lake, as `exportintel pipeline
run` walks it: the order of the graph, the serving tables filled by the load steps, the risk
changes for the alert step, and a quality gate that stops a weak model from serving."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from exportintel.continuity.alerts import report_from_json
from exportintel.local.serving import serving_tables
from exportintel.pipeline import versions
from exportintel.pipeline.graph import steps
from exportintel.pipeline.load_job import risk_changes_key
from exportintel.pipeline.local import LocalPipeline, PipelineRun, alerts_topic_name
from tests.lake import SmallLake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rescored(small_lake: SmallLake) -> PipelineRun:
    """Both models re-scored with the versions the small lake's training promoted."""
    with small_lake.aws_environment():
        pipeline = LocalPipeline(small_lake.aws, small_lake.workdir, small_lake.key)
        return pipeline.run({"continuity": "score", "matching": "score"}, run_id="e2e-rescore")


def _current(lake: SmallLake, model: str) -> str:
    s3 = lake.aws.client("s3")
    found = versions.require_current(s3, lake.resources.artifacts_bucket, model)
    return str(found["model_version"])


def _served_versions(lake: SmallLake, role: str) -> set[str]:
    table = serving_tables(lake.aws)[role]
    items = table.scan(FilterExpression=Attr("model_version").exists())["Items"]
    return {str(item["model_version"]) for item in items}


def test_the_runner_walks_the_graph_in_its_order(rescored: PipelineRun) -> None:
    assert rescored.ok, rescored.failure
    assert [r.step.name for r in rescored.results] == [s.name for s in steps()]
    status = {r.step.name: r.status for r in rescored.results}
    assert all(status[s.name] == "done" for s in steps() if s.kind == "curate")
    for model in ("continuity", "matching"):
        assert status[f"train-{model}"] == status[f"gate-{model}"] == "skipped"
        assert status[f"score-{model}"] == status[f"load-{model}"] == "done"
    assert status["alert-continuity"] == "done"


def test_the_load_steps_fill_the_serving_tables_with_the_current_versions(
    small_lake: SmallLake, rescored: PipelineRun
) -> None:
    with small_lake.aws_environment():
        assert _served_versions(small_lake, "matches") == {_current(small_lake, "matching")}
        assert _served_versions(small_lake, "continuity") == {_current(small_lake, "continuity")}
        body = (
            small_lake.aws.client("s3")
            .get_object(
                Bucket=small_lake.resources.artifacts_bucket, Key=risk_changes_key("e2e-rescore")
            )["Body"]
            .read()
        )
    report = report_from_json(body)
    # The index served before this run, so the comparison is a real one (same model, same
    # data: nobody moves), and its result is what the alert step published.
    assert not report.first_run and report.run_id == "e2e-rescore"
    assert report.model_version == _current_version_of(small_lake, "continuity")
    assert rescored.result("alert-continuity") is not None


def _current_version_of(lake: SmallLake, model: str) -> str:
    with lake.aws_environment():
        return _current(lake, model)


def _alerts_queue(lake: SmallLake) -> tuple[Any, str]:
    """An SQS queue subscribed to the pipeline's alerts topic, as an on-call address."""
    sns, sqs = lake.aws.client("sns"), lake.aws.client("sqs")
    topic = sns.create_topic(Name=alerts_topic_name(lake.aws.settings))["TopicArn"]
    url = sqs.create_queue(QueueName=f"{lake.aws.settings.name}-on-call")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, url


def test_a_model_under_the_floor_stops_the_run_and_the_previous_version_serves(
    small_lake: SmallLake, rescored: PipelineRun
) -> None:
    strict = replace(small_lake.aws.settings, matching_ndcg_floor=1.0)
    with small_lake.aws_environment():
        before = _current(small_lake, "matching")
        served = _served_versions(small_lake, "matches")
        sqs, queue = _alerts_queue(small_lake)
        pipeline = LocalPipeline(
            small_lake.aws, small_lake.workdir, small_lake.key, settings=strict
        )
        run = pipeline.run({"matching": "train"}, run_id="e2e-low")

        assert not run.ok and run.failure is not None
        assert run.results[-1].step.name == "gate-matching"
        assert run.results[-1].status == "failed"
        assert "ndcg@10 floor" in run.failure
        assert run.result("score-matching") is None and run.result("load-matching") is None
        # The new version was trained and judged, and did not replace the serving one.
        verdict = versions.verdict(
            small_lake.aws.client("s3"), small_lake.resources.artifacts_bucket,
            "matching", "matching-e2e-low",
        )  # fmt: skip
        assert verdict is not None and verdict["passed"] is False
        assert _current(small_lake, "matching") == before
        assert _served_versions(small_lake, "matches") == served
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    alert = json.loads(json.loads(messages[0]["Body"])["Message"])
    assert alert["step"] == "gate-matching" and alert["pipeline_run"] == "e2e-low"
    assert alert["verdict"]["passed"] is False
