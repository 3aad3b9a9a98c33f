"""Matching API: firm search, matches in both directions, saves, dismissals and post-meeting
feedback.

Thin routes over `exportintel.serving.matches` and `exportintel.serving.search`; saves,
dismissals and ratings also become web events on the clickstream, so they reach the lake and
the live counters like any other.
"""

import datetime as dt
import os
import random
from typing import Annotated, Any, Literal

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from exportintel.ingest.delivery import kinesis_put
from exportintel.serving import matches as matching
from exportintel.serving import search as firm_search
from exportintel.serving.api import caller, language, make_app, resolve
from exportintel.serving.functions import METRICS_NAMESPACE, STREAM_ENV
from exportintel.serving.intake import api_event, send_events
from exportintel.serving.store import table
from exportintel.serving.tables import FIRMS, MATCHES, PAIR_ACTIONS
from exportintel.settings import LOCAL

logger = Logger(service="matching")
tracer = Tracer(service="matching")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="matching")
app = make_app()

ExporterId = Annotated[str, Path(pattern=r"^EXP\d{6}$", description="Exporter id, EXP + 6 digits")]
BuyerId = Annotated[str, Path(pattern=r"^BUY\d{7}$", description="Buyer id, BUY + 7 digits")]
Shown = Annotated[int, Query(ge=1, le=LOCAL.matching_shown, description="How many matches to show")]
Explore = Annotated[
    float,
    Query(ge=0.0, le=1.0, description="Fair exploration: 0 = the plain top, 1 = by score"),
]
Seed = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="Repeat a draw")]
SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=100,
        description="A firm id, or the beginning of its name (Korean or romanised)",
    ),
]
SearchLimit = Annotated[
    int, Query(ge=1, le=firm_search.MAX_RESULTS, description="How many firms at most")
]


class Feedback(BaseModel):
    """A post-meeting rating by one side of the pair."""

    exporter_id: str = Field(pattern=r"^EXP\d{6}$")
    buyer_id: str = Field(pattern=r"^BUY\d{7}$")
    rater: Literal["exporter", "buyer"]
    rating: Literal[-1.0, -0.5, 0.0, 0.5, 1.0] = Field(
        description="1 very good, 0.5 good, 0 neutral, -0.5 bad, -1 very bad"
    )


def _tables() -> matching.Tables:
    return matching.Tables(table(MATCHES), table(FIRMS), table(PAIR_ACTIONS))


def _list(direction: matching.Direction, firm_id: str, k: int, explore: float, seed: int | None):
    result = matching.matches(
        _tables(),
        direction,
        firm_id,
        k=k,
        explore=explore,
        language=language(app.current_event.headers.get("accept-language")),
        rng=random.Random(seed) if seed is not None else None,
    )
    metrics.add_metric(name=f"{result['source']}_lists", unit=MetricUnit.Count, value=1)
    return result


@app.get("/firms/search", summary="Find firms by id or name")
@tracer.capture_method
def search_firms(q: SearchText, limit: SearchLimit = firm_search.DEFAULT_RESULTS) -> dict[str, Any]:
    return firm_search.search(table(FIRMS), q, limit=limit)


@app.get("/exporters/<exporter_id>/matches", summary="Buyers for an exporter")
@tracer.capture_method
def buyers_for_exporter(
    exporter_id: ExporterId,
    k: Shown = LOCAL.matching_shown,
    explore: Explore = LOCAL.matching_explore,
    seed: Seed = None,
) -> dict[str, Any]:
    return _list("buyers_for_exporter", exporter_id, k, explore, seed)


@app.get("/buyers/<buyer_id>/matches", summary="Exporters for a buyer")
@tracer.capture_method
def exporters_for_buyer(
    buyer_id: BuyerId,
    k: Shown = LOCAL.matching_shown,
    explore: Explore = LOCAL.matching_explore,
    seed: Seed = None,
) -> dict[str, Any]:
    return _list("exporters_for_buyer", buyer_id, k, explore, seed)


def _publish(event: dict[str, Any]) -> None:
    """Put the action's event on the clickstream; a refusal is our fault (5xx), not lost."""
    put = kinesis_put(boto3.client("kinesis"), os.environ[STREAM_ENV])
    outcome = send_events([event], put).results[0]
    if outcome["status"] != "accepted":
        raise RuntimeError(f"the clickstream refused the {event['event_type']} event: {outcome}")


def _action(exporter_id: str, buyer_id: str, action: str) -> dict[str, Any]:
    who = caller(app.current_event.raw_event)
    recorded = matching.record_action(_tables(), exporter_id, buyer_id, action, by=who, at=_now())
    _publish(
        api_event(
            action,
            actor_type="exporter",
            actor_firm_id=exporter_id,
            target_id=buyer_id,
            user_id=who,
            page=app.current_event.path,
            session_id=_session(),
        )
    )
    metrics.add_metric(name=f"{action}s", unit=MetricUnit.Count, value=1)
    return {"recorded": recorded}


@app.post("/matches/<exporter_id>/<buyer_id>/save", summary="Save a match")
@tracer.capture_method
def save(exporter_id: ExporterId, buyer_id: BuyerId) -> dict[str, Any]:
    return _action(exporter_id, buyer_id, "save")


@app.post("/matches/<exporter_id>/<buyer_id>/dismiss", summary="Dismiss a match")
@tracer.capture_method
def dismiss(exporter_id: ExporterId, buyer_id: BuyerId) -> dict[str, Any]:
    return _action(exporter_id, buyer_id, "dismiss")


@app.post("/feedback", summary="Rate a meeting")
@tracer.capture_method
def feedback(body: Feedback) -> dict[str, Any]:
    tables = _tables()
    matching.firm(tables.firms, body.exporter_id, "exporter")
    matching.firm(tables.firms, body.buyer_id, "buyer")
    actor, target = (
        (body.exporter_id, body.buyer_id)
        if body.rater == "exporter"
        else (body.buyer_id, body.exporter_id)
    )
    event = api_event(
        "rating",
        actor_type=body.rater,
        actor_firm_id=actor,
        target_id=target,
        user_id=caller(app.current_event.raw_event),
        page=app.current_event.path,
        session_id=_session(),
        rating=float(body.rating),
    )
    _publish(event)
    metrics.add_metric(name="ratings", unit=MetricUnit.Count, value=1)
    return {"event_id": event["event_id"], "rating": body.rating, "rater": body.rater}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _session() -> str:
    """The API request stands for the session: its id groups the event's records."""
    request_id = app.current_event.request_context.request_id or "local"
    return ("api-" + request_id)[:64]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
