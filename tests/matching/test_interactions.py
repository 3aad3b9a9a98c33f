"""Interactions: event values, who the pair is, staff and anonymous left out, agency requests,
restated ratings, the decay, and the Spark form agreeing with the Python one on generated
data."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession

from exportintel.continuity.tables import read_table
from exportintel.contracts import get_contract
from exportintel.contracts.datasets import RATINGS
from exportintel.contracts.schemas import arrow_schema
from exportintel.curation import curate_line
from exportintel.generate import generate
from exportintel.matching import interactions as interactions_module
from exportintel.matching.interactions import (
    EVENT_TYPES,
    Interaction,
    decay_weights,
    decayed_weight,
    event_value,
    interactions,
    interactions_frame,
    match_interactions,
    web_interaction,
)

E1, E2, B1, B2 = "EXP000001", "EXP000002", "BUY0000001", "BUY0000002"
WHEN = dt.datetime(2024, 5, 3, 1, 2, 3, tzinfo=dt.UTC)
Record = dict[str, Any]


def web(n: int, actor: str, firm: str | None, event_type: str, target: str | None = None,
        rating: float | None = None, when: dt.datetime = WHEN) -> Record:  # fmt: skip
    """A curated web event with what the rule reads (the rest of the contract's fields too)."""
    section = "exporters" if (target or "").startswith("EXP") else "buyers"
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012d}", "event_time": when,
        "event_type": event_type, "user_id": None, "cookie_id": None, "cookie_consent": False,
        "session_id": "s1", "actor_type": actor, "actor_firm_id": firm,
        "page": f"/{section}/{target}" if target else "/", "referrer_page": None,
        "dwell_seconds": None, "search_keyword": None, "target_id": target, "hs_chapter": None,
        "rating": rating,
    }  # fmt: skip


def match(match_id: str, requested_by: str, *, held: bool = False, deal: bool = False,
          exporter_rating: float | None = None, buyer_rating: float | None = None,
          on: dt.date = dt.date(2024, 1, 1), buyer: str = B1) -> Record:  # fmt: skip
    return {
        "match_id": match_id, "exporter_id": E1, "buyer_id": buyer,
        "requested_by": requested_by, "channel": "office", "requested_on": on,
        "meeting_held": held, "deal_closed": deal, "deal_value_usd": 1000.0 if deal else None,
        "exporter_rating": exporter_rating, "buyer_rating": buyer_rating, "officer_note": None,
    }  # fmt: skip


# ------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("event_type", "value"),
    [("profile_view", 0.5), ("save", 0.7), ("inquiry", 1.0), ("meeting_request", 1.0),
     ("meeting_held", 1.5), ("deal_closed", 2.0)],
)  # fmt: skip
def test_the_values_of_the_behaviour_scoring(event_type: str, value: float) -> None:
    assert event_value(event_type) == value


def test_meetings_and_deals_weigh_above_an_inquiry() -> None:
    inquiry = event_value("inquiry")
    held, deal = event_value("meeting_held"), event_value("deal_closed")
    assert inquiry is not None and held is not None and deal is not None
    assert inquiry < held < deal


def test_a_rating_weighs_its_value_and_nothing_else_has_one() -> None:
    for rating in (1.0, 0.5, 0.0, -0.5, -1.0):
        assert event_value("rating", rating) == rating
    assert event_value("rating", None) is None
    assert event_value("rating", 0.3) is None  # not a rating step
    for other in ("login", "page_view", "search", "click", "unknown"):
        assert event_value(other) is None
    assert set(EVENT_TYPES) == set(get_contract("interactions").field("event_type").allowed or ())
    assert interactions_module.RATINGS == RATINGS  # the contracts' rating steps


