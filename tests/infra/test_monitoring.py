"""The operations stack: one dashboard covering every unit, alarms on each family notifying one
KMS-encrypted, TLS-only topic, the curation jobs' quarantine metrics, and no cdk-nag findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage, Validations
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from exportintel.serving.functions import METRICS_NAMESPACE
from exportintel.serving.tables import TABLES
from exportintel.settings import DEFAULT_REGION, DEV, PROJECT
from infra.application import cdk_json_context
from infra.monitoring_data import (
    FRESHNESS_BOUND_FACTOR,
    QUARANTINE_MIN_RECORDS,
    QUARANTINE_SHARE_PERCENT,
)
from infra.monitoring_serving import API_P99_LATENCY_MS
from infra.operations_stack import OperationsStack
from infra.platform_stack import PlatformStack
from infra.serving_stack import ServingStack
from tests.infra.support import as_list, logical_id, mentions, of_type, role_statements

# Metric names the dashboard must chart, by family.
FAMILIES = {
    "firehose": {"DeliveryToS3.DataFreshness", "DeliveryToS3.Success"},
    "lambda": {"Errors", "Throttles"},
    "glue": {"glue.driver.aggregate.elapsedTime", "TriggeredRules"},
    "quarantine": {"QuarantinedRecords", "RecordsRead"},
    "pipeline": {
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
        "ExecutionTime",
    },
    "api": {"Latency", "4XXError", "5XXError"},
    "dynamodb": {"ReadThrottleEvents", "WriteThrottleEvents"},
    "sqs": {"ApproximateNumberOfMessagesVisible"},
}


@dataclass(frozen=True)
class Operations:
    app: App
    platform: PlatformStack
    serving: ServingStack
    stack: OperationsStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        found: dict[str, Any] = self.template.to_json()["Resources"]
        return found

    def alarms(self) -> dict[str, dict[str, Any]]:
        return of_type(self.template, "AWS::CloudWatch::Alarm")

    def topic_id(self) -> str:
        return logical_id(self.stack, self.stack.topic)


def _build(outdir: Path, *, with_state_machine: bool) -> Operations:
    """The dev platform and serving stacks composed as `infra.stage` composes them, a minimal
    state machine in a throwaway stack, and the operations stack on top; synthesised with the
    feature flags of `cdk.json`. The stage's other stacks are left out: this unit reads only
    these two and the state machine."""
    app = App(outdir=str(outdir), context=cdk_json_context())
    stage = Stage(app, DEV.stage_id, env=Environment(region=DEV.region))
    platform = PlatformStack(stage, "Platform", settings=DEV)
    serving = ServingStack(
        stage,
        "Serving",
        settings=DEV,
        clickstream=platform.ingestion.clickstream,
        key=platform.data_lake.key,
        pseudonymisation_secret=platform.etl.pseudonymisation_secret,
    )
    state_machine = None
    if with_state_machine:
        probe = Stack(stage, "StateMachineProbe")
        state_machine = sfn.StateMachine(
            probe,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(probe, "Start")),
        )
    stack = OperationsStack(
        stage,
        "Operations",
        settings=DEV,
        platform=platform,
        serving=serving,
        state_machine=state_machine,
    )
    template = Template.from_stack(stack)
    return Operations(app, platform, serving, stack, template, outdir)


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Operations:
    return _build(tmp_path_factory.mktemp("ops-cdk.out"), with_state_machine=True)


def _flatten(value: Any) -> str:
    """An Fn::Join value as text, references (weak cross-stack ones too) as <name>."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return str(delimiter).join(_flatten(item) for item in items)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::GetStackOutput" in value:
        return f"<{value['Fn::GetStackOutput']['OutputName']}>"
    raise AssertionError(f"unexpected intrinsic {value}")


