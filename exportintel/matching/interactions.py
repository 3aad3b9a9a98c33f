"""Exporter-buyer interactions weighted by what the events say about a preference, stated once.

Behaviour scoring (MISSION.md, "Behaviour scoring from events") gives each event a value:

    event (source)                          event_type        value
    profile / detail view (web)             profile_view      0.5
    save to list (web)                      save              0.7
    inquiry (web)                           inquiry           1.0
    meeting request (match history)         meeting_request   1.0
    meeting held (match history)            meeting_held      1.5
    deal closed (match history)             deal_closed       2.0
    post-meeting rating (web, match hist.)  rating            the rating: 1.0 very good,
                                                              0.5, 0, -0.5, -1.0 very bad

A meeting held and a deal closed weigh above an inquiry: both sides spent a meeting on the
pair, and a deal is the outcome the matching exists for.

**Web events** (`web_events`). An event is a pair interaction when a signed-in firm acted on a
profile of the other side: `actor_type` exporter with an exporter's `actor_firm_id` and a
buyer's `target_id` (an exporter looking at a buyer), or `actor_type` buyer with a buyer's
`actor_firm_id` and an exporter's `target_id` (a buyer looking at an exporter), and an
`event_type` of the table above (a rating with one of the rating values). Everything else is
left out: staff (matchmakers browsing for others: no firm's preference), anonymous visitors
(no firm), logins, page views, searches and clicks (no profile), and a firm looking at a firm
of its own side (a competitor, not a match). The page is not needed: the target says whose
profile it was.

**Match history** (`match_history`). Each match gives:

- a `meeting_request` by the side that asked (`requested_by`). A request of the agency (a
  matchmaker proposing the pair, at the office or at a fair) is kept with actor `agency`: it
  is neither firm's preference, so a model of one side's preferences can leave it out, and it
  still says that the pair was put forward (a model of pairs may count it);
- a `meeting_held` and a `deal_closed`, when they happened, once for each side (actor
  exporter and actor buyer): both firms took part, so each is a preference of each side;
- a `rating` per post-meeting rating given, `exporter_rating` by the exporter and
  `buyer_rating` by the buyer, weighing the rating (0, neutral, is kept: the pair met).

match_history records the request date only: every event of a match is timed at the start of
`requested_on` in Asia/Seoul (the agency's dates are Seoul dates), in UTC.

**Restated ratings.** A rating a firm also posts on the site after a meeting is the
match_history rating again: a web rating is left out when match_history holds a rating of the
same pair, by the same side, of the same value, timed no later than it. Web inquiries are kept
beside match requests: an inquiry is a message on the site, a request the agency's record of
a meeting asked for.

**Rows** (the `interactions` contract): `exporter_id`, `buyer_id`, `actor` (who acted:
exporter, buyer or agency), `event_type`, `weight` (the value above, signed for ratings, not
decayed), `ts` (UTC), `source` (web_events or match_history), `event_id` (stable, for dedup:
the web event's id, or `<match_id>.<event_type>` with `.<side>` for the events of both sides
and for ratings) and `year` (of `ts` in Asia/Seoul, the partition as in the curated zone).

**Decay** is applied at training time, against an as-of time that moves: `decayed_weight`
(one weight) and `decay_weights` (numpy arrays) multiply a weight by 2 ** (-age / half-life),
age = as_of - ts in days. An event after as_of is not an error (client clocks run ahead, and
"now" is read before the events of the last seconds land): its age counts as 0, the weight is
unchanged. Decay is not a cutoff: a leak-free training set keeps ts <= as_of itself.

`web_interaction`, `match_interactions` and `interactions` state the rule in Python (the API
scores one event); `interactions_frame` applies the same rule with Spark column expressions
(the `matching_inputs` Glue job). Tests hold the two in agreement on generated data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import numpy as np
    from pyspark.sql import Column, DataFrame

SEOUL = ZoneInfo("Asia/Seoul")


class Actor(StrEnum):
    EXPORTER = "exporter"
    BUYER = "buyer"
    AGENCY = "agency"


ACTORS: tuple[str, ...] = tuple(a.value for a in Actor)


class Source(StrEnum):
    WEB_EVENTS = "web_events"
    MATCH_HISTORY = "match_history"


RATING = "rating"
# The post-meeting rating steps, very bad to very good: the contracts' RATINGS (a test holds
# them equal). Not imported from there: the contracts import this module, and the training
# code imports this module first.
RATINGS = (-1.0, -0.5, 0.0, 0.5, 1.0)
# Values of the events that are not ratings (a rating weighs its own value).
WEB_EVENT_VALUES: Mapping[str, float] = {"profile_view": 0.5, "save": 0.7, "inquiry": 1.0}
MATCH_EVENT_VALUES: Mapping[str, float] = {
    "meeting_request": 1.0,
    "meeting_held": 1.5,
    "deal_closed": 2.0,
}
EVENT_TYPES: tuple[str, ...] = (*WEB_EVENT_VALUES, *MATCH_EVENT_VALUES, RATING)
# The events of a match that are both sides' (one row per side).
MUTUAL = ("meeting_held", "deal_closed")
# Curated ids are checked against the firm_id format (EXP + 6 digits, BUY + 7 digits): the
# prefix tells the side.
EXPORTER_PREFIX, BUYER_PREFIX = "EXP", "BUY"
# (the acting firm's prefix, the target's) per acting side of a web event
PAIR_PREFIXES: Mapping[str, tuple[str, str]] = {
    Actor.EXPORTER.value: (EXPORTER_PREFIX, BUYER_PREFIX),
    Actor.BUYER.value: (BUYER_PREFIX, EXPORTER_PREFIX),
}
MIN_WEIGHT, MAX_WEIGHT = -1.0, max(MATCH_EVENT_VALUES.values())


@dataclass(frozen=True)
class Interaction:
    """One row of the `interactions` table."""

    exporter_id: str
    buyer_id: str
    actor: str
    event_type: str
    weight: float
    ts: dt.datetime  # aware, UTC
    source: str
    event_id: str

    @property
    def year(self) -> int:
        """The partition year: of `ts` in Asia/Seoul, as the curated zone partitions."""
        return self.ts.astimezone(SEOUL).year

    def as_record(self) -> dict[str, Any]:
        return {
            "exporter_id": self.exporter_id,
            "buyer_id": self.buyer_id,
            "actor": self.actor,
            "event_type": self.event_type,
            "weight": self.weight,
            "ts": self.ts,
            "source": self.source,
            "event_id": self.event_id,
            "year": self.year,
        }


def event_value(event_type: str, rating: float | None = None) -> float | None:
    """The value of one event; None when the event says nothing about a preference (an event
    type not in the table, or a rating without one of the rating values)."""
    if event_type == RATING:
        return float(rating) if rating is not None and rating in RATINGS else None
    return WEB_EVENT_VALUES.get(event_type, MATCH_EVENT_VALUES.get(event_type))


def _utc(moment: dt.datetime) -> dt.datetime:
    """Naive datetimes are UTC (the lake's timestamps are)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def seoul_day_start(day: dt.date) -> dt.datetime:
    """The start of a Seoul date, in UTC: when a match_history event is timed."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(dt.UTC)


def web_interaction(event: Mapping[str, Any]) -> Interaction | None:
    """The interaction one curated web event is, or None when it is not a pair interaction."""
    actor, firm, target = (
        event.get("actor_type"),
        event.get("actor_firm_id"),
        event.get("target_id"),
    )
    if not isinstance(actor, str) or actor not in PAIR_PREFIXES or firm is None or target is None:
        return None  # staff, anonymous, or no profile acted on
    own, other = PAIR_PREFIXES[actor]
    if not (str(firm).startswith(own) and str(target).startswith(other)):
        return None  # not a firm of the actor's side, or a profile of its own side
    event_type = event.get("event_type")
    if event_type not in WEB_EVENT_VALUES and event_type != RATING:
        return None
    value = event_value(str(event_type), event.get("rating"))
    if value is None:
        return None
    exporter, buyer = (firm, target) if actor == Actor.EXPORTER else (target, firm)
    return Interaction(
        exporter_id=str(exporter),
        buyer_id=str(buyer),
        actor=str(actor),
        event_type=str(event_type),
        weight=value,
        ts=_utc(event["event_time"]),
        source=Source.WEB_EVENTS.value,
        event_id=str(event["event_id"]),
    )


def match_interactions(match: Mapping[str, Any]) -> list[Interaction]:
    """The interactions one curated match_history record gives (see the module docstring)."""
    match_id = str(match["match_id"])
    ts = seoul_day_start(match["requested_on"])

    def row(actor: str, event_type: str, weight: float, event_id: str) -> Interaction:
        return Interaction(
            exporter_id=str(match["exporter_id"]),
            buyer_id=str(match["buyer_id"]),
            actor=actor,
            event_type=event_type,
            weight=weight,
            ts=ts,
            source=Source.MATCH_HISTORY.value,
            event_id=event_id,
        )

    rows = []
    if match.get("requested_by") in ACTORS:
        request = "meeting_request"
        rows.append(
            row(str(match["requested_by"]), request, MATCH_EVENT_VALUES[request],
                f"{match_id}.{request}")
        )  # fmt: skip
    for event_type in MUTUAL:
        if match.get(event_type) is True:
            for side in (Actor.EXPORTER, Actor.BUYER):
                rows.append(
                    row(side.value, event_type, MATCH_EVENT_VALUES[event_type],
                        f"{match_id}.{event_type}.{side.value}")
                )  # fmt: skip
    for side in (Actor.EXPORTER, Actor.BUYER):
        value = event_value(RATING, match.get(f"{side.value}_rating"))
        if value is not None:
            rows.append(row(side.value, RATING, value, f"{match_id}.{RATING}.{side.value}"))
    return rows


def _restates(web: Interaction, stated: Mapping[tuple[str, str, str, float], dt.datetime]) -> bool:
    """A web rating that repeats a match_history rating timed no later than it."""
    if web.event_type != RATING:
        return False
    first = stated.get((web.exporter_id, web.buyer_id, web.actor, web.weight))
    return first is not None and first <= web.ts


def interactions(
    web_events: Iterable[Mapping[str, Any]], match_history: Iterable[Mapping[str, Any]]
) -> list[Interaction]:
    """Every interaction of the curated web events and match history: match history first,
    then the web events that are pair interactions and restate no match rating."""
    from_matches = [i for match in match_history for i in match_interactions(match)]
    stated: dict[tuple[str, str, str, float], dt.datetime] = {}
    for rating in from_matches:
        if rating.event_type == RATING:
            key = (rating.exporter_id, rating.buyer_id, rating.actor, rating.weight)
            stated[key] = min(stated.get(key, rating.ts), rating.ts)
    from_web = [
        web
        for event in web_events
        if (web := web_interaction(event)) is not None and not _restates(web, stated)
    ]
    return from_matches + from_web


# ------------------------------------------------------------------------------ decay

SECONDS_PER_DAY = 86_400.0


def _check_half_life(half_life_days: float) -> None:
    # NaN fails the comparison too; an infinite half-life is no decay.
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days!r}")


def _moment(value: dt.datetime | dt.date) -> dt.datetime:
    """Datetimes as UTC (naive ones are UTC); a date is its midnight UTC."""
    if isinstance(value, dt.datetime):
        return _utc(value)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def decayed_weight(
    weight: float, ts: dt.datetime, as_of: dt.datetime | dt.date, half_life_days: float
) -> float:
    """`weight` * 2 ** (-age / half_life_days), age = as_of - ts in days (fractional).

    An event after `as_of` keeps its weight (age 0). Naive datetimes are UTC; an `as_of` date
    is its midnight UTC. A half-life of infinity is no decay; zero or less is a ValueError.
    """
    _check_half_life(half_life_days)
    age = (_moment(as_of) - _moment(ts)).total_seconds() / SECONDS_PER_DAY
    return float(weight) * math.pow(2.0, -max(age, 0.0) / half_life_days)


def _utc_datetime64(values: Any) -> np.ndarray:
    """Moments as naive UTC datetime64[us]: numpy datetimes are taken as UTC, aware values
    (datetimes, pandas timestamps) converted, naive ones taken as UTC; None is NaT."""
    import numpy as np

    if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[us]")
    if isinstance(values, np.datetime64):
        return np.asarray(values).astype("datetime64[us]")
    import pandas as pd

    if isinstance(values, dt.date | pd.Timestamp | str):
        values = [values]
    index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    out: np.ndarray = index.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return out


def decay_weights(
    weights: np.ndarray, ts: np.ndarray, as_of: Any, half_life_days: float
) -> np.ndarray:
    """`decayed_weight` over arrays: float64 weights, one per moment of `ts`.

    `ts`: numpy datetime64 (taken as UTC) or anything pandas reads as datetimes (aware ones
    converted to UTC, naive ones taken as UTC). `as_of`: one moment, read the same way (a date
    is its midnight UTC). A missing moment (NaT) gives NaN. Events after `as_of` keep their
    weight.
    """
    import numpy as np

    _check_half_life(half_life_days)
    w = np.asarray(weights, dtype=np.float64)
    moments = _utc_datetime64(ts)
    if moments.shape != w.shape:
        raise ValueError(f"weights {w.shape} and ts {moments.shape} differ in shape")
    now = _utc_datetime64(as_of).reshape(-1)
    if now.shape != (1,) or np.isnat(now[0]):
        raise ValueError(f"as_of must be one moment, got {as_of!r}")
    age = (now[0] - moments) / np.timedelta64(1, "D")  # float days; NaT gives NaN
    age = np.maximum(age, 0.0)  # NaN stays NaN
    out: np.ndarray = w * np.exp2(-age / half_life_days)
    return out


# ------------------------------------------------------------------------------ at scale

COLUMNS = ("exporter_id", "buyer_id", "actor", "event_type", "weight", "ts", "source",
           "event_id", "year")  # fmt: skip


def _seoul_year(ts: Column) -> Column:
    from pyspark.sql import functions as F

    # from_utc_timestamp shifts the instant to Seoul wall time as the session (UTC, see
    # etl.session) reads it.
    return F.year(F.from_utc_timestamp(ts, "Asia/Seoul"))


def _value_of(event_type: Column, rating: Column, values: Mapping[str, float]) -> Column:
    """`event_value` as a column: null where the event has no value."""
    from pyspark.sql import functions as F

    value = F.when(event_type == F.lit(RATING), F.when(rating.isin(*RATINGS), rating))
    for name, v in values.items():
        value = value.when(event_type == F.lit(name), F.lit(v))
    return value.cast("double")


def web_interactions_frame(web_events: DataFrame) -> DataFrame:
    """`web_interaction` over a curated web_events table: its pair interactions."""
    from pyspark.sql import functions as F

    actor, firm, target = F.col("actor_type"), F.col("actor_firm_id"), F.col("target_id")
    a_pair = F.lit(False)
    for side, (own, other) in PAIR_PREFIXES.items():
        a_pair = a_pair | ((actor == F.lit(side)) & firm.startswith(own) & target.startswith(other))
    weight = _value_of(F.col("event_type"), F.col("rating"), WEB_EVENT_VALUES)
    pairs = web_events.where(
        a_pair & F.col("event_type").isin(*WEB_EVENT_VALUES, RATING) & weight.isNotNull()
    )
    exporter_side = F.col("actor_type") == F.lit(Actor.EXPORTER.value)
    return pairs.select(
        F.when(exporter_side, firm).otherwise(target).alias("exporter_id"),
        F.when(exporter_side, target).otherwise(firm).alias("buyer_id"),
        actor.alias("actor"),
        F.col("event_type"),
        weight.alias("weight"),
        F.col("event_time").alias("ts"),
        F.lit(Source.WEB_EVENTS.value).alias("source"),
        F.col("event_id"),
        _seoul_year(F.col("event_time")).alias("year"),
    )


def match_interactions_frame(match_history: DataFrame) -> DataFrame:
    """`match_interactions` over a curated match_history table."""
    from pyspark.sql import functions as F

    day = F.col("requested_on")
    ts = F.make_timestamp(
        F.year(day), F.month(day), F.dayofmonth(day), F.lit(0), F.lit(0), F.lit(0),
        F.lit("Asia/Seoul"),
    )  # fmt: skip
    matches = match_history.select(
        "match_id", "exporter_id", "buyer_id", "requested_by", "meeting_held", "deal_closed",
        "exporter_rating", "buyer_rating", ts.alias("ts"),
    )  # fmt: skip
    no_rating = F.lit(None).cast("double")

    def event(
        actor: Column, event_type: str, when: Column, rating: Column, suffix: Column
    ) -> Column:
        weight = _value_of(F.lit(event_type), rating, MATCH_EVENT_VALUES)
        return F.when(
            when & weight.isNotNull(),
            F.struct(
                actor.alias("actor"),
                F.lit(event_type).alias("event_type"),
                weight.alias("weight"),
                F.concat(F.col("match_id"), F.lit(f".{event_type}"), suffix).alias("event_id"),
            ),
        )

    request = "meeting_request"
    candidates = [
        event(F.col("requested_by"), request, F.col("requested_by").isin(*ACTORS), no_rating,
              F.lit("")),
        *(
            event(F.lit(side.value), event_type, F.col(event_type) == F.lit(True), no_rating,
                  F.lit(f".{side.value}"))
            for event_type in MUTUAL
            for side in (Actor.EXPORTER, Actor.BUYER)
        ),
        *(
            event(F.lit(side.value), RATING, F.lit(True), F.col(f"{side.value}_rating"),
                  F.lit(f".{side.value}"))
            for side in (Actor.EXPORTER, Actor.BUYER)
        ),
    ]  # fmt: skip
    exploded = matches.select(
        "exporter_id", "buyer_id", "ts", F.explode(F.array(*candidates)).alias("e")
    ).where(F.col("e").isNotNull())
    return exploded.select(
        "exporter_id",
        "buyer_id",
        F.col("e.actor").alias("actor"),
        F.col("e.event_type").alias("event_type"),
        F.col("e.weight").alias("weight"),
        "ts",
        F.lit(Source.MATCH_HISTORY.value).alias("source"),
        F.col("e.event_id").alias("event_id"),
        _seoul_year(F.col("ts")).alias("year"),
    )


def without_restated_ratings(web: DataFrame, matches: DataFrame) -> DataFrame:
    """The web interactions less the ratings that repeat a match_history rating (`_restates`)."""
    from pyspark.sql import functions as F

    stated = (
        matches.where(F.col("event_type") == F.lit(RATING))
        .groupBy("exporter_id", "buyer_id", "actor", "weight")
        .agg(F.min("ts").alias("_first"))
    )
    keys = ["exporter_id", "buyer_id", "actor", "weight"]
    condition = [web[k] == stated[k] for k in keys] + [
        web["event_type"] == F.lit(RATING),
        stated["_first"] <= web["ts"],
    ]
    return web.join(stated, condition, "left_anti")


def interactions_frame(web_events: DataFrame, match_history: DataFrame) -> DataFrame:
    """`interactions` over the curated web_events and match_history tables.

    Returns the `interactions` contract's columns (not yet cast; see `tables.conform`).
    """
    matches = match_interactions_frame(match_history)
    web = without_restated_ratings(web_interactions_frame(web_events), matches)
    return matches.unionByName(web).select(*COLUMNS)
