"""Live counters on emulated DynamoDB: what events count, once, and how `popular` and
`fair_live` read them back (every fallback rule, RS ties, Seoul days)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.privacy import pseudonymise
from exportintel.serving.counters import (
    MARKER_TTL,
    PREFERENCE_VALUES,
    ApplyResult,
    Status,
    apply_event,
    apply_events,
    recommendation_score,
    seoul_day,
)
from exportintel.serving.popular import fair_live, popular
from exportintel.serving.provision import create_table
from exportintel.serving.tables import COUNTERS

KEY = bytes(range(32))
DAY = dt.date(2026, 11, 26)  # Seoul day of most events below
_ids = itertools.count(1)


def event(event_type: str = "profile_view", **fields: Any) -> dict[str, Any]:
    """A valid web event: a buyer's user in chapter 85 acting on exporter EXP000001."""
    record: dict[str, Any] = {
        "event_id": f"00000000-0000-4000-8000-{next(_ids):012d}",
        "event_time": "2026-11-26T03:00:00Z",
        "event_type": event_type,
        "user_id": "buyer.lee@example.com",
        "cookie_consent": False,
        "session_id": "s-1",
        "actor_type": "buyer",
        "actor_firm_id": "BUY0000001",
        "page": "/exporters/EXP000001",
        "target_id": "EXP000001",
        "hs_chapter": "85",
    }
    record.update(fields)
    return record


def anonymous(event_type: str = "profile_view", **fields: Any) -> dict[str, Any]:
    return event(event_type, user_id=None, actor_type="anonymous", actor_firm_id=None, **fields)


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        create_table(boto3.client("dynamodb"), COUNTERS, "counters")
        yield boto3.resource("dynamodb").Table("counters")


def apply(table: Any, *records: dict[str, Any]) -> ApplyResult:
    return apply_events(table, records, key=KEY)


def item_row(table: Any, item: str, sk: str) -> dict[str, Any]:
    return dict(table.get_item(Key={"pk": f"ITEM#{item}", "sk": sk}).get("Item", {}))


def scan(table: Any) -> list[dict[str, Any]]:
    return list(table.scan()["Items"])


def ids(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["rule"], e["item_id"]) for e in entries]


# --- values, scores, days -------------------------------------------------------------------


def test_preference_values_and_the_recommendation_score() -> None:
    assert PREFERENCE_VALUES == {"profile_view": 0.5, "save": 0.7, "inquiry": 1.0}
    assert recommendation_score(0, 0, 0) == 0.0
    assert recommendation_score(2, 1, 1) == pytest.approx(2.7)
    assert recommendation_score(4, 0, 0) == recommendation_score(0, 0, 2)


def test_seoul_day_turns_at_15_utc() -> None:
    assert seoul_day("2026-11-25T14:59:59Z") == dt.date(2026, 11, 25)
    assert seoul_day("2026-11-25T15:30:00Z") == dt.date(2026, 11, 26)
    assert seoul_day(dt.datetime(2026, 11, 25, 15, 0)) == dt.date(2026, 11, 26)  # naive: UTC
    assert seoul_day(dt.datetime(2026, 11, 26, 0, 30, tzinfo=dt.UTC)) == dt.date(2026, 11, 26)


# --- what an event changes ------------------------------------------------------------------


