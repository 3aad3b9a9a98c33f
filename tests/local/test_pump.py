"""The pump: Kinesis -> Firehose -> raw under `<dataset>/dt=.../`, once, and to its consumers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from exportintel.ingest import layout
from exportintel.local.emulation import EmulatedAws
from exportintel.local.pump import (
    ConsumerError,
    FileCheckpoints,
    MemoryCheckpoints,
    Pump,
    StreamRecord,
    kinesis_event,
    lambda_consumer,
)
from exportintel.local.raw_layout import (
    extract_keys,
    java_time_format,
    parse_extraction_query,
    render_prefix,
    split_records,
)
from tests.local.harness import RunningEmulation

RAW_KEY = re.compile(
    r"^(?P<dataset>[a-z_]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/"
    r"exportintel-[a-z0-9-]+-1-(?P<ts>\d{4}-\d{2}-\d{2})-\d{2}-\d{2}-\d{2}-[0-9a-f-]+$"
)


def _events(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"event_id": f"{prefix}-{i}", "session_id": f"{prefix}-s{i % 10}", "event_type": "login"}
        for i in range(count)
    ]


def _put_events(aws: EmulatedAws, events: Sequence[dict[str, Any]]) -> None:
    aws.client("kinesis").put_records(
        StreamName=aws.resources.clickstream_stream,
        Records=[
            {"Data": json.dumps(e).encode() + b"\n", "PartitionKey": e["session_id"]}
            for e in events
        ],
    )


def _raw_objects(aws: EmulatedAws) -> dict[str, bytes]:
    s3 = aws.client("s3")
    bucket = aws.resources.raw_bucket
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def _pump(aws: EmulatedAws, **kwargs: Any) -> Pump:
    return Pump(
        kinesis=aws.client("kinesis"),
        firehose=aws.client("firehose"),
        s3=aws.client("s3"),
        resources=aws.resources,
        **kwargs,
    )


@pytest.fixture(scope="module")
def pumped(emulation: RunningEmulation) -> EmulatedAws:
    """An environment of its own (two shards) on the session's server."""
    return emulation.environment("pumptest", kinesis_shards=2)


def test_the_pump_lands_the_stream_in_raw_as_aws_lays_it_out(pumped: EmulatedAws) -> None:
    events = _events("a", 40)
    _put_events(pumped, events)
    seen: list[StreamRecord] = []

    result = _pump(pumped, consumers=[seen.extend]).run_once()

    assert result.records == 40
    assert result.delivered.accepted == 40 and result.delivered.reconciled
    assert sorted(r.json()["event_id"] for r in seen) == sorted(e["event_id"] for e in events)
    assert {r.shard_id for r in seen} == {"shardId-000000000000", "shardId-000000000001"}
    objects = _raw_objects(pumped)
    assert objects, "nothing reached raw"
    lines: list[bytes] = []
    for key, body in objects.items():
        match = RAW_KEY.match(key)
        assert match, f"{key} is not laid out as <dataset>/dt=<day>/<firehose object name>"
        assert match["dataset"] == layout.CLICKSTREAM_DATASET
        assert match["dt"] == match["ts"]  # the landing day is the (UTC) arrival day
        assert body.endswith(b"\n")
        lines.extend(body.splitlines())
    assert sorted(json.loads(line)["event_id"] for line in lines) == sorted(
        e["event_id"] for e in events
    )


