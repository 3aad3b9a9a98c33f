"""Who meets whom: fairs, booth visits and matchmakings, all driven by the same affinity.

Choices follow one pattern everywhere: the site (or the fair floor, or the matchmaker) shows a
handful of candidates, mostly of the chooser's HS chapter and weighted by exposure, and the
chooser picks with probability softmax(affinity) among them (the Gumbel-max trick).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportintel.generate import people
from exportintel.generate.common import (
    HISTORY_END,
    HISTORY_START,
    YEARS,
    rng_for,
    sigmoid,
    year_index,
)
from exportintel.generate.firms import Buyers, Exporters
from exportintel.generate.panel import PANEL_YEARS, Panel
from exportintel.generate.products import PRODUCTS
from exportintel.generate.truth import MATCHING, Affinity
from exportintel.generate.writer import iso_dates
from exportintel.reference.countries import PARTNERS, country_name

FAIR_DAYS = 3
CANDIDATES = 12  # profiles shown per choice
SAME_CHAPTER_SHARE = 0.8  # of the candidates shown, from the chooser's chapter
CHANNELS = ("fair", "online", "office")
REQUESTERS = ("exporter", "buyer", "agency")
AGENCY_SHARPNESS = 2.0  # matchmakers pick the best content fit more surely than users do


@dataclass(frozen=True)
class Fair:
    fair_id: str
    start: dt.date
    year: int

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=d) for d in range(FAIR_DAYS)]

    @property
    def mode(self) -> str:
        """Offline until 2019, online in the pandemic years, hybrid since."""
        return "offline" if self.year < 2020 else "online" if self.year < 2022 else "hybrid"


def fairs() -> list[Fair]:
    """Two consumer-goods fairs a year, Tuesday to Thursday, in May and October."""
    out = []
    for year in YEARS:
        for season, month, day in (("S", 5, 12), ("A", 10, 20)):
            start = dt.date(year, month, day)
            start += dt.timedelta(days=(1 - start.weekday()) % 7)  # next Tuesday
            out.append(Fair(f"KCGF-{year}-{season}", start, year))
    return out


def history_days() -> np.ndarray:
    return np.arange(
        np.datetime64(HISTORY_START), np.datetime64(HISTORY_END) + 1, dtype="datetime64[D]"
    )


def day_weights(days: np.ndarray, fair_list: list[Fair]) -> np.ndarray:
    """Site traffic by day: growing 22% a year, quieter at weekends, five times on fair days."""
    years = days.astype("datetime64[Y]").astype(int) + 1970
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    weight = 1.22 ** (years - YEARS[0]) * np.where(weekday < 5, 1.0, 0.5)
    fair_days = np.array([d for f in fair_list for d in f.days], dtype="datetime64[D]")
    out: np.ndarray = weight * np.where(np.isin(days, fair_days), 5.0, 1.0)
    return out


class Pool:
    """Firms listed by HS chapter, to draw who is shown in proportion to exposure weights.

    Members of one chapter are stored by firm index, which is the order of joining, so the
    members known by a year are a prefix of the chapter's range.
    """

    def __init__(self, hs6: np.ndarray, weights: np.ndarray, joined: np.ndarray) -> None:
        chapters = np.where(hs6 >= 0, hs6 // 10_000, -1)
        firm = np.repeat(np.arange(len(hs6))[:, None], hs6.shape[1], axis=1)
        keep = chapters >= 0
        keep[:, 1:] &= chapters[:, 1:] != chapters[:, :1]  # a chapter once per firm
        for k in range(2, hs6.shape[1]):
            keep[:, k] &= (chapters[:, k : k + 1] != chapters[:, 1:k]).all(axis=1)
        chapter, member = chapters[keep], firm[keep]
        order = np.lexsort((member, chapter))
        self.member, chapter = member[order], chapter[order]
        self.cum = np.cumsum(weights[self.member])
        self.start = np.searchsorted(chapter, np.arange(100))
        member_joined = joined[self.member]
        self.count = np.stack(
            [np.bincount(chapter[member_joined <= y], minlength=100) for y in YEARS], axis=1
        )
        self.all_cum = np.cumsum(weights)
        self.known = np.searchsorted(np.sort(joined), np.array(YEARS), side="right")

    def any(self, rng: np.random.Generator, year: np.ndarray) -> np.ndarray:
        """Firms known in each year (index into `YEARS`), weighted."""
        top = self.all_cum[np.maximum(self.known[year] - 1, 0)]
        out: np.ndarray = np.searchsorted(self.all_cum, rng.random(len(year)) * top, side="right")
        return np.minimum(out, self.known[year] - 1)

    def in_chapter(
        self, rng: np.random.Generator, chapter: np.ndarray, year: np.ndarray
    ) -> np.ndarray:
        """Weighted draws among the chapter's known firms; any known firm if there are none."""
        start, count = self.start[chapter], self.count[chapter, year]
        base = np.where(start > 0, self.cum[np.maximum(start - 1, 0)], 0.0)
        top = self.cum[np.maximum(start + count - 1, 0)]
        u = base + rng.random(len(chapter)) * (top - base)
        position = np.clip(np.searchsorted(self.cum, u, side="right"), start, start + count - 1)
        found = self.member[np.maximum(position, 0)]
        return np.where(count > 0, found, self.any(rng, year))

    def shown(
        self, rng: np.random.Generator, chapter: np.ndarray, year: np.ndarray, k: int = CANDIDATES
    ) -> np.ndarray:
        """(m, k) candidates: mostly of the chapter, the rest from anywhere."""
        m = len(chapter)
        same = self.in_chapter(rng, np.repeat(chapter, k), np.repeat(year, k)).reshape(m, k)
        other = self.any(rng, np.repeat(year, k)).reshape(m, k)
        out: np.ndarray = np.where(rng.random((m, k)) < SAME_CHAPTER_SHARE, same, other)
        return out


