"""The collectors unit: a scheduled Lambda per feed, its key, retries, DLQ and idempotency."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from exportintel.collectors.feeds import FEEDS
from exportintel.resources import output_key
from exportintel.settings import DEV, PROD, CronSchedule, EnvironmentSettings
from infra.application import cdk_json_context
from infra.collectors import IDEMPOTENCY_KEY, IDEMPOTENCY_TTL_ATTRIBUTE, Collectors
from infra.data_lake import DataLake
from infra.ingestion import Ingestion
from infra.platform_stack import PlatformStack
from tests.infra.support import (
    as_list,
    get_att_arn,
    joined,
    logical_id,
    properties,
    resource,
    role_statements,
)

KEYED_FEEDS = {name for name, feed in FEEDS.items() if feed.needs_key}


def _function(stack: PlatformStack, template: Template, feed: str) -> dict[str, Any]:
    return properties(template, logical_id(stack, stack.collectors.functions[feed]))


def test_one_python_3_11_function_per_feed_with_its_environment(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    collectors = dev_stack.collectors
    assert set(collectors.functions) == set(FEEDS)
    assert len(dev_template.find_resources("AWS::Lambda::Function")) >= len(FEEDS)
    for feed in FEEDS:
        props = _function(dev_stack, dev_template, feed)
        assert props["Runtime"] == "python3.11"
        assert props["Architectures"] == ["x86_64"]
        assert props["Handler"] == "handler.lambda_handler"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Timeout"] == DEV.collector_timeout_seconds
        variables = props["Environment"]["Variables"]
        assert variables["FEED"] == feed
        assert variables["FEEDS_DELIVERY_STREAM"] == {
            "Ref": logical_id(dev_stack, dev_stack.ingestion.feeds_delivery)
        }
        assert variables["IDEMPOTENCY_TABLE"] == {
            "Ref": logical_id(dev_stack, collectors.idempotency_table)
        }
        assert variables["POWERTOOLS_SERVICE_NAME"] == "collectors"
        if feed in KEYED_FEEDS:
            assert variables["API_KEY_SECRET_ARN"] == {
                "Ref": logical_id(dev_stack, collectors.api_key_secrets[feed])
            }
        else:
            assert "API_KEY_SECRET_ARN" not in variables


def test_all_functions_share_one_code_asset(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    codes = {json.dumps(_function(dev_stack, dev_template, f)["Code"]) for f in FEEDS}
    assert len(codes) == 1


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_logs_and_concurrency_follow_the_settings(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    for feed, log_group in stack.collectors.log_groups.items():
        props = _function(stack, template, feed)
        log_group_id = logical_id(stack, log_group)
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
        assert properties(template, log_group_id)["RetentionInDays"] == settings.log_retention_days
        assert props.get("ReservedConcurrentExecutions") == settings.collector_reserved_concurrency
    assert PROD.collector_reserved_concurrency == 1


def test_roles_write_their_own_log_group_and_carry_no_managed_policy(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    for feed, function in dev_stack.collectors.functions.items():
        role_id = logical_id(dev_stack, function.role)  # type: ignore[arg-type]
        assert "ManagedPolicyArns" not in properties(dev_template, role_id)
        statements = role_statements(dev_template, role_id)
        [logs] = [s for s in statements if "logs:PutLogEvents" in as_list(s["Action"])]
        assert logs["Resource"] == get_att_arn(
            logical_id(dev_stack, dev_stack.collectors.log_groups[feed])
        )


def test_roles_put_on_the_feeds_stream_use_the_table_and_read_only_their_own_key(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    collectors = dev_stack.collectors
    stream = get_att_arn(logical_id(dev_stack, dev_stack.ingestion.feeds_delivery))
    table = get_att_arn(logical_id(dev_stack, collectors.idempotency_table))
    for feed, function in collectors.functions.items():
        statements = role_statements(dev_template, logical_id(dev_stack, function.role))  # type: ignore[arg-type]
        by_resource: dict[str, set[str]] = {}
        for statement in statements:
            for target in as_list(statement["Resource"]):
                by_resource.setdefault(json.dumps(target), set()).update(
                    as_list(statement["Action"])
                )
        assert by_resource[json.dumps(stream)] == {"firehose:PutRecord", "firehose:PutRecordBatch"}
        assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                "dynamodb:DeleteItem"} <= by_resource[json.dumps(table)]  # fmt: skip
        readable = {
            target
            for target, actions in by_resource.items()
            if "secretsmanager:GetSecretValue" in actions
        }
        expected = (
            {json.dumps({"Ref": logical_id(dev_stack, collectors.api_key_secrets[feed])})}
            if feed in KEYED_FEEDS
            else set()
        )
        assert readable == expected, feed


def test_each_feed_runs_on_its_utc_schedule_with_retries_and_a_dead_letter_queue(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    collectors = dev_stack.collectors
    queue = get_att_arn(logical_id(dev_stack, collectors.dead_letter_queue))
    for feed, rule in collectors.rules.items():
        props = properties(dev_template, logical_id(dev_stack, rule))
        assert props["ScheduleExpression"] == DEV.collector_schedule(feed).expression()
        [target] = props["Targets"]
        assert target["Arn"] == get_att_arn(logical_id(dev_stack, collectors.functions[feed]))
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": DEV.collector_max_event_age_hours * 3600,
        }
        assert target["DeadLetterConfig"] == {"Arn": queue}
        assert "Input" not in target  # the handler reads the scheduled event's own `id`


def test_schedules_run_after_the_providers_publish() -> None:
    schedules = dict(DEV.collector_schedules)
    assert set(schedules) == set(FEEDS)
    assert schedules["ecb_fx"].expression() == "cron(30 16 ? * MON-FRI *)"
    assert schedules["comtrade"].expression() == "cron(0 3 1 * ? *)"
    assert schedules["mofa_travel_advisories"].expression() == "cron(30 0 * * ? *)"
    assert CronSchedule(minute="5", hour="2").expression() == "cron(5 2 * * ? *)"


def test_failed_runs_are_retried_twice_then_sent_to_the_dead_letter_queue(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    collectors = dev_stack.collectors
    queue = get_att_arn(logical_id(dev_stack, collectors.dead_letter_queue))
    configs = {
        json.dumps(body["Properties"]["FunctionName"]): body["Properties"]
        for body in dev_template.find_resources("AWS::Lambda::EventInvokeConfig").values()
    }
    for function in collectors.functions.values():
        config = configs[json.dumps({"Ref": logical_id(dev_stack, function)})]
        assert config["MaximumRetryAttempts"] == 2
        assert config["MaximumEventAgeInSeconds"] == DEV.collector_max_event_age_hours * 3600
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue}}


def test_the_dead_letter_queue_is_kms_encrypted_tls_only_and_watched(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    collectors = dev_stack.collectors
    queue_id = logical_id(dev_stack, collectors.dead_letter_queue)
    props = properties(dev_template, queue_id)
    assert props["KmsMasterKeyId"] == get_att_arn(logical_id(dev_stack, dev_stack.data_lake.key))
    assert props["MessageRetentionPeriod"] == DEV.dead_letter_retention_days * 86400
    [policy] = [
        body["Properties"]
        for body in dev_template.find_resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in body["Properties"]["Queues"]
    ]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)
    alarm = properties(dev_template, logical_id(dev_stack, collectors.dead_letter_alarm))
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


def test_eventbridge_may_use_the_key_for_dead_letters_of_this_accounts_rules(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    policy = properties(dev_template, logical_id(dev_stack, dev_stack.data_lake.key))["KeyPolicy"]
    [statement] = [s for s in policy["Statement"] if s.get("Sid") == "EventBridgeDeadLetters"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert joined(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":rule/*")


@pytest.mark.parametrize(("env", "retained"), [("dev", False), ("prod", True)])
def test_the_idempotency_table_matches_powertools_and_is_protected(
    env: str, retained: bool, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    table = resource(template, logical_id(stack, stack.collectors.idempotency_table))
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": IDEMPOTENCY_KEY, "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {
        "KMSMasterKeyId": get_att_arn(logical_id(stack, stack.data_lake.key)),
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert table["DeletionPolicy"] == ("Retain" if retained else "Delete")


def test_api_keys_are_kms_encrypted_placeholders_without_rotation(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    secrets = dev_stack.collectors.api_key_secrets
    assert set(secrets) == KEYED_FEEDS
    key = get_att_arn(logical_id(dev_stack, dev_stack.data_lake.key))
    outputs = dev_template.to_json()["Outputs"]
    for feed, secret in secrets.items():
        props = properties(dev_template, logical_id(dev_stack, secret))
        assert props["KmsKeyId"] == key
        assert "SecretString" not in props  # nothing in the template: generated, then replaced
        assert "put-secret-value" in props["Description"]
        assert outputs[f"{output_key(feed)}ApiKeySecretArn"]["Value"] == {
            "Ref": logical_id(dev_stack, secret)
        }
    assert dev_template.find_resources("AWS::SecretsManager::RotationSchedule") == {}
    assert outputs["CollectorsDeadLetterQueueUrl"]["Value"] == {
        "Ref": logical_id(dev_stack, dev_stack.collectors.dead_letter_queue)
    }


def test_functions_wait_for_their_policy_without_a_redundant_role_dependency(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    for function in dev_stack.collectors.functions.values():
        body = resource(dev_template, logical_id(dev_stack, function))
        policy = function.role.node.find_child("DefaultPolicy")  # type: ignore[union-attr]
        assert body["DependsOn"] == [logical_id(dev_stack, policy)]


def test_a_feed_without_a_schedule_fails_synth() -> None:
    settings = dataclasses.replace(
        DEV, collector_schedules=tuple(p for p in DEV.collector_schedules if p[0] != "comtrade")
    )
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(region=settings.region))
    lake = DataLake(stack, "DataLake", settings=settings)
    ingestion = Ingestion(
        stack, "Ingestion", settings=settings, raw_bucket=lake.raw_bucket, key=lake.key
    )
    with pytest.raises(ValueError, match="schedules"):
        Collectors(
            stack,
            "Collectors",
            settings=settings,
            feeds_delivery=ingestion.feeds_delivery,
            key=lake.key,
        )