def test_an_event_updates_one_row_per_ranking_with_counts_rs_and_ratings(table: Any) -> None:
    result = apply(
        table,
        event("profile_view"),
        event("profile_view"),
        event("save"),
        event("inquiry"),
        event("rating", rating=0.5),
        event("rating", rating=-1.0),
    )
    assert (result.applied, result.duplicates, result.ignored, result.rejected) == (6, 0, 0, 0)
    for sk in ("85#ALL", "85#2026-11-26", "ALL#ALL", "ALL#2026-11-26"):
        row = item_row(table, "EXP000001", sk)
        assert row["board"] == sk
        assert (row["views"], row["saves"], row["inquiries"]) == (2, 1, 1)
        assert float(row["rs"]) == recommendation_score(2, 1, 1)
        assert (row["rating_sum"], row["rating_count"]) == (-0.5, 2)
    assert "expires_at" not in item_row(table, "EXP000001", "85#ALL")
    assert item_row(table, "EXP000001", "ALL#ALL")["categories"] == {"85"}
    # The day row goes 30 days after the Seoul day ends (2026-11-27T00:00+09:00).
    expiry = dt.datetime(2026, 11, 26, 15, tzinfo=dt.UTC) + dt.timedelta(days=30)
    assert item_row(table, "EXP000001", "85#2026-11-26")["expires_at"] == expiry.timestamp()


def test_a_profile_without_chapter_counts_overall_and_a_chapter_alone_only_interest(
    table: Any,
) -> None:
    apply(table, event("save", hs_chapter=None), event("profile_view", target_id=None))
    rows = {(r["pk"], r["sk"]) for r in scan(table) if not r["pk"].startswith("EVENT#")}
    user = f"USER#{pseudonymise('buyer.lee@example.com', KEY)}"
    assert rows == {
        ("ITEM#EXP000001", "ALL#ALL"),
        ("ITEM#EXP000001", "ALL#2026-11-26"),
        (user, "DEALT#EXP000001"),
        (user, "INTEREST#85"),
    }


def test_today_and_all_time_split_at_the_seoul_midnight(table: Any) -> None:
    apply(
        table,
        anonymous(event_time="2026-11-25T14:59:00Z"),  # 23:59 on the 25th in Seoul
        anonymous(event_time="2026-11-25T15:30:00Z"),  # 00:30 on the 26th in Seoul
        anonymous("save", event_time="2026-11-26T02:00:00Z"),
    )
    assert item_row(table, "EXP000001", "85#2026-11-25")["views"] == 1
    assert item_row(table, "EXP000001", "85#2026-11-26")["views"] == 1
    [entry] = popular(table, category="85", user_id=None, key=KEY, today=DAY)
    assert entry["all_time"] == {"views": 2, "saves": 1, "inquiries": 0, "rs": 1.7}
    assert entry["today"] == {"views": 1, "saves": 1, "inquiries": 0, "rs": 1.2}
    [quiet] = popular(table, category="85", user_id=None, key=KEY, today=dt.date(2026, 11, 27))
    assert quiet["today"] == {"views": 0, "saves": 0, "inquiries": 0, "rs": 0.0}


def test_other_events_are_ignored_and_change_nothing(table: Any) -> None:
    result = apply(
        table,
        event("login", target_id=None, hs_chapter=None),
        event("page_view", target_id=None),  # a category page: not a view of a profile
        event("search", target_id=None, search_keyword="battery cells"),
        event("click"),
        event("rating"),  # no rating given
        event("save", target_id=None, hs_chapter=None),  # about nothing
    )
    assert (result.applied, result.ignored, result.rejected) == (0, 6, 0)
    assert scan(table) == []


# --- exactly once, and rejections ------------------------------------------------------------


def test_a_redelivered_event_counts_once(table: Any) -> None:
    view = event("inquiry")
    first = apply_event(table, view, key=KEY)
    again = apply_event(table, view, key=KEY)
    assert (first.status, again.status) == (Status.APPLIED, Status.DUPLICATE)
    assert item_row(table, "EXP000001", "85#ALL")["inquiries"] == 1
    meetings = table.get_item(Key={"pk": "MEETINGS#2026-11-26", "sk": "EXPORTER#EXP000001"})
    assert meetings["Item"]["requested"] == 1


def test_a_batch_with_a_duplicate_inside_counts_it_once(table: Any) -> None:
    view, save = event("profile_view"), event("save")
    result = apply(table, view, save, dict(view), event("profile_view"))
    assert (result.applied, result.duplicates) == (3, 1)
    assert item_row(table, "EXP000001", "ALL#ALL")["views"] == 2
    markers = [r for r in scan(table) if r["pk"].startswith("EVENT#")]
    assert len(markers) == 3


