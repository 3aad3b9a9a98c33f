"""The matching function with real-shaped API Gateway events over moto: lists, live filters,
exploration, cold start, saves, dismissals, feedback and every refusal a 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from tests.serving.events import deliver, invoke, live, rest_event
from tests.serving.world import World

EXPORTER_ROUTE = "/exporters/{exporter_id}/matches"


def exporter_matches(exporter: str, **query: str) -> tuple[int, Any, dict[str, Any]]:
    event = rest_event(
        "GET",
        EXPORTER_ROUTE,
        f"/exporters/{exporter}/matches",
        path_parameters={"exporter_id": exporter},
        query=query or None,
    )
    return invoke("matching", event)


def action(exporter: str, buyer: str, verb: str) -> tuple[int, Any, dict[str, Any]]:
    event = rest_event(
        "POST",
        f"/matches/{{exporter_id}}/{{buyer_id}}/{verb}",
        f"/matches/{exporter}/{buyer}/{verb}",
        path_parameters={"exporter_id": exporter, "buyer_id": buyer},
    )
    return invoke("matching", event)


def ids(body: dict[str, Any], kind: str = "buyer") -> list[str]:
    return [m[f"{kind}_id"] for m in body["matches"]]


def test_plain_top_without_exploration_skips_bad_credit_and_unexplained(world: World) -> None:
    status, body, _ = exporter_matches("EXP000001", k="3", explore="0")
    assert status == 200
    # BUY0000003 turned bad credit: filtered live; BUY0000004 (no reasons stored) never loaded.
    assert ids(body) == ["BUY0000001", "BUY0000002", "BUY0000005"]
    assert body["source"] == "model" and body["model_version"].startswith("20260101")
    assert body["pool"] == 3 and body["filtered_out"] == 1
    first = body["matches"][0]
    assert first["name"] == "Acme GmbH" and first["country"] == "DE"
    assert first["score"] == pytest.approx(0.8)
    assert first["reasons"] == ["reason code_match:hs_codes"]  # Accept-Language: en first


def test_language_follows_accept_language_and_defaults_to_korean(world: World) -> None:
    event = rest_event(
        "GET",
        EXPORTER_ROUTE,
        "/exporters/EXP000001/matches",
        path_parameters={"exporter_id": "EXP000001"},
        query={"explore": "0"},
        headers={"Host": "localhost"},
    )
    status, body, _ = invoke("matching", event)
    assert status == 200 and body["language"] == "ko"
    assert body["matches"][0]["reasons"] == ["이유 code_match:hs_codes"]


def test_exploration_is_reproducible_with_a_seed_and_varies_without(world: World) -> None:
    first = exporter_matches("EXP000001", k="2", explore="1", seed="5")[1]
    again = exporter_matches("EXP000001", k="2", explore="1", seed="5")[1]
    assert ids(first) == ids(again)
    drawn = {tuple(sorted(ids(exporter_matches("EXP000001", k="2", explore="1", seed=str(s))[1])))
             for s in range(40)}  # fmt: skip
    assert len(drawn) > 1  # the lower-scored buyers get their turn
    for body in (first, again):
        scores = [m["score"] for m in body["matches"]]
        assert scores == sorted(scores, reverse=True)  # shown best first


def test_saved_and_dismissed_buyers_leave_the_list_and_become_events(world: World) -> None:
    status, body, _ = action("EXP000001", "BUY0000002", "save")
    assert status == 200 and body["recorded"]["action"] == "save"
    status, _, _ = action("EXP000001", "BUY0000001", "dismiss")
    assert status == 200
    assert ids(exporter_matches("EXP000001", explore="0")[1]) == ["BUY0000005"]
    # The buyer's own list no longer offers the exporter it dismissed.
    event = rest_event(
        "GET",
        "/buyers/{buyer_id}/matches",
        "/buyers/BUY0000001/matches",
        path_parameters={"buyer_id": "BUY0000001"},
        query={"explore": "0"},
    )
    assert ids(invoke("matching", event)[1], "exporter") == ["EXP000002"]
    events = world.stream_events()
    assert [(e["event_type"], e["actor_firm_id"], e["target_id"]) for e in events] == [
        ("save", "EXP000001", "BUY0000002"),
        ("dismiss", "EXP000001", "BUY0000001"),
    ]
    assert all(e["user_id"] == "5b3c9f0e-8d7a-4e21-9c3b-1f2e3d4c5b6a" for e in events)
    assert "cookie_id" not in events[0]


def test_buyers_list_ranks_exporters(world: World) -> None:
    event = rest_event(
        "GET",
        "/buyers/{buyer_id}/matches",
        "/buyers/BUY0000001/matches",
        path_parameters={"buyer_id": "BUY0000001"},
        query={"explore": "0"},
    )
    status, body, _ = invoke("matching", event)
    assert status == 200 and ids(body, "exporter") == ["EXP000001", "EXP000002"]
    assert body["matches"][0]["region"] == "Seoul"


def test_cold_start_offers_buyers_of_the_exporters_chapters(world: World) -> None:
    status, body, _ = exporter_matches("EXP000003", explore="0")
    assert status == 200 and body["source"] == "cold_start" and body["chapters"] == ["85"]
    # Buyers wanting chapter 85, the bad-credit one left out, best mean stored score first.
    assert ids(body) == ["BUY0000001", "BUY0000002", "BUY0000005"]
    assert body["matches"][0]["reason_codes"] == ["cold_start:hs_chapter:85"]
    assert "85" in body["matches"][0]["reasons"][0]


@pytest.mark.parametrize(
    ("exporter", "query", "status"),
    [
        ("EXP999999", {}, 404),
        ("BUY0000001", {}, 400),
        ("EXP1", {}, 400),
        ("EXP000001'; DROP TABLE firms;--", {}, 400),
        ("EXP000001", {"k": "0"}, 400),
        ("EXP000001", {"k": "-3"}, 400),
        ("EXP000001", {"k": "100000000000000000000"}, 400),
        ("EXP000001", {"k": "ten"}, 400),
        ("EXP000001", {"explore": "1.5"}, 400),
        ("EXP000001", {"explore": "nan"}, 400),
        ("EXP000001", {"seed": "-1"}, 400),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    world: World, exporter: str, query: dict[str, str], status: int
) -> None:
    got, body, _ = exporter_matches(exporter, **query)
    assert got == status
    assert body["error"] and body["message"]


def feedback(body: Any) -> tuple[int, Any, dict[str, Any]]:
    return invoke("matching", rest_event("POST", "/feedback", "/feedback", body=body))


def test_feedback_becomes_a_rating_event(world: World) -> None:
    status, body, _ = feedback(
        {"exporter_id": "EXP000001", "buyer_id": "BUY0000001", "rater": "buyer", "rating": 0.5}
    )
    assert status == 200 and body["rating"] == 0.5
    (event,) = world.stream_events()
    assert event["event_type"] == "rating" and event["rating"] == 0.5
    assert (event["actor_type"], event["actor_firm_id"], event["target_id"]) == (
        "buyer",
        "BUY0000001",
        "EXP000001",
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ([], 400),
        ({"exporter_id": "EXP000001", "buyer_id": "BUY0000001", "rater": "buyer"}, 400),
        ({"exporter_id": "EXP000001", "buyer_id": "BUY0000001", "rater": "x", "rating": 1}, 400),
        (
            {"exporter_id": "EXP000001", "buyer_id": "BUY0000001", "rater": "buyer", "rating": 0.3},
            400,
        ),
        (
            {"exporter_id": "EXP000001", "buyer_id": "BUY0000009", "rater": "buyer", "rating": 1},
            404,
        ),
    ],
)
def test_bad_feedback_is_refused(world: World, body: Any, status: int) -> None:
    got, reply, _ = feedback(body)
    assert got == status and reply["error"]
    assert world.stream_events() == []


def test_a_retried_save_is_the_same_event_and_counts_once(world: World) -> None:
    for _ in range(2):  # the client did not see the first answer and sends it again
        assert action("EXP000001", "BUY0000002", "save")[0] == 200
    first, again = world.stream_events()
    assert first["event_id"] == again["event_id"]
    deliver(world)
    (saved,) = live("/fair/live")["most_saved"]
    assert saved["item_id"] == "BUY0000002" and saved["saves"] == 1
