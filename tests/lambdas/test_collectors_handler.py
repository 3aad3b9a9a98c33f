"""The collector Lambda on emulated AWS: delivers a day once, re-runs are idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.collectors.feeds import Request

RECORDED = Path(__file__).resolve().parents[1] / "events" / "collectors"


@dataclass
class FakeContext:
    function_name: str = "collector-eia-oil"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-2:123456789012:function:collector"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="raw", CreateBucketConfiguration={
            "LocationConstraint": "ap-northeast-2"})  # fmt: skip
        boto3.client("firehose").create_delivery_stream(
            DeliveryStreamName="feeds",
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::raw",
                "Prefix": "feeds/",
            },
        )
        boto3.client("dynamodb").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        secret = boto3.client("secretsmanager").create_secret(Name="eia", SecretString="k-123")
        for name, value in {"FEED": "eia_oil", "FEEDS_DELIVERY_STREAM": "feeds",
                            "IDEMPOTENCY_TABLE": "idempotency",
                            "API_KEY_SECRET_ARN": secret["ARN"],
                            "POWERTOOLS_TRACE_DISABLED": "true"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        yield {"s3": s3}


def delivered(s3: Any) -> list[dict[str, Any]]:
    records = []
    for item in s3.list_objects_v2(Bucket="raw").get("Contents", []):
        body = s3.get_object(Bucket="raw", Key=item["Key"])["Body"].read().decode()
        records += [json.loads(line) for line in body.splitlines() if line]
    return records


def test_a_day_is_collected_once_and_a_rerun_is_answered_from_the_record(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.collectors import handler

    calls: list[Request] = []

    def fake_get(request: Request) -> bytes:
        calls.append(request)
        return (RECORDED / "eia_oil.json").read_bytes()

    monkeypatch.setattr(handler, "https_get", fake_get)
    first = handler.lambda_handler({"id": "evt-1", "date": "2025-03-14"}, FakeContext())
    again = handler.lambda_handler({"id": "evt-2", "date": "2025-03-14"}, FakeContext())
    assert first == again
    assert first["accepted"] == 2 and first["records"] == 2
    assert len(calls) == 1
    assert calls[0].params["api_key"] == "k-123"
    records = delivered(aws["s3"])
    assert [(r["_dataset"], r["commodity"]) for r in records] == [
        ("commodity_prices", "brent_crude"), ("commodity_prices", "wti_crude")]  # fmt: skip


def test_a_malformed_date_is_refused_before_any_call(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.collectors import handler

    monkeypatch.setattr(handler, "https_get", lambda request: pytest.fail("no call expected"))
    with pytest.raises(ValueError, match="Invalid isoformat"):
        handler.lambda_handler({"id": "e", "date": "14/03/2025"}, FakeContext())
    assert delivered(aws["s3"]) == []


def test_a_provider_failure_fails_the_run_so_lambda_retries_it(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exportintel.collectors.feeds import FeedError
    from lambdas.collectors import handler

    def broken(request: Request) -> bytes:
        raise FeedError("GET https://api.eia.gov answered 500")

    monkeypatch.setattr(handler, "https_get", broken)
    with pytest.raises(FeedError):
        handler.lambda_handler({"id": "e", "date": "2025-03-14"}, FakeContext())
    # The failed run is not remembered as done: the retry fetches again.
    monkeypatch.setattr(handler, "https_get", lambda r: (RECORDED / "eia_oil.json").read_bytes())
    result = handler.lambda_handler({"id": "e2", "date": "2025-03-14"}, FakeContext())
    assert result["accepted"] == 2