def test_markers_expire_after_the_stream_could_redeliver(table: Any) -> None:
    now = dt.datetime(2026, 11, 26, 4, tzinfo=dt.UTC)
    record = event("save")
    apply_event(table, record, key=KEY, now=now)
    marker = table.get_item(Key={"pk": f"EVENT#{record['event_id']}", "sk": "EVENT"})["Item"]
    assert marker["expires_at"] == (now + MARKER_TTL).timestamp()
    assert dt.timedelta(days=7) <= MARKER_TTL  # the longest stream retention


def test_contract_breaking_events_are_rejected_with_reasons_and_the_batch_goes_on(
    table: Any,
) -> None:
    bad_type = event("purchase")
    no_id = event("save")
    del no_id["event_id"]
    bad_target = event("save", target_id="exporter-1")
    bad_rating = event("rating", rating=0.3)
    result = apply(table, bad_type, no_id, bad_target, bad_rating, event("save"))
    assert (result.applied, result.rejected) == (1, 4)
    reasons = dict(result.rejections)
    assert "event_type: not_allowed" in reasons[bad_type["event_id"]]
    assert "event_id: missing_required" in reasons[None]
    assert "target_id: bad_format" in reasons[bad_target["event_id"]]
    assert "rating: not_allowed" in reasons[bad_rating["event_id"]]
    assert item_row(table, "EXP000001", "ALL#ALL")["saves"] == 1


def test_the_clear_user_id_is_never_stored(table: Any) -> None:
    user_id = "buyer.lee@example.com"
    apply(table, event("profile_view"), event("save"), event("rating", rating=1.0))
    stored = repr(scan(table))
    assert user_id not in stored and "buyer.lee" not in stored
    assert f"USER#{pseudonymise(user_id, KEY)}" in stored


# --- popular: RS and the fallback rules ------------------------------------------------------


def test_rs_ranks_and_ties_are_broken_by_the_mean_rating(table: Any) -> None:
    apply(
        table,
        *[anonymous(target_id="EXP000002") for _ in range(2)],  # RS 1.0, unrated
        anonymous("inquiry", target_id="EXP000003"),  # RS 1.0, rated very good
        anonymous("rating", target_id="EXP000003", rating=1.0),
        *[anonymous(target_id="EXP000004") for _ in range(2)],  # RS 1.0, rated bad
        anonymous("rating", target_id="EXP000004", rating=-0.5),
        anonymous("save", target_id="EXP000005"),  # RS 0.7
        anonymous("inquiry", target_id="EXP000006"),  # RS 1.7
        anonymous("save", target_id="EXP000006"),
    )
    entries = popular(table, category="85", user_id=None, key=KEY, today=DAY)
    assert [e["item_id"] for e in entries] == [
        "EXP000006",
        "EXP000003",
        "EXP000002",
        "EXP000004",
        "EXP000005",
    ]
    assert [e["rs"] for e in entries] == [1.7, 1.0, 1.0, 1.0, 0.7]
    assert [e["mean_rating"] for e in entries] == [None, 1.0, None, -0.5, None]
    # The tie at the cut is settled by rating too, not by the index's order.
    cut = popular(table, category="85", user_id=None, key=KEY, limit=2, today=DAY)
    assert [e["item_id"] for e in cut] == ["EXP000006", "EXP000003"]


