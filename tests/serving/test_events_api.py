"""The events function: each event checked on its own, consent honoured, results per record."""

from __future__ import annotations

from typing import Any

import pytest

from tests.serving.events import invoke, rest_event
from tests.serving.world import World


def web_event(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "event_time": "2026-11-26T01:00:00Z",
        "event_type": "profile_view",
        "user_id": f"user-{n}",
        "cookie_id": f"cookie-{n}",
        "cookie_consent": True,
        "session_id": f"s-{n}",
        "actor_type": "buyer",
        "actor_firm_id": "BUY0000001",
        "page": "/exporters/EXP000001",
        "target_id": "EXP000001",
        "hs_chapter": "85",
        **fields,
    }


def post(body: Any) -> tuple[int, Any, dict[str, Any]]:
    return invoke("events", rest_event("POST", "/events", "/events", body=body))


def test_all_accepted(world: World) -> None:
    status, body, _ = post({"events": [web_event(1), web_event(2)]})
    assert status == 200 and body["accepted"] == 2
    assert [e["event_id"] for e in world.stream_events()] == [
        web_event(1)["event_id"],
        web_event(2)["event_id"],
    ]


def test_partial_batch_reports_each_record_and_drops_cookies_without_consent(world: World) -> None:
    events = [
        web_event(1),
        web_event(2, event_type="teleport"),
        web_event(3, cookie_consent=False, extra_field="not forwarded"),
        "not an object",
    ]
    status, body, _ = post({"events": events})
    assert status == 207
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "rejected",
        "accepted",
        "rejected",
    ]
    assert "event_type" in body["results"][1]["reason"]
    assert (body["received"], body["accepted"], body["rejected"]) == (4, 2, 2)
    on_stream = world.stream_events()
    assert [e["event_id"] for e in on_stream] == [events[0]["event_id"], events[2]["event_id"]]
    assert on_stream[0]["cookie_id"] == "cookie-1"
    assert "cookie_id" not in on_stream[1] and "extra_field" not in on_stream[1]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"events": []}, 400),
        ({"events": "x"}, 400),
        ({}, 400),
        ("[1, 2", 400),
        ({"events": [web_event(1, event_time="yesterday")]}, 400),
        ({"events": [web_event(i) for i in range(501)]}, 413),
    ],
)
def test_refused_batches(world: World, body: Any, status: int) -> None:
    got, reply, _ = post(body)
    assert got == status and (reply.get("error") or reply.get("rejected"))
    assert world.stream_events() == []


def test_a_failing_stream_reports_failed_records_not_lost(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exportintel.serving import intake

    def throttled(batch: Any) -> list[tuple[str, str] | None]:
        return [("ProvisionedThroughputExceededException", "slow down")] * len(batch)

    result = intake.send_events([web_event(1)], throttled, sleep=lambda _: None)
    assert result.to_dict()["failed"] == 1
    assert result.results[0]["reason"].startswith("ProvisionedThroughputExceededException")
