"""The ingestion unit: the clickstream stream, both delivery streams and their roles."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from exportintel.ingest import layout
from exportintel.settings import DEV, PROD, EnvironmentSettings, FirehoseBuffering
from infra.data_lake import DataLake
from infra.ingestion import Ingestion
from infra.platform_stack import PlatformStack
from tests.infra.support import get_att_arn, logical_id, properties, resource


def _destination(template: Template, stack: PlatformStack, delivery: Any) -> dict[str, Any]:
    config: dict[str, Any] = properties(template, logical_id(stack, delivery))[
        "ExtendedS3DestinationConfiguration"
    ]
    return config


def _policy_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_clickstream_stream_is_kms_encrypted_with_settings_capacity(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    props = properties(template, logical_id(stack, stack.ingestion.clickstream))
    assert props["StreamEncryption"] == {
        "EncryptionType": "KMS",
        "KeyId": get_att_arn(logical_id(stack, stack.data_lake.key)),
    }
    assert props["ShardCount"] == settings.kinesis_shards
    assert props["RetentionPeriodHours"] == settings.kinesis_retention_hours
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_two_delivery_streams_write_kms_encrypted_objects_to_raw(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    dev_template.resource_count_is("AWS::KinesisFirehose::DeliveryStream", 2)
    raw_arn = get_att_arn(logical_id(dev_stack, dev_stack.data_lake.raw_bucket))
    key_arn = get_att_arn(logical_id(dev_stack, dev_stack.data_lake.key))
    ingestion = dev_stack.ingestion
    for delivery in (ingestion.clickstream_delivery, ingestion.feeds_delivery):
        destination = _destination(dev_template, dev_stack, delivery)
        assert destination["BucketARN"] == raw_arn
        assert destination["EncryptionConfiguration"] == {
            "KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}
        }
        assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
        assert destination["ErrorOutputPrefix"].startswith("errors/")
        assert "!{firehose:error-output-type}" in destination["ErrorOutputPrefix"]


def test_clickstream_delivery_reads_the_stream_into_web_events(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    ingestion = dev_stack.ingestion
    props = properties(dev_template, logical_id(dev_stack, ingestion.clickstream_delivery))
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == get_att_arn(
        logical_id(dev_stack, ingestion.clickstream)
    )
    destination = props["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == "web_events/dt=!{timestamp:yyyy-MM-dd}/"
    assert destination["ErrorOutputPrefix"] == (
        "errors/web_events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    )
    assert destination["BufferingHints"] == {
        "IntervalInSeconds": DEV.clickstream_buffering.interval_seconds,
        "SizeInMBs": DEV.clickstream_buffering.size_mib,
    }
    # Firehose refuses SSE on a Kinesis-sourced stream: the source stream is encrypted instead.
    assert "DeliveryStreamEncryptionConfigurationInput" not in props


def test_feeds_delivery_partitions_by_dataset_into_json_lines(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    ingestion = dev_stack.ingestion
    props = properties(dev_template, logical_id(dev_stack, ingestion.feeds_delivery))
    assert props["DeliveryStreamType"] == "DirectPut"
    assert props["DeliveryStreamEncryptionConfigurationInput"] == {
        "KeyType": "CUSTOMER_MANAGED_CMK",
        "KeyARN": get_att_arn(logical_id(dev_stack, dev_stack.data_lake.key)),
    }
    destination = props["ExtendedS3DestinationConfiguration"]
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert destination["Prefix"] == "!{partitionKeyFromQuery:dataset}/dt=!{timestamp:yyyy-MM-dd}/"
    assert destination["ErrorOutputPrefix"] == (
        "errors/feeds/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    )
    processing = destination["ProcessingConfiguration"]
    assert processing["Enabled"] is True
    # No AppendDelimiterToRecord: producers end records with a newline, as locally.
    [extraction] = processing["Processors"]
    assert extraction["Type"] == "MetadataExtraction"
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in extraction["Parameters"]}
    assert parameters == {
        "MetadataExtractionQuery": '{"dataset":._dataset}',
        "JsonParsingEngine": "JQ-1.6",
    }


def test_delivery_prefixes_are_the_shared_raw_layout(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    """Producers, the local emulation and the raw Glue tables assume the same layout."""
    ingestion = dev_stack.ingestion
    clickstream = _destination(dev_template, dev_stack, ingestion.clickstream_delivery)
    feeds = _destination(dev_template, dev_stack, ingestion.feeds_delivery)
    assert clickstream["Prefix"] == layout.CLICKSTREAM_PREFIX
    assert clickstream["ErrorOutputPrefix"] == layout.CLICKSTREAM_ERROR_PREFIX
    assert feeds["Prefix"] == layout.FEEDS_PREFIX
    assert feeds["ErrorOutputPrefix"] == layout.FEEDS_ERROR_PREFIX


def test_feeds_buffering_meets_the_dynamic_partitioning_minimum(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    hints = _destination(dev_template, dev_stack, dev_stack.ingestion.feeds_delivery)[
        "BufferingHints"
    ]
    assert hints == {
        "IntervalInSeconds": DEV.feeds_buffering.interval_seconds,
        "SizeInMBs": DEV.feeds_buffering.size_mib,
    }
    assert hints["SizeInMBs"] >= 64
    assert hints["IntervalInSeconds"] <= 900


def test_a_dynamic_partitioning_buffer_below_64_mib_fails_synth() -> None:
    settings = dataclasses.replace(
        DEV, feeds_buffering=FirehoseBuffering(size_mib=5, interval_seconds=60)
    )
    stack = cdk.Stack(cdk.App(), "Stack")
    lake = DataLake(stack, "DataLake", settings=settings)
    with pytest.raises(ValueError, match="64 MiB"):
        Ingestion(stack, "Ingestion", settings=settings, raw_bucket=lake.raw_bucket, key=lake.key)


def test_clickstream_role_puts_only_under_its_prefixes_and_never_deletes(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    raw_id = logical_id(dev_stack, dev_stack.data_lake.raw_bucket)
    statements = _policy_statements(
        dev_template, logical_id(dev_stack, dev_stack.ingestion.clickstream_delivery_role)
    )
    (put,) = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert put["Resource"] == [
        {"Fn::Join": ["", [get_att_arn(raw_id), "/errors/web_events/*"]]},
        {"Fn::Join": ["", [get_att_arn(raw_id), "/web_events/*"]]},
    ]
    actions = _actions(statements)
    assert not {a for a in actions if a.startswith(("s3:Delete", "s3:GetObject", "s3:*"))}
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator"} <= actions
    assert {"logs:PutLogEvents", "kms:Decrypt"} <= actions


def test_feeds_role_cannot_read_or_delete_raw_objects(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    statements = _policy_statements(
        dev_template, logical_id(dev_stack, dev_stack.ingestion.feeds_delivery_role)
    )
    actions = _actions(statements)
    assert "s3:PutObject" in actions
    assert not {a for a in actions if a.startswith(("s3:Delete", "s3:GetObject", "s3:*"))}
    assert not any(a.startswith("kinesis:") for a in actions)


def test_delivery_streams_are_created_after_their_role_policies(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    ingestion = dev_stack.ingestion
    for delivery, role in (
        (ingestion.clickstream_delivery, ingestion.clickstream_delivery_role),
        (ingestion.feeds_delivery, ingestion.feeds_delivery_role),
    ):
        depends_on = resource(dev_template, logical_id(dev_stack, delivery))["DependsOn"]
        policy = role.node.find_child("DefaultPolicy").node.find_child("Resource")
        assert logical_id(dev_stack, policy) in depends_on


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_delivery_error_logs_keep_the_environments_retention(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    ingestion = stack.ingestion
    for delivery, log_group in (
        (ingestion.clickstream_delivery, ingestion.clickstream_log_group),
        (ingestion.feeds_delivery, ingestion.feeds_log_group),
    ):
        group_id = logical_id(stack, log_group)
        assert properties(template, group_id)["RetentionInDays"] == settings.log_retention_days
        logging = _destination(template, stack, delivery)["CloudWatchLoggingOptions"]
        assert logging["LogGroupName"] == {"Ref": group_id}
        streams = [
            s["Properties"]
            for s in template.find_resources("AWS::Logs::LogStream").values()
            if s["Properties"]["LogGroupName"] == {"Ref": group_id}
        ]
        assert streams == [
            {"LogGroupName": {"Ref": group_id}, "LogStreamName": logging["LogStreamName"]}
        ]
    assert json.dumps(DEV.log_retention_days) != json.dumps(PROD.log_retention_days)