def _dashboard(ops: Operations) -> dict[str, Any]:
    [dashboard] = of_type(ops.template, "AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(_flatten(dashboard["Properties"]["DashboardBody"]))
    return body


def _charted(body: dict[str, Any]) -> set[str]:
    """Every metric name of the dashboard's graphs (`[namespace, name, dims..., options]`)."""
    names = set()
    for widget in body["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], str) and len(metric) > 1 and isinstance(metric[1], str):
                names.add(metric[1])
    return names


def _alarm_metrics(alarm: dict[str, Any]) -> set[str]:
    props = alarm["Properties"]
    if "MetricName" in props:
        return {props["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}


def _alarms_on(ops: Operations, metric_name: str) -> dict[str, dict[str, Any]]:
    return {i: a for i, a in ops.alarms().items() if metric_name in _alarm_metrics(a)}


# --- the dashboard --------------------------------------------------------------------------


def test_one_dashboard_charts_every_metric_family(ops: Operations) -> None:
    body = _dashboard(ops)
    charted = _charted(body)
    for family, names in FAMILIES.items():
        assert names <= charted, f"{family}: {sorted(names - charted)} not on the dashboard"
    [dashboard] = of_type(ops.template, "AWS::CloudWatch::Dashboard").values()
    assert "DashboardName" not in dashboard["Properties"], "generated: environments share accounts"


def test_the_dashboard_has_a_quarantine_widget_per_dataset_and_every_alarm(
    ops: Operations,
) -> None:
    body = _dashboard(ops)
    titles = {w["properties"].get("title") for w in body["widgets"]}
    assert set(ops.platform.etl.jobs) <= titles
    [status] = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_ids = set(ops.alarms()) | set(of_type(ops.template, "AWS::CloudWatch::CompositeAlarm"))
    assert {f"<{i}.Arn>" for i in alarm_ids} == set(status["properties"]["alarms"])
    for dataset in ops.platform.etl.jobs:
        [widget] = [w for w in body["widgets"] if w["properties"].get("title") == dataset]
        assert [m[:4] for m in widget["properties"]["metrics"]] == [
            [METRICS_NAMESPACE, "RecordsRead", "Dataset", dataset],
            [METRICS_NAMESPACE, "QuarantinedRecords", "Dataset", dataset],
        ]


# --- alarms ---------------------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_and_treats_missing_data_deliberately(
    ops: Operations,
) -> None:
    topic = {"Ref": ops.topic_id()}
    alarms = ops.alarms()
    composites = of_type(ops.template, "AWS::CloudWatch::CompositeAlarm")
    assert alarms and composites
    for alarm_id, alarm in {**alarms, **composites}.items():
        assert alarm["Properties"]["AlarmActions"] == [topic], alarm_id
        assert alarm["Properties"]["AlarmDescription"].startswith("Export Intelligence (dev): "), (
            alarm_id
        )
    for alarm_id, alarm in alarms.items():
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", alarm_id
        assert "AlarmName" not in alarm["Properties"], alarm_id


def test_firehose_freshness_and_success_alarms_for_both_delivery_streams(
    ops: Operations,
) -> None:
    ingestion = ops.platform.ingestion
    streams = {
        logical_id(ops.platform, ingestion.clickstream_delivery): DEV.clickstream_buffering,
        logical_id(ops.platform, ingestion.feeds_delivery): DEV.feeds_buffering,
    }
    freshness = _alarms_on(ops, "DeliveryToS3.DataFreshness")
    success = _alarms_on(ops, "DeliveryToS3.Success")
    assert len(freshness) == len(success) == 2
    for stream, buffering in streams.items():
        [fresh] = [a for a in freshness.values() if mentions(a, stream)]
        assert fresh["Properties"]["Threshold"] == FRESHNESS_BOUND_FACTOR * (
            buffering.interval_seconds
        )
        assert fresh["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
        [ok] = [a for a in success.values() if mentions(a, stream)]
        assert ok["Properties"]["Threshold"] == 1
        assert ok["Properties"]["ComparisonOperator"] == "LessThanThreshold"


def test_errors_and_throttles_of_every_collector_and_serving_function(ops: Operations) -> None:
    functions = {logical_id(ops.platform, f) for f in ops.platform.collectors.functions.values()}
    serving = [f.function for f in ops.serving.api.functions.values()]
    serving.append(ops.serving.counters.function)
    functions |= {logical_id(ops.serving, f) for f in serving}
    assert len(functions) == len(ops.platform.collectors.functions) + len(serving)
    for metric in ("Errors", "Throttles"):
        alarms = _alarms_on(ops, metric)
        assert len(alarms) == len(functions), metric
        for function in functions:
            assert [a for a in alarms.values() if mentions(a, function)], (metric, function)


def test_failed_or_timed_out_runs_of_every_glue_job_alarm(ops: Operations) -> None:
    jobs = {**ops.platform.etl.jobs, **ops.platform.derived_jobs.jobs}
    rules = of_type(ops.template, "AWS::Events::Rule")
    failures = _alarms_on(ops, "TriggeredRules")
    assert len(rules) == len(failures) == len(jobs)
    for name, job in jobs.items():
        job_id = logical_id(ops.platform, job)
        [(rule_id, rule)] = [(i, r) for i, r in rules.items() if mentions(r, job_id)]
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["source"] == ["aws.glue"]
        assert pattern["detail-type"] == ["Glue Job State Change"]
        assert pattern["detail"]["state"] == ["FAILED", "TIMEOUT"]
        assert "Targets" not in rule["Properties"], "counted by TriggeredRules, no target"
        [alarm] = [a for a in failures.values() if mentions(a, rule_id)]
        assert alarm["Properties"]["Threshold"] == 0, name
    # Durations are charted from Glue's job metrics (on by default: `--enable-metrics`).
    platform = Template.from_stack(ops.platform)
    for job in jobs.values():
        arguments = platform.to_json()["Resources"][logical_id(ops.platform, job)]["Properties"]
        assert "--enable-metrics" in arguments["DefaultArguments"]


def test_pipeline_failures_and_timeouts_alarm_together(ops: Operations) -> None:
    [(alarm_id, alarm)] = _alarms_on(ops, "ExecutionsFailed").items()
    metrics = {m["Id"]: m for m in alarm["Properties"]["Metrics"]}
    assert metrics["failed"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsFailed"
    assert metrics["timedOut"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsTimedOut"
    [expression] = [m["Expression"] for m in metrics.values() if "Expression" in m]
    assert expression == "FILL(failed, 0) + FILL(timedOut, 0)"
    assert alarm["Properties"]["Threshold"] == 0
    assert alarm_id.startswith("MonitoringPipelineFailed")


def test_api_5xx_and_p99_latency_alarm_on_the_serving_apis_stage(ops: Operations) -> None:
    stage_id = logical_id(ops.serving, ops.serving.api.rest_api.deployment_stage)
    [server_errors] = _alarms_on(ops, "5XXError").values()
    [latency] = _alarms_on(ops, "Latency").values()
    for alarm in (server_errors, latency):
        [stat] = [m["MetricStat"] for m in alarm["Properties"]["Metrics"]]
        dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
        assert dimensions["ApiName"] == ops.serving.api.rest_api.rest_api_name
        assert mentions(dimensions["Stage"], stage_id)
    assert server_errors["Properties"]["Threshold"] == 0
    [stat] = [m["MetricStat"] for m in latency["Properties"]["Metrics"]]
    assert stat["Stat"] == "p99"
    assert latency["Properties"]["Threshold"] == API_P99_LATENCY_MS


def test_throttles_of_every_serving_table_and_its_indexes_alarm(ops: Operations) -> None:
    alarms = _alarms_on(ops, "ReadThrottleEvents")
    assert len(alarms) == len(TABLES)
    for spec in TABLES:
        table_id = logical_id(ops.serving, ops.serving.tables.of(spec))
        [alarm] = [a for a in alarms.values() if mentions(a, table_id)]
        stats = [m["MetricStat"] for m in alarm["Properties"]["Metrics"] if "MetricStat" in m]
        assert len(stats) == 2 * (1 + len(spec.indexes)), spec.role
        indexes = {
            d["Value"]
            for s in stats
            for d in s["Metric"]["Dimensions"]
            if d["Name"] == "GlobalSecondaryIndexName"
        }
        assert indexes == {index.name for index in spec.indexes}
        assert alarm["Properties"]["Threshold"] == 0


def test_dead_letter_queues_reuse_their_existing_alarms(ops: Operations) -> None:
    """No second depth alarm on a queue: a composite over each queue's own alarm notifies."""
    assert _alarms_on(ops, "ApproximateNumberOfMessagesVisible") == {}
    composites = of_type(ops.template, "AWS::CloudWatch::CompositeAlarm")
    existing = {
        logical_id(ops.platform, ops.platform.collectors.dead_letter_alarm),
        logical_id(ops.serving, ops.serving.counters.dead_letter_alarm),
    }
    assert len(composites) == len(existing)
    for alarm in existing:
        [composite] = [c for c in composites.values() if mentions(c, alarm)]
        assert _flatten(composite["Properties"]["AlarmRule"]).startswith('ALARM("<')


def test_quarantine_share_alarms_per_curated_dataset(ops: Operations) -> None:
    alarms = _alarms_on(ops, "QuarantinedRecords")
    assert len(alarms) == len(ops.platform.etl.jobs)
    for dataset in ops.platform.etl.jobs:
        [alarm] = [
            a
            for a in alarms.values()
            if {"Name": "Dataset", "Value": dataset}
            in a["Properties"]["Metrics"][1]["MetricStat"]["Metric"]["Dimensions"]
        ]
        metrics = {m["Id"]: m for m in alarm["Properties"]["Metrics"]}
        stats = [m["MetricStat"] for m in metrics.values() if "MetricStat" in m]
        assert {stat["Metric"]["Namespace"] for stat in stats} == {METRICS_NAMESPACE}
        [expression] = [m["Expression"] for m in metrics.values() if "Expression" in m]
        assert expression == (
            f"IF(quarantined >= {QUARANTINE_MIN_RECORDS}, 100 * quarantined / read, 0)"
        )
        assert alarm["Properties"]["Threshold"] == QUARANTINE_SHARE_PERCENT


def test_curation_roles_may_put_metrics_to_the_project_namespace_only(
    ops: Operations,
) -> None:
    platform = Template.from_stack(ops.platform)
    for name, role in ops.platform.etl.roles.items():
        statements = role_statements(platform, logical_id(ops.platform, role))
        [metrics] = [s for s in statements if s.get("Sid") == "CurationRunMetrics"]
        assert as_list(metrics["Action"]) == ["cloudwatch:PutMetricData"], name
        assert metrics["Resource"] == "*"
        assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}
    for name, role in ops.platform.derived_jobs.roles.items():
        statements = role_statements(platform, logical_id(ops.platform, role))
        assert not [s for s in statements if s.get("Sid") == "CurationRunMetrics"], name


# --- the topic ------------------------------------------------------------------------------


def test_the_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use(ops: Operations) -> None:
    key_id = logical_id(ops.stack, ops.stack.key)
    topic = ops.resources[ops.topic_id()]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = ops.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    [grant] = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchAlarms"]
    assert grant["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(as_list(grant["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert _flatten(grant["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:*")


def test_the_topic_takes_tls_only_and_cloudwatch_alarms_may_publish(ops: Operations) -> None:
    [policy] = of_type(ops.template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"
    [allow] = [s for s in statements if s.get("Sid") == "CloudWatchAlarms"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"


def test_outputs_name_the_topic_and_the_dashboard(ops: Operations) -> None:
    outputs = ops.template.to_json()["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": ops.topic_id()}
    dashboard_id = logical_id(ops.stack, ops.stack.monitoring.dashboard)
    assert outputs["DashboardName"]["Value"] == {"Ref": dashboard_id}
    url = _flatten(outputs["DashboardUrl"]["Value"])
    assert url == (
        f"https://{DEFAULT_REGION}.console.aws.amazon.com/cloudwatch/home?region="
        f"{DEFAULT_REGION}#dashboards:name=<{dashboard_id}>"
    )


# --- quality gates --------------------------------------------------------------------------


def test_no_cdk_nag_findings_and_no_acknowledgements_in_the_operations_stack(
    ops: Operations,
) -> None:
    report = AwsSolutionsChecks().validate_scope(ops.app)
    everywhere = [
        (violation.rule_name, resource.construct_path or "")
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    # The checks did run: the bare probe state machine (no logs, no tracing) is reported.
    assert ("AwsSolutions-SF1", "Dev/StateMachineProbe/StateMachine/Resource") in everywhere
    findings = [(rule, path) for rule, path in everywhere if "/Operations/" in f"{path}/"]
    assert findings == []
    for construct in ops.stack.node.find_all():
        for entry in construct.node.metadata:
            assert entry.type != Validations.ACKNOWLEDGED_RULES_METADATA_KEY, construct.node.path


def test_no_cdk_warnings_no_cfn_lint_findings_and_tags(ops: Operations) -> None:
    annotations = Annotations.from_stack(ops.stack)
    assert annotations.find_error("*", Match.any_value()) == []
    assert annotations.find_warning("*", Match.any_value()) == []
    [template] = ops.outdir.rglob(f"*{ops.stack.artifact_id}.template.json")
    findings = [
        f"{m.rule.id} {m.message}"
        for m in lint_file(template, ManualArgs(regions=[DEFAULT_REGION]))
        if m.rule.id.startswith(("E", "W"))
    ]
    assert findings == []
    assert ops.stack.tags.tag_values() == {"project": PROJECT, "environment": "dev"}


def test_without_a_state_machine_there_is_no_pipeline_section(tmp_path: Path) -> None:
    bare = _build(tmp_path, with_state_machine=False)
    assert _alarms_on(bare, "ExecutionsFailed") == {}
    charted = _charted(_dashboard(bare))
    assert not FAMILIES["pipeline"] & charted
    assert FAMILIES["firehose"] | FAMILIES["glue"] | FAMILIES["quarantine"] <= charted
