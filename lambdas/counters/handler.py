"""Live-counter Lambda: folds the clickstream's Kinesis records into the counters table.

An event-source mapping on the clickstream stream invokes it with batches (the local pump
does the same through `exportintel.local.pump.lambda_consumer`). Each record is one web event
as base64 JSON, possibly newline-terminated; `exportintel.serving.counters` applies it once.

Partial batch responses: a record that failed for a passing reason (throttling, a transaction
conflict) is reported in `batchItemFailures`, so Lambda retries from it and the records after
it; the ones already applied count as duplicates then. A record that breaks the `web_events`
contract, or is not JSON, is logged with its reason and counted as rejected, not failed: a
retry would reject it again and hold the shard up.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import cache, partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from exportintel.serving.counters import Outcome, Status, apply_event, decode_failure
from exportintel.serving.functions import KEY_SECRET_ENV
from exportintel.serving.tables import COUNTERS

logger = Logger(service="counters")
tracer = Tracer(service="counters")
metrics = Metrics(namespace="ExportIntel", service="counters")
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
METRIC_NAMES = {
    Status.APPLIED: "applied",
    Status.DUPLICATE: "duplicates",
    Status.IGNORED: "ignored",
    Status.REJECTED: "rejected",
}


@cache
def counters_table(name: str) -> Any:
    """The table resource, made once per execution environment."""
    return boto3.resource("dynamodb").Table(name)


def pseudonymisation_key() -> bytes:
    """The HMAC key (hex in Secrets Manager); Powertools caches the secret for 5 minutes."""
    secret = parameters.get_secret(os.environ[KEY_SECRET_ENV])
    return bytes.fromhex(str(secret).strip())


def handle_record(
    record: KinesisStreamRecord, *, table: Any, key: bytes, tally: Counter[Status]
) -> str:
    """Apply one stream record; raises on transient failures (the record is then retried)."""
    sequence = record.kinesis.sequence_number
    event = _decode(record.kinesis.data_as_bytes())
    if isinstance(event, Outcome):
        outcome = event
    else:
        try:
            outcome = apply_event(table, event, key=key)
        except Exception as error:
            # Throttling or a transaction conflict (ClientError), or a bug: Lambda retries.
            code = error.response.get("Error", {}) if isinstance(error, ClientError) else {}
            logger.warning(
                "failed, the record will be retried",
                extra={
                    "event_id": str(event.get("event_id"))[:64],
                    "sequence_number": sequence,
                    "error": code.get("Code") or type(error).__name__,
                },
            )
            raise
    _log(outcome, sequence)
    tally[outcome.status] += 1
    return outcome.status.value


def _decode(data: bytes) -> dict[str, Any] | Outcome:
    """The web event a record carries, or its rejection when it is not one JSON object."""
    try:
        event = json.loads(data)  # a trailing newline is whitespace to JSON
    except ValueError as error:  # UnicodeDecodeError included
        return decode_failure(data, type(error).__name__)
    if not isinstance(event, dict):
        return decode_failure(data, f"a JSON {type(event).__name__}")
    return event


def _log(outcome: Outcome, sequence: str) -> None:
    details = {"event_id": outcome.event_id, "sequence_number": sequence}
    if outcome.status == Status.REJECTED:
        logger.warning("rejected", extra={**details, "reason": outcome.reason})
    elif outcome.status == Status.IGNORED:
        logger.debug("ignored", extra={**details, "reason": outcome.reason})
    else:
        logger.debug(outcome.status.value, extra=details)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tally: Counter[Status] = Counter()
    record_handler = partial(
        handle_record,
        table=counters_table(os.environ[COUNTERS.env_var]),
        key=pseudonymisation_key(),
        tally=tally,
    )
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    for status, name in METRIC_NAMES.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=tally[status])
    logger.info(
        "batch done",
        extra={
            "records": len(event.get("Records", [])),
            **{name: tally[status] for status, name in METRIC_NAMES.items()},
            "failed": len(response.get("batchItemFailures", [])),
        },
    )
    return dict(response)
