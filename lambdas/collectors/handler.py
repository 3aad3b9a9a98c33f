"""Collector Lambda: one function per feed (env FEED), run daily by an EventBridge schedule.

The event may name a `date` (yyyy-MM-dd) to re-collect a day by hand; by default it is
yesterday in Seoul. A run for the same feed and date that already succeeded is not repeated
(Powertools idempotency, DynamoDB): the earlier result is returned.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from exportintel.collectors.collect import collect, yesterday_in_seoul
from exportintel.collectors.feeds import get_feed
from exportintel.collectors.http import https_get
from exportintel.ingest.delivery import firehose_put

logger = Logger(service="collectors")
tracer = Tracer(service="collectors")
# A result is remembered for 35 days: a re-run within a month is answered from the record.
IDEMPOTENCY_SECONDS = 35 * 24 * 3600


def _run(job: dict[str, str]) -> dict[str, object]:
    feed = get_feed(job["feed"])
    secret_name = os.environ.get("API_KEY_SECRET_ARN")
    api_key = parameters.get_secret(secret_name) if secret_name else None
    result = collect(
        feed,
        dt.date.fromisoformat(job["date"]),
        api_key=str(api_key) if api_key else None,
        fetch=https_get,
        put=firehose_put(boto3.client("firehose"), os.environ["FEEDS_DELIVERY_STREAM"]),
    )
    logger.info("collected", extra=result.to_dict())
    return result.to_dict()


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    day = event.get("date") or yesterday_in_seoul().isoformat()
    dt.date.fromisoformat(day)  # a malformed date fails here, before any call
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS, lambda_context=context)
    persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])
    run = idempotent_function(
        data_keyword_argument="job", persistence_store=persistence, config=config
    )(_run)
    result: dict[str, object] = run(job={"feed": os.environ["FEED"], "date": day})
    return result
