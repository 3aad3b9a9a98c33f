"""Serving on the emulation: the tables' environment, loading them from the lake, the live
counters fed by the pump, and the local API.

The handlers read their tables, stream and key from the environment as in AWS; here the
names are the emulation's (`local_table_name`), so `serving_environ` sets what CloudFormation
and the CDK app set there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from exportintel.local.emulation import EmulatedAws
from exportintel.local.pump import Consumer, lambda_consumer
from exportintel.serving.functions import (
    COUNTERS_HANDLER,
    ENVIRONMENT_ENV,
    KEY_SECRET_ENV,
    STREAM_ENV,
)
from exportintel.serving.load import LoadSummary
from exportintel.serving.tables import TABLES, local_table_name

# Locally, metrics and traces have nowhere to go: the handlers skip them.
QUIET_POWERTOOLS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "ExportIntel",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# The curated and derived tables the serving tables are loaded from.
SOURCES = (
    "exporters",
    "buyers",
    "recommendations",
    "continuity_index",
    "export_status",
    "continuity_features",
)


def serving_environ(aws: EmulatedAws) -> dict[str, str]:
    """What the functions' environment holds in AWS, with the emulation's names."""
    environment = aws.settings.name
    return {
        **aws.environ(),
        **{spec.env_var: local_table_name(spec, environment) for spec in TABLES},
        STREAM_ENV: aws.resources.clickstream_stream,
        KEY_SECRET_ENV: aws.resources.pseudonymisation_secret,
        ENVIRONMENT_ENV: environment,
        **QUIET_POWERTOOLS,
    }


def point_handlers(aws: EmulatedAws) -> None:
    """Set this process's environment so handlers run in it reach the emulation."""
    from aws_lambda_powertools.utilities.parameters import base

    os.environ.update(serving_environ(aws))
    # Powertools keeps its default parameter providers, each with the boto3 client it made at
    # first use, for the life of the process: one made before (against another endpoint, or
    # AWS itself) would keep going there. The next `get_secret` makes them anew, here.
    base.DEFAULT_PROVIDERS.clear()


def serving_tables(aws: EmulatedAws) -> dict[str, Any]:
    """role -> boto3 Table on the emulation."""
    dynamodb = aws.resource("dynamodb")
    return {spec.role: dynamodb.Table(local_table_name(spec, aws.settings.name)) for spec in TABLES}


def load_from_lake(aws: EmulatedAws, workdir: Path) -> LoadSummary | None:
    """Load the serving tables from the curated zone; None when the lake has no firms yet."""
    import pandas as pd

    from exportintel.local.lake import LocalLake, has_data
    from exportintel.serving.load import load_serving

    lake = LocalLake(aws.resources, workdir)
    folders = {name: lake.pull(name) for name in SOURCES}
    if not (has_data(folders["exporters"]) and has_data(folders["buyers"])):
        return None

    def read(name: str) -> pd.DataFrame | None:
        folder = folders[name]
        return pd.read_parquet(folder, partitioning=None) if has_data(folder) else None

    exporters, buyers = read("exporters"), read("buyers")
    assert exporters is not None and buyers is not None
    index = read("continuity_index")
    profile = None
    if index is not None and has_data(folders["continuity_features"]):
        from exportintel.continuity.groups import group_profile
        from exportintel.models.tabular import read_features

        # As the pipeline's load step computes it, so /risk-group/profile answers here too.
        profile = group_profile(read_features(folders["continuity_features"]), index)
    return load_serving(
        serving_tables(aws),
        exporters=exporters,
        buyers=buyers,
        recommendations=read("recommendations"),
        continuity_index=index,
        export_status=read("export_status"),
        group_profile=profile,
        settings=aws.settings,
    )


