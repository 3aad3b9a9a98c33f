"""The local HTTP server: the same handlers over real HTTP on loopback, the token required,
every declared route answered, the OpenAPI document generated from the handlers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from exportintel.local.api import LocalApi
from exportintel.serving.functions import all_routes
from tests.serving.conftest import API_TOKEN

TOKEN = API_TOKEN


def call(
    api: LocalApi, method: str, path: str, *, token: str | None = TOKEN, body: Any = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{api.url}{path}", data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# One working call per declared route (paths with ids of the hand-made world).
CALLS = {
    ("GET", "/exporters/{exporter_id}/matches"): ("/exporters/EXP000001/matches?k=2", None),
    ("GET", "/buyers/{buyer_id}/matches"): ("/buyers/BUY0000001/matches", None),
    ("POST", "/matches/{exporter_id}/{buyer_id}/save"): (
        "/matches/EXP000001/BUY0000002/save",
        None,
    ),
    ("POST", "/matches/{exporter_id}/{buyer_id}/dismiss"): (
        "/matches/EXP000001/BUY0000005/dismiss",
        None,
    ),
    ("POST", "/feedback"): (
        "/feedback",
        {"exporter_id": "EXP000001", "buyer_id": "BUY0000001", "rater": "exporter", "rating": 1},
    ),
    ("GET", "/firms/{firm_id}/continuity"): ("/firms/EXP000001/continuity", None),
    ("GET", "/firms/{firm_id}/markets"): ("/firms/EXP000001/markets", None),
    ("GET", "/risk-group"): ("/risk-group?format=csv", None),
    ("GET", "/firms/search"): ("/firms/search?q=hanbit", None),
    ("GET", "/risk-group/profile"): ("/risk-group/profile", None),
    ("POST", "/events"): (
        "/events",
        {
            "events": [
                {
                    "event_id": "00000000-0000-4000-8000-000000000001",
                    "event_time": "2026-11-26T01:00:00Z",
                    "event_type": "profile_view",
                    "cookie_consent": False,
                    "session_id": "s-1",
                    "actor_type": "anonymous",
                    "page": "/buyers/BUY0000001",
                    "target_id": "BUY0000001",
                    "hs_chapter": "85",
                }
            ]
        },
    ),
    ("GET", "/popular"): ("/popular?category=85", None),
    ("GET", "/fair/live"): ("/fair/live", None),
}


def test_every_declared_route_has_a_call_here() -> None:
    assert set(CALLS) == {(r.method, r.path) for _, r in all_routes()}


@pytest.mark.parametrize(("method", "route"), sorted(CALLS))
def test_every_route_answers_with_the_token_and_401_without(
    api: LocalApi, method: str, route: str
) -> None:
    path, body = CALLS[(method, route)]
    status, reply = call(api, method, path, body=body)
    assert status == 200, reply
    for token in (None, "wrong", TOKEN + "x", ""):
        status, reply = call(api, method, path, token=token, body=body)
        assert status == 401 and reply["error"] == "unauthorized"


def test_unknown_routes_and_methods(api: LocalApi) -> None:
    assert call(api, "GET", "/nowhere")[0] == 404
    assert call(api, "DELETE", "/events")[0] == 405
    assert call(api, "GET", "/exporters/EXP000001/matches/extra")[0] == 404


def test_openapi_document_lists_every_route_with_bearer_security(api: LocalApi) -> None:
    status, document = call(api, "GET", "/openapi.json", token=None)
    assert status == 200 and document["openapi"].startswith("3.")
    listed = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert listed == {(r.method, r.path) for _, r in all_routes()}
    assert document["security"] == [{"bearer": []}]
    assert document["servers"] == [{"url": api.url}]


def test_a_body_over_the_limit_is_refused(api: LocalApi) -> None:
    request = urllib.request.Request(f"{api.url}/events", data=b"", method="POST")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Content-Length", str(11 * 1024**2))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
