"""The live path end to end: events posted to the API, read off the stream by the counter
handler (as the pump and the event-source mapping deliver them), shown by the live routes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.serving.events import deliver, invoke, live, rest_event
from tests.serving.world import World


def view(n: int, target: str, event_type: str = "profile_view") -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "event_time": now,
        "event_type": event_type,
        "user_id": "visitor-1",
        "cookie_consent": False,
        "session_id": "s-1",
        "actor_type": "buyer",
        "actor_firm_id": "BUY0000001",
        "page": f"/exporters/{target}",
        "target_id": target,
        "hs_chapter": "85",
    }


def test_posted_events_reach_the_live_counters_once_even_when_redelivered(world: World) -> None:
    events = [view(1, "EXP000001"), view(2, "EXP000001"), view(3, "EXP000003", "save")]
    status, _, _ = invoke(
        "events", rest_event("POST", "/events", "/events", body={"events": events})
    )
    assert status == 200
    deliver(world)
    deliver(world)  # the same records again: at-least-once delivery
    popular = live("/popular", category="85")["items"]
    by_item = {item["item_id"]: item for item in popular}
    assert by_item["EXP000001"]["rs"] == 1.0  # two views, 0.5 each, counted once
    assert by_item["EXP000003"]["rs"] == 0.7
    fair = live("/fair/live")
    assert json.dumps(fair)  # JSON-ready
    assert fair["most_viewed"][0]["item_id"] == "EXP000001"


def test_a_save_through_the_matching_api_shows_in_the_live_counters(world: World) -> None:
    event = rest_event(
        "POST",
        "/matches/{exporter_id}/{buyer_id}/save",
        "/matches/EXP000001/BUY0000002/save",
        path_parameters={"exporter_id": "EXP000001", "buyer_id": "BUY0000002"},
    )
    assert invoke("matching", event)[0] == 200
    deliver(world)
    saved = live("/fair/live")["most_saved"]
    assert [item["item_id"] for item in saved] == ["BUY0000002"]