def choose(rng: np.random.Generator, scores: np.ndarray, k: int = 1) -> np.ndarray:
    """Column indices of k distinct picks per row with probability softmax(scores)."""
    keys = scores + rng.gumbel(size=scores.shape)
    out: np.ndarray = np.argsort(-keys, axis=1, kind="stable")[:, :k]
    return out


def duplicate_mask(candidates: np.ndarray) -> np.ndarray:
    """True where a candidate already appeared earlier in its row (shown once only)."""
    dup = np.zeros(candidates.shape, dtype=bool)
    for j in range(1, candidates.shape[1]):
        dup[:, j] = (candidates[:, j : j + 1] == candidates[:, :j]).any(axis=1)
    return dup


@dataclass
class Matches:
    exporter: np.ndarray
    buyer: np.ndarray
    day: np.ndarray  # datetime64[D]
    channel: np.ndarray  # index into CHANNELS
    requester: np.ndarray  # index into REQUESTERS


@dataclass(frozen=True)
class FairFloor:
    """One fair's exhibitors and booth visits, kept as arrays until written."""

    fair: Fair
    exhibitors: np.ndarray  # exporter indices; booth b (from 1) belongs to exhibitors[b - 1]
    exhibitor_online: np.ndarray
    visitors: np.ndarray  # buyer index per visit
    stands: np.ndarray  # position in `exhibitors` of the booth visited
    days: np.ndarray
    visitor_online: np.ndarray

    def columns(self, exporters: Exporters, buyers: Buyers) -> dict[str, list[Any]]:
        """fair_participation rows: the exhibitors on the first day, then the visits."""
        fair_id, count, visits = self.fair.fair_id, len(self.exhibitors), len(self.visitors)
        booth = [f"{fair_id}-B{b:04d}" for b in range(1, count + 1)]
        return {
            "participation_id": [f"{fair_id}-P{i:06d}" for i in range(1, count + visits + 1)],
            "fair_id": [fair_id] * (count + visits),
            "fair_date": [self.fair.start.isoformat()] * count + iso_dates(self.days),
            "firm_id": [exporters.ids[i] for i in self.exhibitors.tolist()]
            + [buyers.ids[i] for i in self.visitors.tolist()],
            "role": ["exhibitor"] * count + ["visitor"] * visits,
            "booth_id": booth + [booth[s] for s in self.stands.tolist()],
            "online": self.exhibitor_online.tolist() + self.visitor_online.tolist(),
        }


