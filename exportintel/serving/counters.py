"""Live counters of the clickstream: what one web event changes in the counters table, once.

The matching lists are recomputed daily; the site also needs what is popular *now* (during an
online fair above all). So a stream consumer (lambdas/counters/handler.py, and the local pump)
folds each web event into counters as it arrives, and `popular` (the best profiles for a page,
with the fallback rules) and `fair_live` (today's fair) in `exportintel.serving.popular` read
them.

Values of events (the behaviour scoring, stated once in `exportintel.matching.interactions`):
profile view 0.5, save 0.7, inquiry 1.0, post-meeting rating its own value (1.0 very good ..
-1.0 very bad). The recommendation score of a profile is RS = 0.5 x views + 0.7 x saves +
1.0 x inquiries, ties broken by the mean rating. RS is linear in the counts, so every event
adds its weight with an atomic `ADD rs :w` and the `board` index ranks profiles by `rs`.

Key layout (table `counters`, `pk` and `sk` strings; `scope` is an HS chapter or `ALL`,
`period` a Seoul day `yyyy-mm-dd` or `ALL`):

    row             pk                 sk                  attributes
    item counters   ITEM#<item id>     <scope>#<period>    board (= sk), item_id, category
                                                           (scope), day (period), views,
                                                           saves, inquiries, rating_sum,
                                                           rating_count, rs; `ALL` scopes:
                                                           categories (string set); day
                                                           rows: expires_at
    user interest   USER#<pseudonym>   INTEREST#<hs2>      category, score, events
    dealt with      USER#<pseudonym>   DEALT#<item id>     item_id, actions
    meetings        MEETINGS#<day>     EXPORTER#<id>       exporter_id, day, requested, held,
                                                           expires_at
    event marker    EVENT#<event id>   EVENT               event_type, processed_at,
                                                           expires_at

An item is a profile (`target_id`: an exporter or a buyer). An event on a profile of chapter
`hs` updates four item rows, one per ranking it belongs to (a row carries one board): `hs#ALL`,
`hs#<day>`, `ALL#ALL` and `ALL#<day>`; without a chapter, only the two `ALL` rows. Day rows
expire 30 days after their day ends; all-time rows never.

What counts:
- only events with a preference value (profile_view, save, inquiry, rating with a rating)
  about a profile or a category change counters. Logins, page views, searches, clicks (and
  any other type without a value, such as dismissals) are counted as ignored even with a
  chapter: a page view or a search is not a view of something
  (the spec raises interest on views of profiles), and keeping them out keeps RS meaningful;
- users are the HMAC pseudonyms of `user_id` (`exportintel.privacy`): the clear id is never
  stored. Events without a user (anonymous visitors) update no user rows. A user's interest
  in a chapter rises by the event's value (a bad rating lowers it);
- dealt with = saved, inquired or rated: `popular` skips those profiles for the user;
- meetings: an inquiry is a meeting requested, a rating a meeting held (a rating means the
  meeting happened), counted for the exporter: the target when it is an exporter, else the
  acting firm when the actor is an exporter.

Exactly once per event id: each event is one `TransactWriteItems`, a conditional put of its
marker row (`attribute_not_exists(pk)`) and all its counter updates. A redelivered event fails
the marker's condition, the whole transaction is cancelled and the event counts as a
duplicate. Markers expire 14 days after processing: the stream keeps records 7 days at most
(prod), so a redelivery always finds its marker. Any other failure (throttling, a transaction
conflict with a concurrent update of the same row) is raised, for the caller to retry.

Events that break the `web_events` contract are rejected with the contract's reason (which
never quotes personal values) and change nothing; they are never worth a retry.

The functions take a boto3 DynamoDB `Table` resource; transactions go through its
`meta.client`, which speaks plain Python values (numbers as `Decimal`) like the table does.
Pure Python over boto3: this module is bundled into the stream consumer Lambda.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from exportintel.contracts.datasets import WEB_EVENTS
from exportintel.contracts.validation import validate_record
from exportintel.matching.interactions import EXPORTER_PREFIX, RATING, SEOUL, WEB_EVENT_VALUES
from exportintel.privacy import pseudonymise

# The value of each event type with a fixed value; a rating weighs its own value.
PREFERENCE_VALUES: Mapping[str, float] = WEB_EVENT_VALUES
# The count an event type raises on its item rows; each weighs its value in RS.
COUNTED: Mapping[str, str] = {"profile_view": "views", "save": "saves", "inquiry": "inquiries"}
DEALT_TYPES = frozenset({"save", "inquiry", RATING})
MEETING_FIELDS: Mapping[str, str] = {"inquiry": "requested", RATING: "held"}
ALL = "ALL"
MARKER_SK = "EVENT"
# Longest stream retention (7 days in prod) plus a week: a redelivery finds its marker.
MARKER_TTL = dt.timedelta(days=14)
DAY_ROW_TTL = dt.timedelta(days=30)  # after the end of the row's Seoul day
_ONE = Decimal(1)
_ZERO = Decimal(0)


class Status(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Outcome:
    """What became of one event; `reason` says why it was ignored or rejected."""

    status: Status
    event_id: str | None
    reason: str | None = None


@dataclass
class ApplyResult:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: int = 0
    rejections: list[tuple[str | None, str]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.status == Status.APPLIED:
            self.applied += 1
        elif outcome.status == Status.DUPLICATE:
            self.duplicates += 1
        elif outcome.status == Status.IGNORED:
            self.ignored += 1
        else:
            self.rejected += 1
            self.rejections.append((outcome.event_id, outcome.reason or "rejected"))


def recommendation_score(views: int, saves: int, inquiries: int) -> float:
    """RS = 0.5 x views + 0.7 x saves + 1.0 x inquiries."""
    return float(
        _weight("profile_view") * views + _weight("save") * saves + _weight("inquiry") * inquiries
    )


def seoul_day(timestamp: dt.datetime | str) -> dt.date:
    """The Asia/Seoul calendar day of a moment (naive datetimes are UTC, as in the lake)."""
    moment = dt.datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SEOUL).date()


def day_expiry(day: dt.date) -> int:
    """Epoch seconds when a day row may go: DAY_ROW_TTL after the Seoul day ends."""
    end = dt.datetime(day.year, day.month, day.day, tzinfo=SEOUL) + dt.timedelta(days=1)
    return int((end + DAY_ROW_TTL).timestamp())


# Keys, shared with the readers (exportintel.serving.popular).
def item_key(item_id: str, scope: str, period: str) -> dict[str, str]:
    return {"pk": f"ITEM#{item_id}", "sk": board_name(scope, period)}


def board_name(scope: str, period: str) -> str:
    return f"{scope}#{period}"


def user_pk(pseudonym: str) -> str:
    return f"USER#{pseudonym}"


def meetings_pk(day: dt.date) -> str:
    return f"MEETINGS#{day.isoformat()}"


def apply_events(
    table: Any,
    records: Iterable[Mapping[str, Any]],
    *,
    key: bytes,
    now: dt.datetime | None = None,
) -> ApplyResult:
    """Apply decoded web events in order; transient AWS errors are raised (nothing is lost:
    the events applied so far are marked, a rerun counts them as duplicates)."""
    result = ApplyResult()
    for record in records:
        result.add(apply_event(table, record, key=key, now=now))
    return result


def apply_event(
    table: Any, record: Mapping[str, Any], *, key: bytes, now: dt.datetime | None = None
) -> Outcome:
    """Apply one decoded web event at most once; raises `ClientError` on transient failures."""
    event_id = _event_id(record)
    checked = validate_record(WEB_EVENTS, record)
    if not checked.ok:
        return Outcome(Status.REJECTED, event_id, checked.reason)
    event = checked.record
    updates, why_not = _updates(event, key)
    if not updates:
        return Outcome(Status.IGNORED, event_id, why_not)
    moment = now or dt.datetime.now(dt.UTC)
    marker = {
        "pk": f"EVENT#{event['event_id']}",
        "sk": MARKER_SK,
        "event_type": event["event_type"],
        "processed_at": moment.isoformat(),
        "expires_at": int((moment + MARKER_TTL).timestamp()),
    }
    items = [
        {
            "Put": {
                "TableName": table.name,
                "Item": marker,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        *({"Update": {"TableName": table.name, **update}} for update in updates),
    ]
    try:
        table.meta.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if _marker_existed(error):
            return Outcome(Status.DUPLICATE, event_id)
        raise
    return Outcome(Status.APPLIED, event_id)


def decode_failure(data: bytes, problem: str) -> Outcome:
    """The outcome of stream data that is not one JSON object (no event id to tell)."""
    return Outcome(Status.REJECTED, None, f"not a JSON event ({problem}, {len(data)} bytes)")


def _event_id(record: Mapping[str, Any]) -> str | None:
    # For logs only: a malformed id is shortened, it may hold anything.
    value = record.get("event_id")
    return value[:64] if isinstance(value, str) else None


def _weight(event_type: str) -> Decimal:
    # Decimals: DynamoDB numbers, and 0.5 + 0.7 stays exactly 1.2 however often it is added.
    return Decimal(str(PREFERENCE_VALUES[event_type]))


def _updates(event: Mapping[str, Any], key: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """The counter updates of one valid event, or none and why."""
    event_type: str = event["event_type"]
    if event_type == RATING:
        if event["rating"] is None:
            return [], "a rating event without a rating"
        value = Decimal(str(event["rating"]))
    elif event_type in PREFERENCE_VALUES:
        value = _weight(event_type)
    else:
        return [], f"{event_type} events carry no preference"
    target: str | None = event["target_id"]
    chapter: str | None = event["hs_chapter"]
    if target is None and chapter is None:
        return [], "neither a profile nor a category"
    day = seoul_day(event["event_time"])
    user_id = (event["user_id"] or "").strip()
    user = pseudonymise(user_id, key) if user_id else None

    updates: list[dict[str, Any]] = []
    if target is not None:
        scopes = [chapter, ALL] if chapter is not None else [ALL]
        for scope in scopes:
            for period in (ALL, day.isoformat()):
                updates.append(_item_update(event_type, value, target, scope, period, chapter))
    if user is not None and chapter is not None:
        updates.append(
            _update(
                {"pk": user_pk(user), "sk": f"INTEREST#{chapter}"},
                add={"score": value, "events": _ONE},
                put={"category": chapter},
            )
        )
    if user is not None and target is not None and event_type in DEALT_TYPES:
        updates.append(
            _update(
                {"pk": user_pk(user), "sk": f"DEALT#{target}"},
                add={"actions": _ONE},
                put={"item_id": target},
            )
        )
    exporter = meeting_exporter(event)
    if event_type in MEETING_FIELDS and exporter is not None:
        updates.append(
            _update(
                {"pk": meetings_pk(day), "sk": f"EXPORTER#{exporter}"},
                add={MEETING_FIELDS[event_type]: _ONE},
                put={
                    "exporter_id": exporter,
                    "day": day.isoformat(),
                    "expires_at": day_expiry(day),
                },
            )
        )
    return updates, None


def meeting_exporter(event: Mapping[str, Any]) -> str | None:
    """The exporter of a meeting: the target if an exporter, else the acting exporter."""
    target, firm = event.get("target_id"), event.get("actor_firm_id")
    if isinstance(target, str) and target.startswith(EXPORTER_PREFIX):
        return target
    if (
        event.get("actor_type") == "exporter"
        and isinstance(firm, str)
        and firm.startswith(EXPORTER_PREFIX)
    ):
        return firm
    return None


def _item_update(
    event_type: str, value: Decimal, item: str, scope: str, period: str, chapter: str | None
) -> dict[str, Any]:
    add: dict[str, Any]
    if event_type == RATING:
        # rs += 0 still creates it: a profile rated before any view is on the boards too.
        add = {"rating_sum": value, "rating_count": _ONE, "rs": _ZERO}
    else:
        add = {COUNTED[event_type]: _ONE, "rs": value}
    if scope == ALL and chapter is not None:
        add["categories"] = {chapter}
    put: dict[str, Any] = {
        "board": board_name(scope, period),
        "item_id": item,
        "category": scope,
        "day": period,
    }
    if period != ALL:
        put["expires_at"] = day_expiry(dt.date.fromisoformat(period))
    return _update(item_key(item, scope, period), add=add, put=put)


def _update(
    key: Mapping[str, str], *, add: Mapping[str, Any], put: Mapping[str, Any]
) -> dict[str, Any]:
    """An `Update` of a transaction: ADD `add`, SET `put` (all names placeholders: `day` and
    friends are reserved words)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    for verb, attributes in (("ADD", add), ("SET", put)):
        terms = []
        for attribute, value in attributes.items():
            name, placeholder = f"#n{len(names)}", f":v{len(values)}"
            names[name], values[placeholder] = attribute, value
            terms.append(f"{name} {placeholder}" if verb == "ADD" else f"{name} = {placeholder}")
        if terms:
            clauses.append(f"{verb} {', '.join(terms)}")
    return {
        "Key": dict(key),
        "UpdateExpression": " ".join(clauses),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _marker_existed(error: ClientError) -> bool:
    """A transaction cancelled because the marker (its first item) was already there."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
