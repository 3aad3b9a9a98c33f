"""Real-shaped API Gateway events for the handlers: the recorded one, re-aimed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from exportintel.local.api import import_handler
from exportintel.local.pump import StreamRecord, lambda_consumer
from exportintel.serving.functions import API_FUNCTIONS, COUNTERS_HANDLER
from tests.serving.world import STREAM, World

RECORDED = Path(__file__).resolve().parents[1] / "events" / "api" / "get_exporter_matches.json"


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:test"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The recorded REST proxy event with another method, route, query and body."""
    event: dict[str, Any] = copy.deepcopy(json.loads(RECORDED.read_text(encoding="utf-8")))
    event.update(resource=resource, path=path, httpMethod=method)
    event["requestContext"].update(resourcePath=resource, httpMethod=method, path=f"/prod{path}")
    event["pathParameters"] = path_parameters
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if headers is not None:
        event["headers"] = headers
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"] = {**event["headers"], "Content-Type": "application/json"}
    return event


def invoke(unit: str, event: dict[str, Any]) -> tuple[int, Any, dict[str, Any]]:
    """Call a function's handler; the status, the decoded body and the headers."""
    function = next(f for f in API_FUNCTIONS if f.unit == unit)
    handler = import_handler(function.handler_file, f"exportintel_api_{unit}_handler")
    response = handler.lambda_handler(event, Context())
    headers = {**(response.get("headers") or {})}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = values[-1]
    text = response.get("body") or ""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    body = json.loads(text) if content_type.startswith("application/json") and text else text
    return int(response["statusCode"]), body, headers


def stream_records(world: World) -> list[StreamRecord]:
    shard = world.kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    iterator = world.kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = world.kinesis.get_records(ShardIterator=iterator)["Records"]
    return [
        StreamRecord(
            data=r["Data"],
            partition_key=r["PartitionKey"],
            sequence_number=r["SequenceNumber"],
            shard_id=shard,
            arrival=r["ApproximateArrivalTimestamp"],
        )
        for r in records
    ]


def deliver(world: World) -> None:
    """The stream's records to the counter handler, as the pump and event-source mapping do."""
    handler = import_handler(COUNTERS_HANDLER, "exportintel_counters_handler")
    arn = world.kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    consume = lambda_consumer(
        handler.lambda_handler, stream_arn=arn["StreamARN"], region="ap-northeast-2"
    )
    consume(stream_records(world))


def live(path: str, **query: str) -> Any:
    status, body, _ = invoke("live", rest_event("GET", path, path, query=query or None))
    assert status == 200, body
    return body
