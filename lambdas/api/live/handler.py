"""Live API: the best profiles by live recommendation score (with the fallback rules), and
today's fair (most viewed, saved and inquired; meetings per exporter). Thin routes over
`exportintel.serving.counters`, which the clickstream consumer keeps current."""

import os
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from exportintel.serving import popular as live_counters
from exportintel.serving.api import make_app, resolve
from exportintel.serving.functions import KEY_SECRET_ENV, METRICS_NAMESPACE
from exportintel.serving.store import table
from exportintel.serving.tables import COUNTERS

logger = Logger(service="live")
tracer = Tracer(service="live")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="live")
app = make_app()

Category = Annotated[
    str | None,
    Query(pattern=r"^(0[1-9]|[1-8]\d|9[0-7])$", description="HS chapter of the page, 2 digits"),
]
UserId = Annotated[
    str | None, Query(min_length=1, max_length=128, description="Signed-in user's account id")
]
Limit = Annotated[int, Query(ge=1, le=50, description="How many profiles")]


def _key() -> bytes:
    """The pseudonymisation key (user ids are counted under their pseudonyms only)."""
    return bytes.fromhex(str(parameters.get_secret(os.environ[KEY_SECRET_ENV], max_age=3600)))


@app.get("/popular", summary="The best profiles by live recommendation score")
@tracer.capture_method
def popular(category: Category = None, user_id: UserId = None, limit: Limit = 10) -> dict[str, Any]:
    items = live_counters.popular(
        table(COUNTERS), category=category, user_id=user_id, key=_key(), limit=limit
    )
    return {"category": category, "known_user": user_id is not None, "items": items}


@app.get("/fair/live", summary="Today's most viewed, saved and inquired; meetings")
@tracer.capture_method
def fair_live(limit: Limit = 10) -> dict[str, Any]:
    return live_counters.fair_live(table(COUNTERS), limit=limit)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
