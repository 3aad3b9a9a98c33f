"""Reading the live counters: the best profiles for a page, and today's fair at a glance.

The counters are written by `exportintel.serving.counters` (its docstring has the key layout);
this module only reads them, for the `GET /popular` and `GET /fair/live` routes.

`popular` ranks profiles by all-time RS on the `board` index (a profile that was good last
week is still good on a quiet morning), ties broken by the mean rating (an unrated profile
counts as neutral, 0), then by id so that the order is stable. The index sorts by RS alone,
so rows are read past the last place wanted until RS drops: ties at the cut are all seen.
The rules, each entry saying which one chose it:

- a known user on a category page: the category's best (`category`), interleaved with the
  best of the user's top-interest category when that is another one (`top_interest`);
- a known user elsewhere: the best of the user's top-interest category (`top_interest`);
- an anonymous user, or a known user with no interest yet: the category page's best
  (`category`), or without a category the best overall (`overall`);
- a list still short of `limit` (a small category) is filled with the best overall.

A known user's profiles dealt with (saved, inquired, rated) are skipped under every rule. The
top-interest category is the one with the highest positive interest score (ties: more
events, then the lower chapter); a user whose scores are all zero or below has none yet.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from exportintel.contracts.formats import FORMATS
from exportintel.privacy import pseudonymise
from exportintel.serving.counters import (
    ALL,
    board_name,
    item_key,
    meetings_pk,
    seoul_day,
    user_pk,
)
from exportintel.serving.tables import COUNTERS

BOARD_INDEX = COUNTERS.indexes[0].name
MAX_LIMIT = 50  # one BatchGetItem (100 keys) fetches the day rows of a whole list
_BATCH_ATTEMPTS = 5
Row = Mapping[str, Any]


def popular(
    table: Any,
    *,
    category: str | None,
    user_id: str | None,
    key: bytes,
    limit: int = 10,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The best profiles for a page, by the rules of the module docstring (JSON-ready)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if category is not None and not FORMATS["hs2"].check(category):
        raise ValueError(f"category must be an HS chapter (01-97), got {category!r}")
    day = today or seoul_day(dt.datetime.now(dt.UTC))
    pseudonym = pseudonymise(user_id.strip(), key) if user_id and user_id.strip() else None
    top, dealt = _user(table, pseudonym) if pseudonym else (None, set[str]())

    lists: list[list[tuple[str, Row]]] = []
    if category is not None:
        lists.append([("category", r) for r in _ranked(table, category, limit, dealt)])
    if top is not None and top != category:
        lists.append([("top_interest", r) for r in _ranked(table, top, limit, dealt)])
    picked = _interleave(lists, limit)
    if len(picked) < limit:
        skip = dealt | {row["item_id"] for _, row in picked}
        overall = _ranked(table, ALL, limit - len(picked), skip)
        picked += [("overall", row) for row in overall]

    today_rows = _day_rows(table, [(row["item_id"], row["category"]) for _, row in picked], day)
    return [
        {
            "rank": rank,
            "rule": rule,
            "item_id": row["item_id"],
            "category": None if row["category"] == ALL else row["category"],
            "rs": _float(row.get("rs")),
            "mean_rating": _mean_rating(row),
            "ratings": _int(row.get("rating_count")),
            "all_time": _counts(row),
            "today": _counts(today_rows.get(row["item_id"], {})),
        }
        for rank, (rule, row) in enumerate(picked, start=1)
    ]


def fair_live(table: Any, *, day: dt.date | None = None, limit: int = 10) -> dict[str, Any]:
    """A Seoul day's most viewed, saved and inquired profiles, and meetings per exporter."""
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    day = day or seoul_day(dt.datetime.now(dt.UTC))
    # A day's board holds the profiles touched that day: read it whole, rank three ways here.
    rows = list(_board(table, board_name(ALL, day.isoformat()), page=500))

    def top(count: str) -> list[dict[str, Any]]:
        chosen = [r for r in rows if _int(r.get(count)) > 0]
        chosen.sort(key=lambda r: (-_int(r.get(count)), -_float(r.get("rs")), r["item_id"]))
        return [{"item_id": r["item_id"], **_counts(r)} for r in chosen[:limit]]

    meetings = [
        {
            "exporter_id": r["exporter_id"],
            "requested": _int(r.get("requested")),
            "held": _int(r.get("held")),
        }
        for r in _query(table, Key("pk").eq(meetings_pk(day)))
    ]
    meetings.sort(key=lambda m: (-m["requested"], -m["held"], m["exporter_id"]))
    return {
        "day": day.isoformat(),
        "most_viewed": top("views"),
        "most_saved": top("saves"),
        "most_inquired": top("inquiries"),
        "meetings": meetings[:limit],
        "meetings_total": {
            "exporters": len(meetings),
            "requested": sum(m["requested"] for m in meetings),
            "held": sum(m["held"] for m in meetings),
        },
    }


