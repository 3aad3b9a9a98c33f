"""The ground truth: the mechanisms that decide who keeps exporting, where, and who matches
whom.

These parameters are frozen (version `GROUND_TRUTH_VERSION`, documented in
docs/ground-truth.md). Model work evaluates against them and must never tune them: a model
that "improves" by changing the truth measures nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from exportintel.generate.common import (
    LAST_YEAR,
    MARKET_YEARS,
    rng_for,
    sigmoid,
    year_index,
)
from exportintel.generate.firms import NEVER, Buyers, Exporters
from exportintel.generate.markets import Markets, covered_currencies, pay_currency
from exportintel.reference.countries import PARTNERS

GROUND_TRUTH_VERSION = "2026.2"


@dataclass(frozen=True)
class Term:
    """One term of the continuation logit: coefficient x (feature - centre)."""

    feature: str
    coefficient: float
    centre: float
    definition: str


# Firm features are the firm's figures of year t-1 (the latest annual report when year t
# starts); external features are the changes of year t-1 over year t-2 and the crisis level
# of year t-1, weighted over the firm's destination countries.
CONTINUATION_TERMS: tuple[Term, ...] = (
    Term("target_language_staff", 0.45, 0.7, "log(1 + target_language_staff)"),
    Term("overseas_marketing_staff", 0.35, 0.8, "log(1 + overseas_marketing_staff)"),
    Term("exhibitions", 0.30, 0.5, "log(1 + exhibitions)"),
    Term("certifications", 0.25, 1.0, "log(1 + certifications)"),
    Term("firm_age", 0.30, 2.7, "log(1 + firm age in years)"),
    Term("net_income", 0.20, 1.0, "asinh(net_income_krw_mn / 100)"),
    Term("employees", 0.20, 3.0, "log(employees)"),
    Term("revenue_growth", 0.60, 0.05, "clip(revenue_growth_pct / 100, -1, 1), 0 if unknown"),
    Term("fx_change", 3.0, 0.0,
         "log change of the yearly mean KRW per unit of the destinations' payment currencies "
         "(positive: KRW weakened), weights 1/rank of the destination"),
    Term("oil_change", -0.8, 0.0, "log change of the yearly mean Brent price"),
    Term("raw_material_change", -0.8, 0.0,
         "log change of the yearly mean price of the sector's raw material"),
    Term("crisis_level", -0.35, 0.3, "mean travel-advisory level (0-4) of the destinations"),
    Term("credit_grade", -0.20, 4.0, "credit grade index, 0 AAA .. 9 D"),
    Term("trade_change", 1.0, 0.03,
         "log change of Korea's exports to the destinations in the firm's main HS chapter"),
    Term("exported_last_year", 2.9, 0.0, "1 if the firm exported in year t-1"),
)  # fmt: skip
CONTINUATION_INTERCEPT = -1.0
FIRM_EFFECT_SD = 0.6  # persistent per-firm part nobody observes
NOISE_SD = 0.5  # per firm-year part nobody observes
# Exporters that had exported before 2016 did so in 2015 with this probability (burn-in).
EXPORTED_BEFORE_HISTORY = 0.85


def continuation_logit(features: dict[str, np.ndarray]) -> np.ndarray:
    """The observable part of the logit of exporting in year t, having exported before."""
    z = np.full_like(features["firm_age"], CONTINUATION_INTERCEPT, dtype=float)
    for term in CONTINUATION_TERMS:
        z = z + term.coefficient * (features[term.feature] - term.centre)
    return z


@dataclass(frozen=True)
class Matching:
    """Exporter-buyer affinity a(i, j, t), and how events and outcomes follow from it."""

    hs_overlap: tuple[float, float, float, float] = (0.0, 1.0, 1.8, 2.5)  # none/HS2/HS4/HS6
    price_overlap: float = 1.0  # share of the buyer's log price range the exporter covers
    volume_fit: float = 0.6  # 1 + clip(log(capacity / desired volume), -3, 0) / 3
    buyer_currency_change: float = 5.0  # log change of KRW per unit of the buyer's currency
    exporter_quality: float = 0.4  # capability + 0.5 (log(1 + age) - 2.5) / 0.8
    buyer_size: float = 0.3  # (log revenue - log 20e6) / 1.5
    taste: float = 1.0  # u_i . v_j, latent tastes of three dimensions, sd 0.7 each
    centre: float = 4.0  # subtracted: a same-HS6, fitting pair is near 0, unrelated pairs near -5
    # Events: a user picks among the profiles shown with probability softmax(a); then
    save_offset: float = -2.0  # P(save | view) = sigmoid(a + save_offset)
    inquiry_offset: float = -3.2  # P(inquiry | view) = sigmoid(a + inquiry_offset)
    # Matchmaking outcomes
    meeting_offset: float = 0.5  # P(meeting held) = sigmoid(meeting_offset + meeting_slope a)
    meeting_slope: float = 0.8
    deal_offset: float = -1.0  # P(deal | meeting) = sigmoid(deal_offset + deal_slope a + bad)
    deal_slope: float = 1.0
    bad_credit_deal: float = -1.0
    rating_slope: float = 0.6  # rating = nearest step of slope a + bias + N(0, noise)
    rating_bias: float = 0.25
    rating_noise: float = 0.6
    bad_credit_rating: float = -0.6  # exporters rate bad-credit buyers lower
    fair_request_offset: float = -1.0  # P(meeting requested | booth visit) = sigmoid(a + .)


MATCHING = Matching()


def hs_overlap_level(exporter_hs6: np.ndarray, buyer_hs6: np.ndarray) -> np.ndarray:
    """0 none, 1 same HS chapter, 2 same HS4, 3 same HS6, over all code pairs of two firms."""
    a = exporter_hs6[:, :, None]
    b = buyer_hs6[:, None, :]
    valid = (a >= 0) & (b >= 0)
    level = np.zeros(len(exporter_hs6), dtype=np.int64)
    for value, divisor in ((1, 10_000), (2, 100), (3, 1)):
        same = ((a // divisor == b // divisor) & valid).any(axis=(1, 2))
        level[same] = value
    return level


def price_overlap(
    lo_e: np.ndarray, hi_e: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray
) -> np.ndarray:
    """Share of the buyer's log price range that the exporter's range covers."""
    covered = np.minimum(np.log(hi_e), np.log(hi_b)) - np.maximum(np.log(lo_e), np.log(lo_b))
    out: np.ndarray = np.clip(covered / np.log(hi_b / lo_b), 0.0, 1.0)
    return out


def volume_fit(capacity: np.ndarray, volume: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 + np.clip(np.log(capacity / volume), -3.0, 0.0) / 3.0
    return out


@dataclass(frozen=True)
class Affinity:
    """Computes a(i, j, t) for arrays of exporter, buyer and market-year indices."""

    exporters: Exporters
    buyers: Buyers
    buyer_currency: np.ndarray  # per buyer, row of `fx_move`
    fx_move: np.ndarray  # (currency, market year): log change of KRW per unit of currency
    exporter_quality: np.ndarray
    buyer_size: np.ndarray

    def __call__(
        self, e: np.ndarray, b: np.ndarray, year: np.ndarray, with_taste: bool = True
    ) -> np.ndarray:
        # In blocks: the HS comparison makes 20 pairs of codes per firm pair.
        block = 500_000
        if len(e) > block:
            parts = [
                self(e[i : i + block], b[i : i + block], year[i : i + block], with_taste)
                for i in range(0, len(e), block)
            ]
            return np.concatenate(parts)
        ex, by, m = self.exporters, self.buyers, MATCHING
        level = hs_overlap_level(ex.hs6[e], by.hs6[b])
        a = (
            np.asarray(m.hs_overlap)[level]
            + m.price_overlap
            * price_overlap(ex.price_lo[e], ex.price_hi[e], by.price_lo[b], by.price_hi[b])
            + m.volume_fit * volume_fit(ex.capacity[e], by.volume[b])
            + m.buyer_currency_change * self.fx_move[self.buyer_currency[b], year]
            + m.exporter_quality * self.exporter_quality[e]
            + m.buyer_size * self.buyer_size[b]
            - m.centre
        )  # fmt: skip
        if with_taste:
            a = a + m.taste * np.einsum("ij,ij->i", ex.taste[e], by.taste[b])
        out: np.ndarray = a
        return out

    def exporter_appeal(self, e: np.ndarray) -> np.ndarray:
        """What an anonymous visitor or staff member responds to: the exporter side only."""
        out: np.ndarray = MATCHING.exporter_quality * self.exporter_quality[e]
        return out

    def buyer_appeal(self, b: np.ndarray) -> np.ndarray:
        out: np.ndarray = MATCHING.buyer_size * self.buyer_size[b]
        return out


@dataclass(frozen=True)
class MarketEntry:
    """Which countries an exporter enters, and how surely it keeps serving them.

    A firm enters its destinations one a year from its first export on, each time picking,
    among the countries it does not serve yet, the one of highest utility: the coefficients
    below times the evidence of the year before entry, plus a latent affinity of its main HS
    chapter to the country, plus Gumbel noise (a multinomial logit).
    """

    demand: float = 0.9  # log of Korea's exports of the firm's main chapter to the country
    growth: float = 1.0  # yearly log growth of those exports over the two previous years
    fx: float = 4.0  # log change of KRW per unit of the country's payment currency
    crisis: float = -0.9  # mean travel-advisory level (0-4) of the country over the year
    buyers: float = 0.5  # log(1 + buyers of the country in the database wanting the chapter)
    affinity_sd: float = 0.8  # latent (chapter, country) affinity nobody observes
    keep_base: float = 0.65  # yearly probability of serving a reachable destination, at
    keep_affinity: float = 1.0  # affinity 0, moved by this much affinity on the logit scale


MARKET_ENTRY = MarketEntry()
ENTRY_TERMS = ("demand", "growth", "fx", "crisis", "buyers")


def market_affinity(seed: int, markets: Markets) -> np.ndarray:
    """The latent affinity of each HS chapter (rows, `markets.trade_chapters`) to each partner."""
    rng = rng_for(seed, "market_affinity")
    shape = (len(markets.trade_chapters), len(PARTNERS))
    out: np.ndarray = rng.normal(0.0, MARKET_ENTRY.affinity_sd, shape)
    return out


def keep_probability(affinity: np.ndarray) -> np.ndarray:
    """Yearly probability that an exporting firm serves a destination it has already reached."""
    base = np.log(MARKET_ENTRY.keep_base / (1.0 - MARKET_ENTRY.keep_base))
    return sigmoid(base + MARKET_ENTRY.keep_affinity * affinity)


def chapter_positions(markets: Markets, chapters: np.ndarray) -> np.ndarray:
    """Positions of HS chapters in `markets.trade_chapters`."""
    lookup = np.full(100, -1, dtype=np.int64)
    lookup[markets.trade_chapters] = np.arange(len(markets.trade_chapters))
    out: np.ndarray = lookup[chapters]
    if (out < 0).any():
        raise ValueError(f"HS chapters without trade figures: {sorted(set(chapters[out < 0]))}")
    return out


def entry_start(exporters: Exporters) -> np.ndarray:
    """Year of the first entry: the first export, or the year after the history if none yet."""
    out: np.ndarray = np.where(
        exporters.first_export == NEVER, LAST_YEAR + 1, exporters.first_export
    )
    return out


@dataclass(frozen=True)
class EntryEvidence:
    """The observable evidence on every partner country, laid out for fast look-ups."""

    log_exports: np.ndarray  # (chapter, trade year, partner)
    fx: np.ndarray  # (market year, partner): fx move of the partner's payment currency
    crisis: np.ndarray  # (market year, partner)
    buyers: np.ndarray  # (chapter, market year, partner): buyers joined by then

    @classmethod
    def build(cls, buyers: Buyers, markets: Markets) -> EntryEvidence:
        covered = covered_currencies(markets)
        currency = markets.currency_index([pay_currency(p.currency, covered) for p in PARTNERS])
        risk = markets.risk_index([p.code for p in PARTNERS])
        # Each buyer counts once per chapter it wants, in the year it joined and every later one.
        chapters = len(markets.trade_chapters)
        slot = buyers.hs6 >= 0
        buyer = np.broadcast_to(np.arange(buyers.n)[:, None], buyers.hs6.shape)[slot]
        chapter = chapter_positions(markets, buyers.hs6[slot] // 10_000)
        pairs = np.unique(buyer * chapters + chapter)
        buyer, chapter = pairs // chapters, pairs % chapters
        joined = np.clip(year_index(buyers.joined[buyer]), 0, len(MARKET_YEARS) - 1)
        cell = (chapter * len(MARKET_YEARS) + joined) * len(PARTNERS) + buyers.country[buyer]
        counts = np.bincount(cell, minlength=chapters * len(MARKET_YEARS) * len(PARTNERS))
        counts = counts.reshape(chapters, len(MARKET_YEARS), len(PARTNERS)).cumsum(axis=1)
        return cls(
            log_exports=np.moveaxis(np.log(markets.korea_exports), 0, -1),
            fx=markets.fx_move[currency].T,
            crisis=markets.crisis[risk].T,
            buyers=counts,
        )

    def features(self, chapter: np.ndarray, year: np.ndarray) -> dict[str, np.ndarray]:
        """Per firm (main chapter position, market year) and partner: the evidence values."""
        trade_years = self.log_exports.shape[1]  # up to LAST_YEAR
        trade_year = np.clip(year - (LAST_YEAR - trade_years + 1), 0, trade_years - 1)
        market_year = np.clip(year_index(year), 0, len(MARKET_YEARS) - 1)
        demand = self.log_exports[chapter, trade_year]
        before = self.log_exports[chapter, np.maximum(trade_year - 2, 0)]
        growth = np.where((trade_year >= 2)[:, None], (demand - before) / 2.0, 0.0)
        return {
            "demand": demand,
            "growth": growth,
            "fx": self.fx[market_year],
            "crisis": self.crisis[market_year],
            "buyers": np.log1p(self.buyers[chapter, market_year]),
        }


def entry_utility(features: dict[str, np.ndarray]) -> np.ndarray:
    """The observable part of a country's utility: coefficients times evidence."""
    terms = [getattr(MARKET_ENTRY, name) * features[name] for name in ENTRY_TERMS]
    out: np.ndarray = np.sum(terms, axis=0)
    return out


