"""The ground truth: the mechanisms that decide who keeps exporting and who matches whom.

These parameters are frozen (version `GROUND_TRUTH_VERSION`, documented in
docs/ground-truth.md). Model work evaluates against them and must never tune them: a model
that "improves" by changing the truth measures nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from exportintel.generate.firms import Buyers, Exporters

GROUND_TRUTH_VERSION = "2026.1"


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
    }
