"""Events API: clickstream batches (up to 500 events) validated one by one onto Kinesis.

The reply lists every event (accepted, rejected with the reason, or failed after retries):
200 when all were accepted, 207 when some were not, 400 when none was valid.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from exportintel.ingest.delivery import kinesis_put
from exportintel.serving.api import PayloadTooLarge, json_response, make_app, resolve
from exportintel.serving.functions import METRICS_NAMESPACE, STREAM_ENV
from exportintel.serving.intake import MAX_EVENTS, send_events

logger = Logger(service="events")
tracer = Tracer(service="events")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="events")
app = make_app()


class EventBatch(BaseModel):
    """Web events as the contract `web_events` declares them; each is checked on its own."""

    events: list[Any] = Field(min_length=1, description=f"1 to {MAX_EVENTS} web events")


@app.post("/events", summary="Send up to 500 clickstream events")
@tracer.capture_method
def post_events(body: EventBatch) -> Response[str]:
    if len(body.events) > MAX_EVENTS:
        raise PayloadTooLarge(f"{len(body.events)} events: at most {MAX_EVENTS} per batch")
    put = kinesis_put(boto3.client("kinesis"), os.environ[STREAM_ENV])
    result = send_events(body.events, put).to_dict()
    for status in ("accepted", "rejected", "failed"):
        metrics.add_metric(name=f"events_{status}", unit=MetricUnit.Count, value=result[status])
    if result["rejected"]:
        logger.info("events rejected", extra={"rejected": result["rejected"]})
    status = 200 if result["accepted"] == result["received"] else 207
    if result["accepted"] == 0 and result["failed"] == 0:
        status = 400
        result = {
            "error": "no_valid_event",
            "message": f"none of the {result['received']} events is valid: see results",
            **result,
        }
    return json_response(status, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
