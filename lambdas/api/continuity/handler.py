"""Continuity API: a firm's export continuity index and history, the risk group by page (JSON,
or CSV for officers) and its profile against continuing firms, and where an exporter should
sell next (its market suggestions). Thin routes over `exportintel.serving.continuity` and
`exportintel.serving.markets`."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exportintel.contracts.continuity import SIZE_BANDS
from exportintel.contracts.datasets import KOREAN_REGIONS
from exportintel.serving import continuity, markets
from exportintel.serving.api import json_response, language, make_app, resolve
from exportintel.serving.functions import METRICS_NAMESPACE
from exportintel.serving.store import table
from exportintel.serving.tables import CONTINUITY, FIRMS, MARKETS

logger = Logger(service="continuity")
tracer = Tracer(service="continuity")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="continuity")
app = make_app()

FirmId = Annotated[
    str, Path(pattern=r"^(EXP\d{6}|BUY\d{7})$", description="Firm id: EXP + 6 digits")
]
Year = Annotated[int | None, Query(ge=1990, le=2100, description="Scored year; latest if omitted")]
Chapter = Annotated[
    str | None, Query(pattern=r"^(0[1-9]|[1-8]\d|9[0-7])$", description="HS chapter, 2 digits")
]
Region = Annotated[Literal[KOREAN_REGIONS] | None, Query(description="Head-office region")]  # type: ignore[valid-type]
SizeBand = Annotated[Literal[SIZE_BANDS] | None, Query(description="Firm size band")]  # type: ignore[valid-type]
Limit = Annotated[int, Query(ge=1, le=continuity.MAX_PAGE, description="Firms per page")]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of a page"),
]
Format = Annotated[Literal["json", "csv"], Query(description="json, or csv for a spreadsheet")]


def _language() -> str:
    return language(app.current_event.headers.get("accept-language"))


@app.get("/firms/<firm_id>/continuity", summary="A firm's continuity index")
@tracer.capture_method
def firm_continuity(firm_id: FirmId) -> dict[str, Any]:
    return continuity.firm_continuity(table(CONTINUITY), firm_id, language=_language())


@app.get("/risk-group", summary="The risk group, filtered and paginated")
@tracer.capture_method
def risk_group(
    year: Year = None,
    hs_chapter: Chapter = None,
    region: Region = None,
    size_band: SizeBand = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    format: Format = "json",
) -> Response[str]:
    page = continuity.risk_group(
        table(CONTINUITY),
        year=year,
        hs_chapter=hs_chapter,
        region=region,
        size_band=size_band,
        limit=limit,
        cursor=cursor,
        language=_language(),
    )
    if format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=continuity.risk_group_csv(page),
            headers={
                "Content-Disposition": f'attachment; filename="risk-group-{page["year"]}.csv"',
                **({"X-Next-Cursor": page["next_cursor"]} if page["next_cursor"] else {}),
            },
        )
    return json_response(200, page)


@app.get("/risk-group/profile", summary="The risk group against continuing firms")
@tracer.capture_method
def risk_group_profile(year: Year = None) -> dict[str, Any]:
    return continuity.group_profile(table(CONTINUITY), year=year)


@app.get("/firms/<firm_id>/markets", summary="Markets an exporter should try next")
@tracer.capture_method
def firm_markets(firm_id: FirmId) -> dict[str, Any]:
    return markets.firm_markets(table(MARKETS), table(FIRMS), firm_id, language=_language())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