def test_anonymous_on_a_category_page_gets_the_category_then_the_best_overall(
    table: Any,
) -> None:
    apply(
        table,
        anonymous("inquiry", target_id="BUY0000009", hs_chapter="03"),  # best overall
        anonymous("save", target_id="EXP000001"),
        anonymous(target_id="EXP000002"),
    )
    entries = popular(table, category="85", user_id=None, key=KEY, today=DAY)
    assert ids(entries) == [
        ("category", "EXP000001"),
        ("category", "EXP000002"),
        ("overall", "BUY0000009"),
    ]
    assert [e["category"] for e in entries] == ["85", "85", None]
    only = popular(table, category="85", user_id=None, key=KEY, limit=1, today=DAY)
    assert ids(only) == [("category", "EXP000001")]


def test_anonymous_elsewhere_gets_the_best_overall(table: Any) -> None:
    apply(
        table,
        anonymous("inquiry", target_id="BUY0000009", hs_chapter="03"),
        anonymous("save", target_id="EXP000001"),
    )
    entries = popular(table, category=None, user_id=None, key=KEY, today=DAY)
    assert ids(entries) == [("overall", "BUY0000009"), ("overall", "EXP000001")]
    assert entries[0]["all_time"]["inquiries"] == 1 and entries[0]["rs"] == 1.0


def test_a_known_user_on_a_category_page_gets_the_category_and_the_top_interest(
    table: Any,
) -> None:
    apply(
        table,
        # Popularity, from others: two profiles per chapter.
        anonymous("inquiry", target_id="EXP000001"),
        anonymous(target_id="EXP000002"),
        anonymous("inquiry", target_id="BUY0000003", hs_chapter="03"),
        anonymous(target_id="BUY0000004", hs_chapter="03"),
        # The user: most interest in chapter 03, and EXP000001 already saved.
        event(
            "inquiry",
            target_id="BUY0000005",
            hs_chapter="03",
            actor_type="exporter",
            actor_firm_id="EXP000099",
        ),
        event("save", target_id="EXP000001"),
    )
    entries = popular(table, category="85", user_id="buyer.lee@example.com", key=KEY, today=DAY)
    assert ids(entries) == [
        ("category", "EXP000002"),
        ("top_interest", "BUY0000003"),
        ("top_interest", "BUY0000004"),
    ]


def test_a_known_user_on_the_page_of_the_top_interest_gets_that_category_once(
    table: Any,
) -> None:
    apply(table, anonymous("save", target_id="EXP000002"), event(target_id="EXP000001"))
    entries = popular(table, category="85", user_id="buyer.lee@example.com", key=KEY, today=DAY)
    # A view is no dealing with: the viewed profile stays in.
    assert ids(entries) == [("category", "EXP000002"), ("category", "EXP000001")]


def test_a_known_user_elsewhere_gets_the_top_interest_without_what_was_dealt_with(
    table: Any,
) -> None:
    apply(
        table,
        anonymous("inquiry", target_id="BUY0000009", hs_chapter="03"),
        anonymous("inquiry", target_id="EXP000001"),
        anonymous(target_id="EXP000002"),
        event("save", target_id="EXP000002"),  # the user is into 85, dealt with EXP000002
        event(target_id="EXP000003"),
    )
    entries = popular(table, category=None, user_id="buyer.lee@example.com", key=KEY, today=DAY)
    assert ids(entries) == [
        ("top_interest", "EXP000001"),
        ("top_interest", "EXP000003"),
        ("overall", "BUY0000009"),
    ]


def test_a_known_user_without_interest_falls_back_as_an_anonymous_user(table: Any) -> None:
    apply(
        table,
        anonymous("inquiry", target_id="BUY0000009", hs_chapter="03"),
        anonymous("save", target_id="EXP000001"),
        # This user's only interest is negative: a bad meeting, no interest in the chapter.
        event("rating", user_id="someone.else", target_id="EXP000007", rating=-1.0),
    )
    never_seen = popular(table, category="85", user_id="new.user", key=KEY, today=DAY)
    assert ids(never_seen) == [
        ("category", "EXP000001"),
        ("category", "EXP000007"),
        ("overall", "BUY0000009"),
    ]
    disappointed = popular(table, category=None, user_id="someone.else", key=KEY, today=DAY)
    assert ids(disappointed) == [("overall", "BUY0000009"), ("overall", "EXP000001")]


