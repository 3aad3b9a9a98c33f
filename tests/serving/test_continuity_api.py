"""The continuity function: a firm's index and history, the risk group by page, CSV."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.serving.events import invoke, rest_event
from tests.serving.world import World


def firm(firm_id: str) -> tuple[int, Any, dict[str, Any]]:
    event = rest_event(
        "GET",
        "/firms/{firm_id}/continuity",
        f"/firms/{firm_id}/continuity",
        path_parameters={"firm_id": firm_id},
    )
    return invoke("continuity", event)


def risk_group(**query: str) -> tuple[int, Any, dict[str, Any]]:
    return invoke("continuity", rest_event("GET", "/risk-group", "/risk-group", query=query))


def test_firm_index_latest_and_history(world: World) -> None:
    status, body, _ = firm("EXP000002")
    assert status == 200
    assert body["name"] == "Seorak Foods" and body["region"] == "Busan"
    latest = body["latest"]
    assert latest["year"] == 2024 and latest["continuity_index"] == pytest.approx(0.58)
    assert latest["risk_group"] is True and latest["status"] == "discontinued"
    assert latest["risk_factors"] == ["Few trade fairs attended"]
    assert [h["year"] for h in body["history"]] == [2023, 2024]


@pytest.mark.parametrize(("firm_id", "status"), [("EXP999999", 404), ("_meta", 400), ("x", 400)])
def test_unknown_or_malformed_firm(world: World, firm_id: str, status: int) -> None:
    got, body, _ = firm(firm_id)
    assert got == status and body["error"]


def test_risk_group_latest_year_most_at_risk_first(world: World) -> None:
    status, body, _ = risk_group()
    assert status == 200 and body["year"] == 2024
    assert [f["firm_id"] for f in body["firms"]] == ["EXP000002", "EXP000003"]
    assert body["next_cursor"] is None


def test_pages_follow_the_cursor_to_the_end(world: World) -> None:
    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, body, _ = risk_group(**query)
        assert status == 200
        seen += [f["firm_id"] for f in body["firms"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["EXP000002", "EXP000003"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "Busan"}, ["EXP000002"]),
        ({"hs_chapter": "85"}, ["EXP000003"]),
        ({"year": "2023", "hs_chapter": "85"}, ["EXP000003"]),
        ({"year": "2023"}, ["EXP000003", "EXP000002"]),
        ({"region": "Jeju"}, []),
    ],
)
def test_filters(world: World, query: dict[str, str], expected: list[str]) -> None:
    status, body, _ = risk_group(**query)
    assert status == 200 and [f["firm_id"] for f in body["firms"]] == expected


def test_csv_for_officers(world: World) -> None:
    status, text, headers = risk_group(format="csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = text.strip().split("\n")
    assert lines[0].startswith("firm_id,name,year,continuity_index")
    assert lines[1].startswith("EXP000002,Seorak Foods,2024,0.58")
    assert len(lines) == 3


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": _cursor({"firm_id": "EXP000002"})},
        {"cursor": _cursor(["a"])},
        {"cursor": "%%%"},
        {"cursor": _cursor({"firm_id": "X", "year": 2023, "risk_year": 2023, "risk_order": "0"})},
        {"limit": "0"},
        {"limit": "100000"},
        {"year": "abc"},
        {"hs_chapter": "99"},
        {"hs_chapter": "85' OR '1'='1"},
        {"region": "Atlantis"},
        {"format": "xml"},
    ],
)
def test_bad_queries_get_a_4xx(world: World, query: dict[str, str]) -> None:
    status, body, _ = risk_group(**query)
    assert status == 400 and body["error"]


def test_a_year_without_scores_is_an_empty_group(world: World) -> None:
    status, body, _ = risk_group(year="2030")
    assert status == 200 and body["firms"] == []
