"""The live-counter Lambda on emulated AWS, fed a Kinesis batch as AWS shapes it."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from exportintel.privacy import pseudonymise
from exportintel.serving.functions import KEY_SECRET_ENV
from exportintel.serving.provision import create_table
from exportintel.serving.tables import COUNTERS

BATCH = Path(__file__).resolve().parents[1] / "events" / "counters" / "kinesis_batch.json"
KEY = bytes(range(100, 132))
TARGET = "EXP000101"


@dataclass
class FakeContext:
    function_name: str = "exportintel-dev-counters"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-2:123456789012:function:counters"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from lambdas.counters import handler

    with mock_aws():
        create_table(boto3.client("dynamodb"), COUNTERS, "exportintel-dev-counters")
        secret = boto3.client("secretsmanager").create_secret(
            Name="exportintel-dev-pseudonymisation", SecretString=KEY.hex()
        )
        monkeypatch.setenv(COUNTERS.env_var, "exportintel-dev-counters")
        monkeypatch.setenv(KEY_SECRET_ENV, secret["ARN"])
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        # Clients and secrets cached under another test's emulation must not be reused.
        handler.counters_table.cache_clear()
        handler.parameters.clear_caches()
        yield boto3.resource("dynamodb").Table("exportintel-dev-counters")
        handler.counters_table.cache_clear()
        handler.parameters.clear_caches()


def batch() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(BATCH.read_text(encoding="utf-8"))
    return loaded


def item(table: Any, sk: str) -> dict[str, Any]:
    return dict(table.get_item(Key={"pk": f"ITEM#{TARGET}", "sk": sk}).get("Item", {}))


def emitted_metrics(output: str) -> dict[str, float]:
    """The metric values of the EMF documents Powertools printed."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"]:
                for metric in definition["Metrics"]:
                    value = document[metric["Name"]]  # a list when added more than once
                    values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


def test_a_batch_is_counted_once_even_when_delivered_again(
    table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdas.counters import handler

    response = handler.lambda_handler(batch(), FakeContext())
    assert response == {"batchItemFailures": []}
    # view (its redelivery skipped), save, inquiry; the login is ignored, the purchase rejected
    assert emitted_metrics(capsys.readouterr().out) == {
        "applied": 3,
        "duplicates": 1,
        "ignored": 1,
        "rejected": 1,
    }
    counted = item(table, "85#2026-11-26")
    assert (counted["views"], counted["saves"], counted["inquiries"]) == (1, 1, 1)
    assert float(counted["rs"]) == 2.2
    user = pseudonymise("buyer.kim@example.com", KEY)
    dealt = table.get_item(Key={"pk": f"USER#{user}", "sk": f"DEALT#{TARGET}"})
    assert dealt["Item"]["actions"] == 2  # the save and the inquiry

    # Lambda retries a whole batch after a timeout: nothing counts twice.
    assert handler.lambda_handler(batch(), FakeContext()) == {"batchItemFailures": []}
    assert emitted_metrics(capsys.readouterr().out) == {
        "applied": 0,
        "duplicates": 4,
        "ignored": 1,
        "rejected": 1,
    }
    assert item(table, "ALL#ALL")["views"] == 1


def test_a_bad_record_is_logged_as_rejected_not_failed(
    table: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from lambdas.counters import handler

    event = batch()
    garbled = copy.deepcopy(event["Records"][0])
    garbled["kinesis"]["data"] = base64.b64encode(b"{not json\n").decode()
    garbled["kinesis"]["sequenceNumber"] = (
        "49656812453093862115870466732893045361226387216315678999"
    )
    event["Records"].append(garbled)
    response = handler.lambda_handler(event, FakeContext())
    assert response == {"batchItemFailures": []}
    rejected = [r.__dict__ for r in caplog.records if r.getMessage() == "rejected"]
    reasons = {r.get("event_id"): r["reason"] for r in rejected}
    assert "event_type: not_allowed" in reasons["0f8e4c1a-5b2d-4c6e-9a1f-3d7b8e2c4a06"]
    assert reasons[None].startswith("not a JSON event (JSONDecodeError")
    assert {r["sequence_number"] for r in rejected} == {
        event["Records"][5]["kinesis"]["sequenceNumber"],
        garbled["kinesis"]["sequenceNumber"],
    }
    assert emitted_metrics(capsys.readouterr().out)["rejected"] == 2
    # The clear user id is not logged either.
    assert all("buyer.kim@example.com" not in repr(r.__dict__) for r in caplog.records)


def test_a_throttled_record_is_reported_for_retry_and_the_others_are_applied(
    table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from lambdas.counters import handler

    throttled_id = "0f8e4c1a-5b2d-4c6e-9a1f-3d7b8e2c4a02"  # the save

    def throttle(params: dict[str, Any], **_: Any) -> None:
        marker = params["TransactItems"][0]["Put"]["Item"]["pk"]
        if marker == f"EVENT#{throttled_id}":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "TransactWriteItems",
            )

    client = handler.counters_table("exportintel-dev-counters").meta.client
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", throttle)
    event = batch()
    response = handler.lambda_handler(event, FakeContext())
    save_sequence = event["Records"][1]["kinesis"]["sequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": save_sequence}]}
    [failed] = [
        r.__dict__
        for r in caplog.records
        if r.levelname == "WARNING" and r.getMessage().startswith("failed")
    ]
    assert (failed["event_id"], failed["error"]) == (throttled_id, "ThrottlingException")
    counted = item(table, "ALL#ALL")
    assert (counted["views"], counted["inquiries"]) == (1, 1)
    assert "saves" not in counted

    # The retry (from the failed record on, as Lambda does) counts the save, and only it.
    client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", throttle)
    event["Records"] = event["Records"][1:]
    assert handler.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    counted = item(table, "ALL#ALL")
    assert (counted["views"], counted["saves"], counted["inquiries"]) == (1, 1, 1)


def test_the_local_pump_feeds_the_handler_as_the_event_source_mapping_would(
    table: Any,
) -> None:
    from exportintel.local.pump import StreamRecord, lambda_consumer
    from lambdas.counters import handler

    arn = batch()["Records"][0]["eventSourceARN"]
    consume = lambda_consumer(handler.lambda_handler, stream_arn=arn, region="ap-northeast-2")
    records = [
        StreamRecord(
            shard_id="shardId-000000000000",
            sequence_number=r["kinesis"]["sequenceNumber"],
            partition_key=r["kinesis"]["partitionKey"],
            data=base64.b64decode(r["kinesis"]["data"]),
        )
        for r in batch()["Records"]
    ]
    consume(records)  # raises ConsumerError if any record failed
    consume(records)  # the pump resends a batch after a crash: counted once
    assert item(table, "ALL#2026-11-26")["views"] == 1