def test_popular_refuses_a_bad_limit_or_category(table: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        popular(table, category=None, user_id=None, key=KEY, limit=0)
    with pytest.raises(ValueError, match="HS chapter"):
        popular(table, category="ALL", user_id=None, key=KEY)


# --- the fair, live --------------------------------------------------------------------------


def test_fair_live_ranks_today_and_counts_meetings_per_exporter(table: Any) -> None:
    apply(
        table,
        *[anonymous(target_id="EXP000001") for _ in range(3)],
        anonymous(target_id="BUY0000002", hs_chapter="03"),
        anonymous("save", target_id="BUY0000002", hs_chapter="03"),
        anonymous(target_id="EXP000003", event_time="2026-11-25T14:00:00Z"),  # yesterday
        # Meetings: a buyer inquires of an exporter (requested, for the target) ...
        event("inquiry", target_id="EXP000003"),
        event("inquiry", target_id="EXP000001"),
        # ... an exporter rates a buyer after meeting (held, for the acting exporter) ...
        event(
            "rating",
            rating=0.5,
            actor_type="exporter",
            actor_firm_id="EXP000003",
            target_id="BUY0000002",
        ),
        # ... staff rating a buyer name no exporter: no meeting row.
        event("rating", rating=1.0, actor_type="staff", actor_firm_id=None, target_id="BUY0000004"),
    )
    live = fair_live(table, day=DAY, limit=2)
    assert live["day"] == "2026-11-26"
    assert [(e["item_id"], e["views"]) for e in live["most_viewed"]] == [
        ("EXP000001", 3),
        ("BUY0000002", 1),
    ]
    assert [e["item_id"] for e in live["most_saved"]] == ["BUY0000002"]
    assert [e["item_id"] for e in live["most_inquired"]] == ["EXP000001", "EXP000003"]
    assert live["meetings"] == [
        {"exporter_id": "EXP000003", "requested": 1, "held": 1},
        {"exporter_id": "EXP000001", "requested": 1, "held": 0},
    ]
    assert live["meetings_total"] == {"exporters": 2, "requested": 2, "held": 1}
    yesterday = fair_live(table, day=dt.date(2026, 11, 25))
    assert [e["item_id"] for e in yesterday["most_viewed"]] == ["EXP000003"]
    assert yesterday["meetings"] == []


# --- the table itself ------------------------------------------------------------------------


def test_create_table_follows_the_spec_and_may_run_twice() -> None:
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, COUNTERS, "counters")
        create_table(client, COUNTERS, "counters")
        described = client.describe_table(TableName="counters")["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]} == {
            "pk": "HASH",
            "sk": "RANGE",
        }
        [index] = described["GlobalSecondaryIndexes"]
        assert index["IndexName"] == "board"
        assert [k["AttributeName"] for k in index["KeySchema"]] == ["board", "rs"]
        assert index["Projection"]["ProjectionType"] == "ALL"
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        assert types == {"pk": "S", "sk": "S", "board": "S", "rs": "N"}
        ttl = client.describe_time_to_live(TableName="counters")["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_create_table_adds_the_indexes_a_spec_gained_to_an_existing_table() -> None:
    """An emulation started by an earlier version keeps its tables and their data; provisioning
    again gives them the indexes the code now queries (here: the firms table's name search)."""
    from exportintel.serving.tables import FIRMS

    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="firms",
            KeySchema=[{"AttributeName": FIRMS.partition_key.name, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": FIRMS.partition_key.name, "AttributeType": "S"}
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="firms", Item={FIRMS.partition_key.name: {"S": "EXP000001"}})
        create_table(client, FIRMS, "firms")
        described = client.describe_table(TableName="firms")["Table"]
        assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {
            index.name for index in FIRMS.indexes
        }
        assert client.scan(TableName="firms")["Count"] == 1
