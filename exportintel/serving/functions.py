"""The serving functions and their routes, declared once.

The CDK app builds the API Gateway resources, methods, authorizers and each function's grants
from these specs; the local HTTP server dispatches requests to the same handlers by the same
routes; a test compares the two. Paths use API Gateway's `{name}` parameters.

Authorisation: every route takes a Cognito access token (staff who sign in, or another agency
system through the client-credentials flow) carrying one of the route's OAuth scopes. No route
is open, and none is IAM-only yet: no AWS-internal caller uses the API (the pipeline writes
the serving tables directly).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exportintel.serving.tables import (
    CONTINUITY,
    COUNTERS,
    FIRMS,
    MARKETS,
    MATCHES,
    PAIR_ACTIONS,
    TableSpec,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCE_SERVER = "exportintel"
# Environment variables of the functions (tables: `TableSpec.env_var`).
STREAM_ENV = "CLICKSTREAM_STREAM"  # the Kinesis stream's name
KEY_SECRET_ENV = "PSEUDONYMISATION_SECRET"  # the HMAC key's secret (ARN in AWS, name locally)
ENVIRONMENT_ENV = "EXPORTINTEL_ENVIRONMENT"  # dev, prod or local
METRICS_NAMESPACE = "ExportIntel"  # CloudWatch namespace of the functions' metrics


@dataclass(frozen=True)
class Scope:
    name: str
    description: str

    @property
    def full_name(self) -> str:
        """As it appears in access tokens and in the methods' authorization scopes."""
        return f"{RESOURCE_SERVER}/{self.name}"


READ = Scope("read", "Read matches, continuity, risk groups, market suggestions, live counters")
WRITE = Scope("write", "Save or dismiss matches and give feedback")
EVENTS = Scope("events", "Send clickstream batches")
SCOPES: tuple[Scope, ...] = (READ, WRITE, EVENTS)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scopes: tuple[Scope, ...]
    summary: str


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its handler, routes and what its role may reach."""

    unit: str
    description: str
    routes: tuple[Route, ...]
    reads: tuple[TableSpec, ...] = ()
    writes: tuple[TableSpec, ...] = ()  # read and write
    puts_events: bool = False  # PutRecords on the clickstream stream
    reads_pseudonymisation_key: bool = False
    memory_mib: int = 512

    @property
    def handler_file(self) -> Path:
        return REPO_ROOT / "lambdas" / "api" / self.unit / "handler.py"

    @property
    def construct_id(self) -> str:
        return "".join(part.capitalize() for part in self.unit.split("_")) + "Function"


MATCHING = FunctionSpec(
    unit="matching",
    description="Firm search, matches in both directions, saves, dismissals and feedback",
    routes=(
        Route("GET", "/firms/search", (READ,), "Find firms by id or name"),
        Route("GET", "/exporters/{exporter_id}/matches", (READ,), "Buyers for an exporter"),
        Route("GET", "/buyers/{buyer_id}/matches", (READ,), "Exporters for a buyer"),
        Route("POST", "/matches/{exporter_id}/{buyer_id}/save", (WRITE,), "Save a match"),
        Route("POST", "/matches/{exporter_id}/{buyer_id}/dismiss", (WRITE,), "Dismiss a match"),
        Route("POST", "/feedback", (WRITE,), "Rate a meeting"),
    ),
    reads=(MATCHES, FIRMS),
    writes=(PAIR_ACTIONS,),
    puts_events=True,
)
CONTINUITY_API = FunctionSpec(
    unit="continuity",
    description="A firm's continuity index and history, the risk group and its profile, and an "
    "exporter's market suggestions",
    routes=(
        Route("GET", "/firms/{firm_id}/continuity", (READ,), "A firm's continuity index"),
        Route("GET", "/risk-group", (READ,), "The risk group, filtered and paginated"),
        Route("GET", "/risk-group/profile", (READ,), "The risk group against continuing firms"),
        Route("GET", "/firms/{firm_id}/markets", (READ,), "Markets an exporter should try next"),
    ),
    reads=(CONTINUITY, FIRMS, MARKETS),
)
EVENTS_API = FunctionSpec(
    unit="events",
    description="Clickstream batches, validated, into the Kinesis stream",
    routes=(Route("POST", "/events", (EVENTS,), "Send up to 500 clickstream events"),),
    puts_events=True,
)
LIVE = FunctionSpec(
    unit="live",
    description="Live counters: popular profiles per category, today's fair",
    routes=(
        Route("GET", "/popular", (READ,), "The best profiles by live recommendation score"),
        Route("GET", "/fair/live", (READ,), "Today's most viewed, saved and inquired; meetings"),
    ),
    reads=(COUNTERS, FIRMS),
    reads_pseudonymisation_key=True,
)

API_FUNCTIONS: tuple[FunctionSpec, ...] = (MATCHING, CONTINUITY_API, EVENTS_API, LIVE)

# The stream consumer (not behind the API): lambdas/counters/handler.py.
COUNTERS_HANDLER = REPO_ROOT / "lambdas" / "counters" / "handler.py"
COUNTER_TABLES: tuple[TableSpec, ...] = (COUNTERS,)  # read and write; it also reads the key


def all_routes() -> list[tuple[FunctionSpec, Route]]:
    return [(function, route) for function in API_FUNCTIONS for route in function.routes]
