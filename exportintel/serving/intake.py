"""Clickstream intake: batches of web events checked against the contract, onto Kinesis.

Each event is validated on its own (`exportintel.contracts.validation`, the rules the ETL
applies), so one bad event never sinks its batch: the reply lists every event as accepted,
rejected (with the reason) or failed (Kinesis refused it after retries, with the error code).
A cookie id without consent is dropped before the event leaves the function, and fields the
contract does not know are not forwarded. Accepted events are newline-terminated JSON, keyed by
session so one session's events stay in order on one shard.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from exportintel.contracts.datasets import WEB_EVENTS
from exportintel.contracts.validation import validate_record
from exportintel.ingest.delivery import (
    KINESIS_LIMITS,
    FailedRecord,
    OutRecord,
    RetryPolicy,
    deliver,
)

MAX_EVENTS = 500  # one PutRecords call
# The caller waits: a few quick retries, then the event is reported failed for it to resend.
API_RETRIES = RetryPolicy(max_attempts=3, base_delay_seconds=0.05, max_delay_seconds=0.5)
_FIELDS = tuple(f.name for f in WEB_EVENTS.fields)


@dataclass
class IntakeResult:
    results: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r["status"] == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": len(self.results),
            "accepted": self.count("accepted"),
            "rejected": self.count("rejected"),
            "failed": self.count("failed"),
            "results": self.results,
        }


def outgoing(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as it goes onto the stream: contract fields only, no cookie without consent."""
    record = {name: event[name] for name in _FIELDS if name in event and event[name] is not None}
    if record.get("cookie_consent") is not True:
        record.pop("cookie_id", None)
    return record


def send_events(
    events: Sequence[Any], put: Any, *, sleep: Any = None, policy: RetryPolicy = API_RETRIES
) -> IntakeResult:
    """Validate each event and put the valid ones; `put` is an `exportintel.ingest.delivery`
    PutCall (`kinesis_put(client, stream)`)."""
    result = IntakeResult([{} for _ in events])
    records: list[OutRecord] = []
    for index, event in enumerate(events):
        entry: dict[str, Any] = {"index": index}
        result.results[index] = entry
        if not isinstance(event, Mapping):
            entry.update(status="rejected", reason="an event must be a JSON object")
            continue
        entry["event_id"] = event.get("event_id")
        checked = validate_record(WEB_EVENTS, event)
        if not checked.ok:
            entry.update(status="rejected", reason=checked.reason)
            continue
        record = outgoing(event)
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        key = str(record.get("session_id") or record["event_id"])
        records.append(OutRecord(data=data, source=str(index), partition_key=key))
        entry["status"] = "accepted"

    def dead_letters(failures: Sequence[FailedRecord]) -> None:
        for failure in failures:
            entry = result.results[int(failure.record.source)]
            entry.update(status="failed", reason=f"{failure.error_code}: {failure.error_message}")

    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    deliver(
        records, put, limits=KINESIS_LIMITS, policy=policy, dead_letters=dead_letters, **options
    )
    return result


# Event ids of API actions are name-based (UUID 5) in this namespace.
API_EVENT_NAMESPACE = uuid.UUID("6f1c3a52-8e0b-4d8e-9a57-0c2b7d4e9f31")
SEOUL = ZoneInfo("Asia/Seoul")


def api_event(
    event_type: str,
    *,
    actor_type: str,
    actor_firm_id: str,
    target_id: str,
    user_id: str,
    page: str,
    session_id: str,
    rating: float | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A web event for an action taken through the API (save, dismiss, feedback).

    Its id is derived from what the action is: who did what to which pair, on which Seoul day
    (and with which rating). A client retrying a request it did not see answered sends the same
    event again, which the live counters and the lake count once (both deduplicate by id);
    a different action, or the same one on another day, is a new event.
    """
    moment = now or dt.datetime.now(dt.UTC)
    day = moment.astimezone(SEOUL).date().isoformat()
    name = "|".join([event_type, actor_firm_id, target_id, user_id, day, repr(rating)])
    event = {
        "event_id": str(uuid.uuid5(API_EVENT_NAMESPACE, name)),
        "event_time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event_type": event_type,
        "user_id": user_id,
        "cookie_consent": False,
        "session_id": session_id,
        "actor_type": actor_type,
        "actor_firm_id": actor_firm_id,
        "page": page,
        "target_id": target_id,
    }
    if rating is not None:
        event["rating"] = rating
    return event