def counters_consumer(aws: EmulatedAws) -> Consumer:
    """The live-counter handler as the pump's consumer (its event-source mapping in AWS)."""
    from exportintel.local.api import drop_metrics, import_handler

    point_handlers(aws)
    handler = import_handler(COUNTERS_HANDLER, "exportintel_counters_handler")
    stream = aws.client("kinesis").describe_stream_summary(
        StreamName=aws.resources.clickstream_stream
    )["StreamDescriptionSummary"]["StreamARN"]

    def handle(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler.lambda_handler(event, context)
        finally:
            drop_metrics(handler)

    return lambda_consumer(handle, stream_arn=stream, region=aws.settings.region)


class BackgroundPump:
    """The pump on a thread: the clickstream reaches raw and the live counters every few
    seconds while the local API runs (what Firehose and the event-source mapping do in AWS)."""

    def __init__(self, aws: EmulatedAws, state: Path, interval: float) -> None:
        import threading

        from exportintel.local.session import pump_for

        self.pump = pump_for(aws, state)
        self.pump.add_consumer(counters_consumer(aws))
        self.interval = interval
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-pump", daemon=True)

    def start(self) -> BackgroundPump:
        self._thread.start()
        return self

    def run_once(self) -> Any:
        return self.pump.run_once()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump.run_once()
            except Exception as error:  # the next pass retries; the API keeps serving
                self.errors.append(repr(error))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def sample_ids(aws: EmulatedAws) -> dict[str, str]:
    """An exporter and a buyer with stored lists, and a firm with a continuity index."""
    from boto3.dynamodb.conditions import Attr, Key

    tables = serving_tables(aws)
    found: dict[str, str] = {}
    for direction, key in (
        ("buyers_for_exporter", "exporter_id"),
        ("exporters_for_buyer", "buyer_id"),
    ):
        scan: dict[str, Any] = {
            "ProjectionExpression": "list_id",
            "FilterExpression": Attr("list_id").begins_with(f"{direction}#"),
        }
        while key not in found:
            page = tables["matches"].scan(**scan)
            for item in page.get("Items", [])[:1]:
                found[key] = str(item["list_id"]).split("#", 1)[1]
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # A firm of the latest risk group: its history runs to the latest scored year.
    from exportintel.serving.continuity import META_ID, RISK_INDEX

    meta = tables["continuity"].get_item(Key={"firm_id": META_ID, "year": 0}).get("Item")
    if meta is not None:
        page = tables["continuity"].query(
            IndexName=RISK_INDEX,
            KeyConditionExpression=Key("risk_year").eq(int(meta["latest_year"])),
            Limit=1,
        )
        for row in page.get("Items", []):
            found["firm_id"] = str(row["firm_id"])
    return found


def curl_examples(url: str, token: str, ids: dict[str, str]) -> list[str]:
    """Working calls against the local API with the development token."""
    auth = f'-H "Authorization: Bearer {token}"'
    exporter = ids.get("exporter_id", "EXP000001")
    buyer = ids.get("buyer_id", "BUY0000001")
    firm = ids.get("firm_id", exporter)
    event = (
        '{"events":[{"event_id":"0b7c6f2e-1a40-4c51-9a55-3f1d2e6c7a10",'
        '"event_time":"2026-11-26T01:00:00Z","event_type":"profile_view",'
        '"cookie_consent":false,"session_id":"s-local-1","actor_type":"anonymous",'
        f'"page":"/buyers/{buyer}","target_id":"{buyer}","hs_chapter":"85"}}]}}'
    )
    return [
        f'curl -s {auth} -H "Accept-Language: en" "{url}/exporters/{exporter}/matches?k=5"',
        f'curl -s {auth} "{url}/buyers/{buyer}/matches?k=5&explore=0"',
        f'curl -s {auth} -X POST "{url}/matches/{exporter}/{buyer}/save"',
        f'curl -s {auth} "{url}/firms/{firm}/continuity"',
        f'curl -s {auth} "{url}/firms/{exporter}/markets"',
        f'curl -s {auth} "{url}/risk-group?limit=20&format=csv"',
        f"curl -s {auth} -H 'Content-Type: application/json' -X POST \"{url}/events\" -d '{event}'",
        f'curl -s {auth} "{url}/popular?category=85"',
        f'curl -s {auth} "{url}/fair/live"',
        f'curl -s "{url}/openapi.json"',
    ]


def call(url: str, token: str, method: str = "GET", body: Any = None, language: str = "en") -> Any:
    """One authenticated JSON call to the local API (what `curl` with the token does)."""
    import json
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept-Language", language)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def tour(url: str, token: str, ids: dict[str, str], pump: BackgroundPump) -> list[str]:
    """A few real calls over HTTP, as staff would make them; the lines to print."""
    import datetime as dt
    import uuid

    lines = []
    exporter, buyer = ids["exporter_id"], ids.get("buyer_id")
    listed = call(f"{url}/exporters/{exporter}/matches?k=3", token)
    lines.append(f"GET /exporters/{exporter}/matches?k=3 ({listed['source']} lists):")
    for match in listed["matches"]:
        reason = match["reasons"][0] if match["reasons"] else ""
        lines.append(f"  {match['buyer_id']} {match['name']} ({match['country']}) "
                     f"score {match['score']:.3f}: {reason}")  # fmt: skip
    if "firm_id" in ids:
        firm = call(f"{url}/firms/{ids['firm_id']}/continuity", token)
        latest, firm_id = firm["latest"], ids["firm_id"]
        lines.append(f"GET /firms/{firm_id}/continuity: index {latest['continuity_index']:.2f} "
                     f"in {latest['year']}, risk group {latest['risk_group']}")  # fmt: skip
        group = call(f"{url}/risk-group?limit=500", token)
        more = " (more pages)" if group["next_cursor"] else ""
        lines.append(f"GET /risk-group: {group['count']} firms at risk in {group['year']}{more}")
    markets = call(f"{url}/firms/{exporter}/markets", token)
    current = ", ".join(markets["current_markets"]) or "none yet"
    lines.append(
        f"GET /firms/{exporter}/markets ({markets['source']}, as of "
        f"{markets['as_of_year']}; exports to {current}):"
    )
    for market in markets["markets"][:3]:
        reason = market["reasons"][0] if market["reasons"] else ""
        lines.append(
            f"  {market['rank']}. {market['country_code']} {market['score']:.2f}: {reason}"
        )
    if listed["matches"]:
        saved = listed["matches"][0]["buyer_id"]
        call(f"{url}/matches/{exporter}/{saved}/save", token, "POST")
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        view = {
            "event_id": str(uuid.uuid4()), "event_time": now, "event_type": "profile_view",
            "cookie_consent": False, "session_id": "demo-session", "actor_type": "anonymous",
            "page": f"/buyers/{saved}", "target_id": saved,
        }  # fmt: skip
        sent = call(f"{url}/events", token, "POST", {"events": [view]})
        pump.run_once()  # what the event-source mapping does in AWS
        fair = call(f"{url}/fair/live", token)
        top = fair["most_saved"][0] if fair["most_saved"] else {}
        lines.append(f"POST /matches/{exporter}/{saved}/save and POST /events "
                     f"({sent['accepted']} accepted), one pump pass, then GET /fair/live: "
                     f"most saved today {top.get('item_id')} ({top.get('saves')})")  # fmt: skip
    if buyer:
        reverse = call(f"{url}/buyers/{buyer}/matches?k=3", token)
        lines.append(f"GET /buyers/{buyer}/matches?k=3: "
                     + ", ".join(m["exporter_id"] for m in reverse["matches"]))  # fmt: skip
    return lines


def dashboard_site(state: Path) -> Path | None:
    """The dashboard built into the state folder; None (and why, printed) when it cannot be."""
    from exportintel.web.site import SiteError, build_site

    try:
        return build_site(state / "site")
    except SiteError as error:
        print(f"no dashboard: {error}", file=sys.stderr)
        return None


def keep_serving(
    aws: EmulatedAws,
    state: Path,
    *,
    port: int,
    pump_interval: float = 2.0,
    site: Path | None = None,
) -> None:
    """The API and the dashboard on 127.0.0.1:`port` with the pump feeding the live counters,
    until Ctrl-C; prints the addresses, the development token and calls to try."""
    import threading

    from exportintel.local.api import serve
    from exportintel.local.state import load_or_create_api_token

    point_handlers(aws)
    site = site or dashboard_site(state)
    pump = BackgroundPump(aws, state, pump_interval).start()
    token = load_or_create_api_token(state)
    server = serve(token, host="127.0.0.1", port=port, site=site)
    if site is not None:
        print(f"dashboard at {server.url}/ (signed in with the development token)")
    print(f"API at {server.url} and {server.url}/api (OpenAPI: {server.url}/openapi.json)")
    print(f"development token: {token}")
    print("try:")
    for line in curl_examples(server.url, token, sample_ids(aws)):
        print(f"  {line}")
    print("Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        pump.stop()