@dataclass(frozen=True)
class EntryChoices:
    """Per firm and destination slot (rank 0 = main destination, -1 padded): what was chosen
    and the draws behind it."""

    destinations: np.ndarray
    market_year: np.ndarray  # the year whose evidence the choice saw (entry year - 1)
    features: dict[str, np.ndarray]  # evidence values of the chosen country
    utility: np.ndarray  # observable part of its utility
    affinity: np.ndarray
    noise: np.ndarray


ENTRY_BLOCK = 10_000  # firms chosen at a time: bounds the (firm, partner) arrays' memory


def market_entry(seed: int, exporters: Exporters, buyers: Buyers, markets: Markets) -> EntryChoices:
    """Chooses every exporter's destinations rank by rank; each firm keeps its count of them."""
    evidence = EntryEvidence.build(buyers, markets)
    chapter = chapter_positions(markets, exporters.main_chapter)
    alpha = market_affinity(seed, markets)
    count = (exporters.destinations >= 0).sum(axis=1)
    start = entry_start(exporters)
    n, slots = exporters.destinations.shape
    destinations = np.full((n, slots), -1, dtype=np.int64)
    market_year = start[:, None] + np.arange(slots)[None, :] - 1
    features: dict[str, np.ndarray] = {name: np.zeros((n, slots)) for name in ENTRY_TERMS}
    utility, affinity, noise = (np.zeros((n, slots)) for _ in range(3))
    for block, first in enumerate(range(0, n, ENTRY_BLOCK)):
        rows = slice(first, first + ENTRY_BLOCK)
        rng = rng_for(seed, "market_entry", block)
        within = np.arange(len(chapter[rows]))
        taken = np.zeros((len(within), len(PARTNERS)), dtype=bool)
        chapter_affinity = alpha[chapter[rows]]  # (firm, partner)
        for r in range(slots):
            evidence_now = evidence.features(chapter[rows], market_year[rows, r])
            observable = entry_utility(evidence_now)
            gumbel = rng.gumbel(size=taken.shape)
            pick = np.argmax(
                np.where(taken, -np.inf, observable + chapter_affinity + gumbel), axis=1
            )
            active = r < count[rows]
            destinations[rows, r] = np.where(active, pick, -1)
            taken[within[active], pick[active]] = True
            for name in ENTRY_TERMS:
                features[name][rows, r] = evidence_now[name][within, pick]
            utility[rows, r] = observable[within, pick]
            affinity[rows, r] = chapter_affinity[within, pick]
            noise[rows, r] = gumbel[within, pick]
    return EntryChoices(destinations, market_year, features, utility, affinity, noise)


def choose_destinations(
    seed: int, exporters: Exporters, buyers: Buyers, markets: Markets
) -> np.ndarray:
    """Every exporter's destination countries by rank (partner indices, -1 padded)."""
    return market_entry(seed, exporters, buyers, markets).destinations


def parameters() -> dict[str, object]:
    """Every frozen parameter, as written to ground_truth/parameters.json."""
    return {
        "version": GROUND_TRUTH_VERSION,
        "documentation": "docs/ground-truth.md",
        "continuation": {
            "intercept": CONTINUATION_INTERCEPT,
            "terms": [asdict(t) for t in CONTINUATION_TERMS],
            "firm_effect_sd": FIRM_EFFECT_SD,
            "noise_sd": NOISE_SD,
            "exported_before_history": EXPORTED_BEFORE_HISTORY,
        },
        "matching": asdict(MATCHING),
        "market_entry": asdict(MARKET_ENTRY),
    }