@dataclass
class FairResult:
    floors: list[FairFloor]
    requests: Matches


def fair_participation(
    seed: int,
    exporters: Exporters,
    buyers: Buyers,
    panel: Panel,
    affinity: Affinity,
    fair_list: list[Fair],
) -> FairResult:
    """Exhibitors, booth visits, and the meetings visitors request at the booths."""
    floors: list[FairFloor] = []
    requests: list[Matches] = []
    for fair in fair_list:
        rng = rng_for(seed, "fair", fair.fair_id)
        y = fair.year - YEARS[0]
        k = int(np.flatnonzero(fair.year == PANEL_YEARS)[0])
        growth = 0.8 + 0.04 * y
        eligible = np.flatnonzero(
            (exporters.joined <= fair.year) & (panel.exported[:, k] | panel.exported[:, k - 1])
        )
        count = min(len(eligible), max(1, round(0.05 * exporters.n * growth)))
        if count == 0:
            continue
        picked = np.sort(
            eligible[choose(rng, 0.8 * exporters.capability[eligible][None, :], count)[0]]
        )
        exhibitor_online = _online(rng, fair, count, 0.5)
        known_buyers = int(np.searchsorted(buyers.joined, fair.year, side="right"))
        visitors_n = min(known_buyers, max(1, round(0.03 * buyers.n * growth)))
        visitors = np.sort(
            choose(rng, np.log(buyers.activity[:known_buyers])[None, :], visitors_n)[0]
        )
        floor = Pool(exporters.hs6[picked], exporters.popularity[picked], np.zeros(count))
        shown = floor.shown(rng, buyers.main_chapter[visitors], np.full(visitors_n, len(YEARS) - 1))
        scores = affinity(
            picked[shown].ravel(),
            np.repeat(visitors, CANDIDATES),
            np.full(shown.size, year_index(np.array(fair.year))),
        ).reshape(shown.shape)
        scores[duplicate_mask(shown)] = -np.inf
        visits_per = np.minimum(1 + rng.poisson(1.5, visitors_n), 6)
        top = choose(rng, scores, 6)
        take = np.arange(6)[None, :] < visits_per[:, None]
        visitor = np.repeat(visitors, 6).reshape(-1, 6)[take]
        stand = np.take_along_axis(shown, top, axis=1)[take]
        score = np.take_along_axis(scores, top, axis=1)[take]
        ok = np.isfinite(score)
        visitor, stand, score = visitor[ok], stand[ok], score[ok]
        day = np.datetime64(fair.start) + rng.integers(0, FAIR_DAYS, len(visitor))
        visitor_online = _online(rng, fair, len(visitor), 0.6)
        floors.append(
            FairFloor(fair, picked, exhibitor_online, visitor, stand, day, visitor_online)
        )
        asked = rng.random(len(visitor)) < sigmoid(score + MATCHING.fair_request_offset)
        requests.append(
            Matches(
                exporter=picked[stand[asked]],
                buyer=visitor[asked],
                day=day[asked],
                channel=np.zeros(int(asked.sum()), dtype=np.int64),
                requester=rng.choice(3, size=int(asked.sum()), p=[0.2, 0.7, 0.1]),
            )
        )
    return FairResult(floors, _concat(requests))


def _online(rng: np.random.Generator, fair: Fair, n: int, hybrid_share: float) -> np.ndarray:
    if fair.mode == "hybrid":
        out: np.ndarray = rng.random(n) < hybrid_share
        return out
    return np.full(n, fair.mode == "online")


def _concat(parts: list[Matches]) -> Matches:
    return Matches(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Matches.__dataclass_fields__)
    )