def test_a_restarted_pump_does_not_deliver_twice(pumped: EmulatedAws, tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints.json"
    _pump(pumped, checkpoints=FileCheckpoints(checkpoints)).run_once()  # drain what is there
    before = sum(len(b.splitlines()) for b in _raw_objects(pumped).values())

    _put_events(pumped, _events("b", 5))
    second = _pump(pumped, checkpoints=FileCheckpoints(checkpoints)).run_once()
    third = _pump(pumped, checkpoints=FileCheckpoints(checkpoints)).run_once()

    assert (second.records, third.records) == (5, 0)
    lines = [line for b in _raw_objects(pumped).values() for line in b.splitlines()]
    assert len(lines) == before + 5
    new = sorted(e for e in (json.loads(line)["event_id"] for line in lines) if e[0] == "b")
    assert new == ["b-0", "b-1", "b-2", "b-3", "b-4"]


def test_a_failing_consumer_gets_the_batch_again(pumped: EmulatedAws) -> None:
    checkpoints = MemoryCheckpoints()
    _pump(pumped, checkpoints=checkpoints).run_once()
    _put_events(pumped, _events("c", 3))

    def broken(records: Sequence[StreamRecord]) -> None:
        raise ConsumerError("counter table unavailable")

    with pytest.raises(ConsumerError):
        _pump(pumped, checkpoints=checkpoints, consumers=[broken]).run_once()
    seen: list[StreamRecord] = []
    retry = _pump(pumped, checkpoints=checkpoints, consumers=[seen.extend]).run_once()

    assert retry.records == 3
    assert sorted(r.json()["event_id"] for r in seen) == ["c-0", "c-1", "c-2"]


def test_feeds_are_filed_per_dataset_and_bad_records_kept_apart(pumped: EmulatedAws) -> None:
    records = [
        {"_dataset": "fx_rates", "currency": "USD", "krw_per_unit": 1400.5},
        {"_dataset": "country_risk", "country_code": "UA", "level": 4},
        {"_dataset": "fx_rates", "currency": "JPY", "krw_per_unit": 9.1},
        {"currency": "EUR"},  # no dataset: dynamic partitioning cannot place it
    ]
    pumped.client("firehose").put_record_batch(
        DeliveryStreamName=pumped.resources.feeds_firehose,
        Records=[{"Data": json.dumps(r).encode() + b"\n"} for r in records],
    )

    result = _pump(pumped).normalise()

    assert result.objects == 1 and result.errors == 1
    objects = _raw_objects(pumped)
    by_prefix: dict[str, list[dict[str, Any]]] = {}
    for key, body in objects.items():
        if key.startswith(layout.CLICKSTREAM_DATASET):
            continue
        top = key.split("/dt=")[0] if not key.startswith("errors/") else "errors"
        by_prefix.setdefault(top, []).extend(json.loads(line) for line in body.splitlines())
        assert "!{" not in key
    assert [r["currency"] for r in by_prefix["fx_rates"]] == ["USD", "JPY"]
    assert [r["country_code"] for r in by_prefix["country_risk"]] == ["UA"]
    assert by_prefix["errors"] == [{"currency": "EUR"}]
    error_key = next(k for k in objects if k.startswith("errors/"))
    assert error_key.startswith("errors/feeds/processing-failed/dt=")


def test_prefix_expressions_are_evaluated_as_firehose_does() -> None:
    moment = dt.datetime(2026, 3, 9, 23, 5, 7, tzinfo=dt.UTC)
    assert java_time_format("yyyy-MM-dd/HH", moment) == "2026-03-09/23"
    assert render_prefix(layout.FEEDS_PREFIX, moment, {"dataset": "fx_rates"}) == (
        "fx_rates/dt=2026-03-09/"
    )
    assert render_prefix(layout.FEEDS_ERROR_PREFIX, moment, error_output_type="x") == (
        "errors/feeds/x/dt=2026-03-09/"
    )
    with pytest.raises(ValueError, match="cannot evaluate"):
        render_prefix("!{partitionKeyFromLambda:k}/", moment)


def test_the_extraction_query_subset() -> None:
    assert parse_extraction_query(layout.FEEDS_PARTITION_QUERY) == {"dataset": ["_dataset"]}
    query = parse_extraction_query("{dataset: ._dataset, year: .meta.year}")
    assert extract_keys(b'{"_dataset": "a", "meta": {"year": 2026}}', query) == {
        "dataset": "a",
        "year": "2026",
    }
    assert extract_keys(b'{"meta": {"year": 2026}}', query) is None
    assert extract_keys(b"not json", query) is None
    with pytest.raises(ValueError):
        parse_extraction_query(".[] | select(.a)")


def test_records_run_together_without_newlines_are_still_split() -> None:
    body = b'{"a":1}{"a":2}\n{"a":3}\nnot json\n\n'
    assert list(split_records(body)) == [b'{"a":1}', b'{"a":2}', b'{"a":3}', b"not json"]


def test_a_lambda_handler_receives_the_kinesis_event_shape() -> None:
    records = [StreamRecord("shardId-0", "7", "s1", b'{"event_id":"e1"}\n')]
    received: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        received.append(event)
        assert context.function_name
        return {"batchItemFailures": []}

    lambda_consumer(handler, stream_arn="arn:stream", region="ap-northeast-2")(records)
    entry = received[0]["Records"][0]
    assert entry["eventSourceARN"] == "arn:stream"
    assert entry["eventID"] == "shardId-0:7"
    assert json.loads(base64.b64decode(entry["kinesis"]["data"])) == {"event_id": "e1"}
    assert kinesis_event(records, "arn:stream", "ap-northeast-2") == received[0]

    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "7"}]}

    with pytest.raises(ConsumerError):
        lambda_consumer(failing, stream_arn="arn:stream", region="ap-northeast-2")(records)