def _user(table: Any, pseudonym: str) -> tuple[str | None, set[str]]:
    """The user's top-interest category (None when none yet) and the profiles dealt with."""
    interests: list[Row] = []
    dealt: set[str] = set()
    for row in _query(table, Key("pk").eq(user_pk(pseudonym))):
        if row["sk"].startswith("INTEREST#"):
            interests.append(row)
        elif row["sk"].startswith("DEALT#"):
            dealt.add(row["item_id"])
    positive = [r for r in interests if _float(r.get("score")) > 0]
    if not positive:
        return None, dealt
    best = min(positive, key=lambda r: (-_float(r["score"]), -_int(r.get("events")), r["category"]))
    return str(best["category"]), dealt


def _ranked(table: Any, scope: str, need: int, skip: set[str]) -> list[Row]:
    """The best `need` all-time rows of a scope's board, not in `skip`, ties by mean rating."""
    chosen: list[Row] = []
    cut: Decimal | None = None  # RS of the last place: rows tied with it may still follow
    for row in _board(table, board_name(scope, ALL), page=need + 10):
        if cut is not None and row["rs"] < cut:
            break
        if row["item_id"] in skip:
            continue
        chosen.append(row)
        if len(chosen) == need:
            cut = row["rs"]
    chosen.sort(key=lambda r: (-r["rs"], -(_mean_rating(r) or 0.0), r["item_id"]))
    return chosen[:need]


def _interleave(lists: list[list[tuple[str, Row]]], limit: int) -> list[tuple[str, Row]]:
    """Round robin over the rules' lists, each profile once, at most `limit`."""
    picked: list[tuple[str, Row]] = []
    seen: set[str] = set()
    for position in range(max((len(entries) for entries in lists), default=0)):
        for entries in lists:
            if position < len(entries) and entries[position][1]["item_id"] not in seen:
                seen.add(entries[position][1]["item_id"])
                picked.append(entries[position])
    return picked[:limit]


def _board(table: Any, board: str, *, page: int) -> Iterator[Row]:
    """A board's rows, highest RS first."""
    yield from _query(
        table, Key("board").eq(board), IndexName=BOARD_INDEX, ScanIndexForward=False, Limit=page
    )


def _query(table: Any, condition: Any, **options: Any) -> Iterator[Row]:
    request = {"KeyConditionExpression": condition, **options}
    while True:
        response = table.query(**request)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _day_rows(table: Any, items: Iterable[tuple[str, str]], day: dt.date) -> dict[str, Row]:
    """The day rows of (item, scope) pairs, by item id (missing: not touched that day)."""
    keys = [item_key(item, scope, day.isoformat()) for item, scope in items]
    found: dict[str, Row] = {}
    request: dict[str, Any] = {table.name: {"Keys": keys}} if keys else {}
    for attempt in range(_BATCH_ATTEMPTS):
        if not request:
            return found
        response = table.meta.client.batch_get_item(RequestItems=request)
        for row in response["Responses"].get(table.name, []):
            found[row["item_id"]] = row
        request = response.get("UnprocessedKeys") or {}
        if request:
            time.sleep(0.05 * 2**attempt)  # unprocessed keys mean throttling: back off
    if request:
        raise RuntimeError(f"DynamoDB left day rows unread after {_BATCH_ATTEMPTS} attempts")
    return found


def _counts(row: Row) -> dict[str, Any]:
    return {
        "views": _int(row.get("views")),
        "saves": _int(row.get("saves")),
        "inquiries": _int(row.get("inquiries")),
        "rs": _float(row.get("rs")),
    }


def _mean_rating(row: Row) -> float | None:
    count = _int(row.get("rating_count"))
    return round(_float(row.get("rating_sum")) / count, 4) if count else None


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _float(value: Any) -> float:
    return float(value) if value is not None else 0.0