def matchmakings(
    seed: int,
    exporters: Exporters,
    buyers: Buyers,
    affinity: Affinity,
    fair_list: list[Fair],
    fair_requests: Matches,
) -> Matches:
    """Online requests (either side) and the agency's office matchmakings, plus fair requests."""
    rng = rng_for(seed, "matchmaking")
    days = history_days()
    weights = day_weights(days, fair_list)
    exporter_pool = Pool(exporters.hs6, exporters.popularity, exporters.joined)
    buyer_pool = Pool(buyers.hs6, buyers.visibility, buyers.joined)
    activity_e = Pool(exporters.hs6, exporters.activity, exporters.joined)
    activity_b = Pool(buyers.hs6, buyers.activity, buyers.joined)
    anyone_e = Pool(exporters.hs6, np.ones(exporters.n), exporters.joined)
    parts = [fair_requests]
    for channel, per_exporter in (("online", 2.5), ("office", 1.5)):
        n = round(per_exporter * exporters.n)
        day = np.sort(rng.choice(days, size=n, p=weights / weights.sum()))
        calendar_year = day.astype("datetime64[Y]").astype(int) + 1970
        year = calendar_year - YEARS[0]
        buyer_side = (rng.random(n) < 0.55) if channel == "online" else np.zeros(n, dtype=bool)
        exporter = np.zeros(n, dtype=np.int64)
        buyer = np.zeros(n, dtype=np.int64)
        # Buyers looking for exporters
        idx = np.flatnonzero(buyer_side)
        if len(idx):
            b = activity_b.any(rng, year[idx])
            shown = exporter_pool.shown(rng, buyers.main_chapter[b], year[idx])
            market_year = year_index(np.repeat(calendar_year[idx], CANDIDATES))
            scores = affinity(shown.ravel(), np.repeat(b, CANDIDATES), market_year)
            pick = choose(rng, scores.reshape(shown.shape))[:, 0]
            exporter[idx], buyer[idx] = shown[np.arange(len(idx)), pick], b
        # Exporters looking for buyers; the agency proposes on content only, never bad credit
        idx = np.flatnonzero(~buyer_side)
        if len(idx):
            chooser = activity_e if channel == "online" else anyone_e
            e = chooser.any(rng, year[idx])
            shown = buyer_pool.shown(rng, exporters.main_chapter[e], year[idx])
            market_year = year_index(np.repeat(calendar_year[idx], CANDIDATES))
            scores = affinity(
                np.repeat(e, CANDIDATES), shown.ravel(), market_year, with_taste=channel == "online"
            ).reshape(shown.shape)
            if channel == "office":
                scores = np.where(buyers.bad_credit[shown], -np.inf, AGENCY_SHARPNESS * scores)
            pick = choose(rng, scores)[:, 0]
            exporter[idx], buyer[idx] = e, shown[np.arange(len(idx)), pick]
        requester = np.where(buyer_side, 1, 0 if channel == "online" else 2)
        parts.append(Matches(exporter, buyer, day, np.full(n, CHANNELS.index(channel)), requester))
    matches = _concat(parts)
    order = np.lexsort((matches.buyer, matches.exporter, matches.channel, matches.day))
    return Matches(*(getattr(matches, f)[order] for f in Matches.__dataclass_fields__))


@dataclass
class Outcomes:
    meeting: np.ndarray
    deal: np.ndarray
    value: np.ndarray  # NaN without a deal
    exporter_rating: np.ndarray  # NaN when not rated
    buyer_rating: np.ndarray
    affinity: np.ndarray


_RATING_STEPS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])