def test_the_module_imports_first_without_spark_or_numpy() -> None:
    # The training code and the Lambdas import it before anything else of the package.
    code = (
        "import sys; import exportintel.matching.interactions as m; "
        "assert m.decay_weights and 'pyspark' not in sys.modules and 'numpy' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------------ web events


def test_an_exporter_looking_at_a_buyer() -> None:
    row = web_interaction(web(1, "exporter", E1, "profile_view", B1))
    assert row == Interaction(
        exporter_id=E1, buyer_id=B1, actor="exporter", event_type="profile_view", weight=0.5,
        ts=WHEN, source="web_events", event_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    assert row.year == 2024


def test_a_buyer_looking_at_an_exporter_puts_the_pair_the_other_way_round() -> None:
    saved = web_interaction(web(2, "buyer", B1, "save", E1))
    inquired = web_interaction(web(3, "buyer", B1, "inquiry", E2))
    assert saved is not None and inquired is not None
    assert (saved.exporter_id, saved.buyer_id, saved.actor, saved.weight) == (E1, B1, "buyer", 0.7)
    assert (inquired.exporter_id, inquired.buyer_id, inquired.weight) == (E2, B1, 1.0)


def test_a_web_rating_is_signed() -> None:
    bad = web_interaction(web(4, "exporter", E1, "rating", B1, rating=-0.5))
    assert bad is not None and bad.weight == -0.5 and bad.event_type == "rating"
    assert web_interaction(web(5, "exporter", E1, "rating", B1, rating=None)) is None


@pytest.mark.parametrize(
    "event",
    [
        web(10, "staff", None, "profile_view", B1),  # a matchmaker browsing for others
        web(11, "staff", None, "profile_view", E1),
        web(12, "anonymous", None, "profile_view", E1),  # no firm
        web(13, "exporter", None, "profile_view", B1),  # signed in without a firm on record
        web(14, "exporter", E1, "profile_view", E2),  # a competitor, not a match
        web(15, "buyer", B1, "save", B2),
        web(16, "buyer", E1, "profile_view", E2),  # a firm id of the wrong side
        web(17, "exporter", E1, "login"),
        web(18, "exporter", E1, "page_view"),
        web(19, "buyer", B1, "search"),
        web(20, "buyer", B1, "click"),
        web(21, "buyer", B1, "page_view", E1),  # a page view is not a profile view
    ],
)
def test_events_that_are_not_a_pair_interaction_are_left_out(event: Record) -> None:
    assert web_interaction(event) is None


# ------------------------------------------------------------------------------ matches

SEOUL_NEW_YEAR = dt.datetime(2023, 12, 31, 15, 0, tzinfo=dt.UTC)  # 2024-01-01 00:00 in Seoul


def test_an_agency_match_with_a_meeting_a_deal_and_both_ratings() -> None:
    rows = match_interactions(
        match("M1", "agency", held=True, deal=True, exporter_rating=1.0, buyer_rating=-0.5)
    )
    got = {(r.actor, r.event_type, r.weight, r.event_id) for r in rows}
    assert got == {
        ("agency", "meeting_request", 1.0, "M1.meeting_request"),
        ("exporter", "meeting_held", 1.5, "M1.meeting_held.exporter"),
        ("buyer", "meeting_held", 1.5, "M1.meeting_held.buyer"),
        ("exporter", "deal_closed", 2.0, "M1.deal_closed.exporter"),
        ("buyer", "deal_closed", 2.0, "M1.deal_closed.buyer"),
        ("exporter", "rating", 1.0, "M1.rating.exporter"),
        ("buyer", "rating", -0.5, "M1.rating.buyer"),
    }
    # Timed at the start of the request date in Seoul; the partition year is Seoul's.
    assert {(r.exporter_id, r.buyer_id, r.ts, r.source, r.year) for r in rows} == {
        (E1, B1, SEOUL_NEW_YEAR, "match_history", 2024)
    }


def test_a_request_without_a_meeting_is_the_requester_s_only() -> None:
    for side in ("exporter", "buyer"):
        rows = match_interactions(match("M2", side))
        assert [(r.actor, r.event_type, r.weight) for r in rows] == [(side, "meeting_request", 1.0)]


def test_a_neutral_rating_is_kept_with_weight_zero() -> None:
    rows = match_interactions(match("M3", "buyer", held=True, exporter_rating=0.0))
    assert ("exporter", "rating", 0.0) in {(r.actor, r.event_type, r.weight) for r in rows}


def test_a_web_rating_restating_a_match_rating_is_counted_once() -> None:
    later = dt.datetime(2024, 1, 10, 3, 0, tzinfo=dt.UTC)
    before = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)
    matches = [match("M4", "exporter", held=True, exporter_rating=0.5, buyer_rating=1.0)]
    events = [
        web(30, "exporter", E1, "rating", B1, rating=0.5, when=later),  # restates M4's
        web(31, "buyer", B1, "rating", E1, rating=1.0, when=later),  # restates M4's
        web(32, "exporter", E1, "rating", B1, rating=-1.0, when=later),  # another value
        web(33, "exporter", E1, "rating", B1, rating=0.5, when=before),  # before the match
        web(34, "exporter", E1, "rating", B2, rating=0.5, when=later),  # another pair
        web(35, "exporter", E1, "inquiry", B1, when=later),  # not a rating
    ]
    kept = {i.event_id[-2:] for i in interactions(events, matches) if i.source == "web_events"}
    assert kept == {"32", "33", "34", "35"}


# ------------------------------------------------------------------------------ decay

DAY = dt.timedelta(days=1)


def test_a_half_life_halves_the_weight() -> None:
    assert decayed_weight(1.0, WHEN, WHEN, 30) == 1.0
    assert decayed_weight(1.0, WHEN, WHEN + 30 * DAY, 30) == pytest.approx(0.5)
    assert decayed_weight(0.7, WHEN, WHEN + 60 * DAY, 30) == pytest.approx(0.175)
    assert decayed_weight(2.0, WHEN, WHEN + 12 * dt.timedelta(hours=1), 1) == pytest.approx(
        2.0 / math.sqrt(2)
    )
    # A negative rating fades towards 0 as well.
    assert decayed_weight(-1.0, WHEN, WHEN + 10 * DAY, 10) == pytest.approx(-0.5)
    assert decayed_weight(1.0, WHEN, WHEN + 1000 * DAY, math.inf) == 1.0


def test_an_event_after_as_of_keeps_its_weight() -> None:
    assert decayed_weight(0.7, WHEN + DAY, WHEN, 30) == 0.7
    assert decay_weights(np.array([0.7]), np.array([WHEN + DAY]), WHEN, 30).tolist() == [0.7]


def test_as_of_naive_is_utc_a_date_is_its_midnight() -> None:
    naive = WHEN.replace(tzinfo=None)
    assert decayed_weight(1.0, naive, WHEN + 30 * DAY, 30) == pytest.approx(0.5)
    seoul = dt.timezone(dt.timedelta(hours=9))
    assert decayed_weight(1.0, WHEN.astimezone(seoul), WHEN + 30 * DAY, 30) == pytest.approx(0.5)
    midnight = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert decayed_weight(1.0, midnight, dt.date(2024, 1, 31), 30) == pytest.approx(0.5)


@pytest.mark.parametrize("half_life", [0, -1, math.nan])
def test_a_half_life_must_be_positive(half_life: float) -> None:
    with pytest.raises(ValueError, match="half_life_days"):
        decayed_weight(1.0, WHEN, WHEN, half_life)
    with pytest.raises(ValueError, match="half_life_days"):
        decay_weights(np.ones(1), np.array([WHEN]), WHEN, half_life)


def test_the_vectorised_decay_agrees_with_the_scalar_one() -> None:
    rng = np.random.default_rng(3)
    n = 500
    weights = rng.choice(np.array([0.5, 0.7, 1.0, 1.5, 2.0, *RATINGS]), n)
    seconds = rng.integers(-10 * 86_400, 400 * 86_400, n)  # some after as_of
    as_of = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
    moments = [as_of - dt.timedelta(seconds=int(s)) for s in seconds]
    expected = [decayed_weight(w, t, as_of, 45.0) for w, t in zip(weights, moments, strict=True)]
    # numpy datetime64 (UTC by convention), aware datetimes, a tz-aware pandas Series
    as_numpy = np.array([t.replace(tzinfo=None) for t in moments], dtype="datetime64[us]")
    for ts in (as_numpy, np.array(moments, dtype=object), pd.Series(moments)):
        got = decay_weights(weights, ts, as_of, 45.0)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert decay_weights(weights, as_numpy, np.datetime64("2025-06-30T12:00"), 45.0) == (
        pytest.approx(expected)
    )


def test_a_missing_moment_decays_to_nan_and_shapes_must_match() -> None:
    got = decay_weights(np.array([1.0, 1.0]), np.array(["2024-01-01", "NaT"], "datetime64[s]"),
                        dt.datetime(2024, 1, 2, tzinfo=dt.UTC), 1.0)  # fmt: skip
    assert got[0] == pytest.approx(0.5) and math.isnan(got[1])
    with pytest.raises(ValueError, match="shape"):
        decay_weights(np.ones(3), np.array([WHEN, WHEN], dtype=object), WHEN, 1.0)


# ------------------------------------------------------------------------------ Spark agrees


def _curated(out: Path, dataset: str) -> list[Record]:
    """The generated records as curation keeps them: valid, treated, one per key."""
    contract = get_contract(dataset)
    key = b"k" * 32
    records: dict[tuple[Any, ...], Record] = {}
    for path in sorted((out / dataset).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = curate_line(contract, line, key).record
            if record is not None:
                records.setdefault(tuple(record[k] for k in contract.primary_key), record)
    return list(records.values())


@dataclass(frozen=True)
class Generated:
    records: dict[str, list[Record]]
    tables: dict[str, DataFrame]


@pytest.fixture(scope="module")
def generated(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The generated web events and match history, curated, as records and as tables."""
    out = tmp_path_factory.mktemp("generated")
    generate(scale="tiny", seed=5, out=out)
    records = {name: _curated(out, name) for name in ("web_events", "match_history")}
    tables = {}
    for name, rows in records.items():
        # Written as curation writes Parquet, read as the job reads it (faster than making a
        # frame of Python rows).
        folder = out / "curated" / name
        folder.mkdir(parents=True)
        schema = arrow_schema(get_contract(name))
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")
        tables[name] = read_table(spark, name, str(folder))
    return Generated(records, tables)


def _key(i: Interaction) -> tuple[Any, ...]:
    return (i.exporter_id, i.buyer_id, i.actor, i.event_type, i.weight, i.ts, i.source,
            i.event_id, i.year)  # fmt: skip


def test_spark_applies_the_same_rule_to_every_generated_event(generated: Generated) -> None:
    # Given the generated web events and match history, as curated
    events, matches = generated.records["web_events"], generated.records["match_history"]
    # When both forms of the rule run on them
    expected = Counter(_key(i) for i in interactions(events, matches))
    result = interactions_frame(generated.tables["web_events"], generated.tables["match_history"])
    got = Counter(
        tuple(
            # Spark hands timestamps back as naive local time
            v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v
            for v in row
        )
        for row in result.collect()
    )
    # Then they agree row for row
    assert got == expected
    assert list(result.columns) == list(get_contract("interactions").field_names)
    # ... on data that exercises every branch: each event type of each actor, staff and
    # anonymous events left out, restated ratings dropped, every event id once
    kinds = {(k[6], k[3], k[2]) for k in expected}
    web_kinds = {("web_events", t, a) for t in ("profile_view", "save", "inquiry", "rating")
                 for a in ("exporter", "buyer")}  # fmt: skip
    match_kinds = {("match_history", t, a) for t in ("meeting_held", "deal_closed", "rating")
                   for a in ("exporter", "buyer")}  # fmt: skip
    requests = {("match_history", "meeting_request", a) for a in ("exporter", "buyer", "agency")}
    assert kinds == web_kinds | match_kinds | requests
    actors = Counter(e["actor_type"] for e in events)
    assert actors["staff"] > 0 and actors["anonymous"] > 0
    ids = {k[7] for k in expected}
    left_out = {e["event_id"] for e in events if e["actor_type"] in ("staff", "anonymous")}
    assert not ids & left_out
    web_ratings = sum(1 for e in events if web_interaction(e) and e["event_type"] == "rating")
    kept_ratings = sum(n for k, n in expected.items() if (k[6], k[3]) == ("web_events", "rating"))
    assert kept_ratings < web_ratings
    assert len(ids) == sum(expected.values())