def outcomes(seed: int, matches: Matches, buyers: Buyers, affinity: Affinity) -> Outcomes:
    """Meeting, deal, value and both sides' ratings, from the pair's affinity."""
    rng = rng_for(seed, "match_outcomes")
    m = MATCHING
    n = len(matches.exporter)
    year = year_index(matches.day.astype("datetime64[Y]").astype(int) + 1970)
    a = affinity(matches.exporter, matches.buyer, year)
    bad = buyers.bad_credit[matches.buyer]
    meeting = rng.random(n) < sigmoid(m.meeting_offset + m.meeting_slope * a)
    deal = meeting & (
        rng.random(n) < sigmoid(m.deal_offset + m.deal_slope * a + m.bad_credit_deal * bad)
    )
    size = affinity.buyer_size[matches.buyer]
    value = np.where(
        deal, np.round(np.exp(rng.normal(np.log(40_000) + 0.4 * size + 0.2 * a, 1.0)), 2), np.nan
    )

    def rating(extra: np.ndarray) -> np.ndarray:
        raw = m.rating_slope * a + m.rating_bias + extra + rng.normal(0.0, m.rating_noise, n)
        step = _RATING_STEPS[np.abs(raw[:, None] - _RATING_STEPS[None, :]).argmin(axis=1)]
        rated = meeting & (rng.random(n) < 0.75)
        return np.where(rated, step, np.nan)

    exporter_rating = rating(m.bad_credit_rating * bad)
    buyer_rating = rating(0.3 * affinity.exporter_quality[matches.exporter])
    return Outcomes(meeting, deal, value, exporter_rating, buyer_rating, a)


_NOTES = (
    "Buyer asked for samples of {product}; follow up in two weeks.",
    "Price gap too large on {product}; exporter to revise the quote.",
    "Meeting moved online at the buyer's request.",
    "Good fit: buyer sources {product} for the {country} market.",
    "Buyer needs {cert} certification before ordering {product}.",
    "Interpreter arranged; buyer prefers English documents.",
)
_PII_NOTES = (
    "Buyer contact asked to be called back on {phone}.",
    "Send the {product} catalogue to {email} before Friday.",
)
_CERTS = ("FDA", "CE", "HALAL", "ISO 22000", "KC", "GMP")


def match_chunks(
    seed: int, matches: Matches, result: Outcomes, exporters: Exporters, buyers: Buyers
) -> Iterator[dict[str, list[Any]]]:
    """match_history rows, in order of request date."""
    exporter_ids = np.array(exporters.ids, dtype=object)
    buyer_ids = np.array(buyers.ids, dtype=object)
    step = 200_000
    for c, start in enumerate(range(0, len(matches.exporter), step)):
        s = slice(start, start + step)
        rng = rng_for(seed, "match_notes", c)
        yield {
            "match_id": [f"M{i:08d}" for i in range(start + 1, start + 1 + len(matches.day[s]))],
            "exporter_id": exporter_ids[matches.exporter[s]].tolist(),
            "buyer_id": buyer_ids[matches.buyer[s]].tolist(),
            "requested_by": np.array(REQUESTERS, dtype=object)[matches.requester[s]].tolist(),
            "channel": np.array(CHANNELS, dtype=object)[matches.channel[s]].tolist(),
            "requested_on": iso_dates(matches.day[s]),
            "meeting_held": result.meeting[s].tolist(),
            "deal_closed": result.deal[s].tolist(),
            "deal_value_usd": _nullable(result.value[s]),
            "exporter_rating": _nullable(result.exporter_rating[s]),
            "buyer_rating": _nullable(result.buyer_rating[s]),
            "officer_note": _notes(
                rng, exporters.products[matches.exporter[s], 0], buyers.country[matches.buyer[s]]
            ),
        }


def _notes(rng: np.random.Generator, product: np.ndarray, country: np.ndarray) -> list[str | None]:
    """Matchmakers' notes: about half the matches have one; a few carry contact details."""
    n = len(product)
    kind = rng.random(n).tolist()
    picks = rng.integers(0, 1_000_000, size=(n, 2)).tolist()
    notes: list[str | None] = []
    for i in range(n):
        if kind[i] < 0.45:
            notes.append(None)
            continue
        name = PRODUCTS[int(product[i])].names[0].lower()
        if kind[i] > 0.97:  # a matchmaker typed contact details into the note
            template = _PII_NOTES[picks[i][0] % len(_PII_NOTES)]
            notes.append(template.format(
                phone=people.random_phone(rng), email=people.random_email(rng), product=name
            ))  # fmt: skip
        else:
            template = _NOTES[picks[i][0] % len(_NOTES)]
            notes.append(template.format(
                product=name, country=country_name(PARTNERS[int(country[i])].code),
                cert=_CERTS[picks[i][1] % len(_CERTS)],
            ))  # fmt: skip
    return notes


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else v for v in values.tolist()]
