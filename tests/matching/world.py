"""A small synthetic matching world whose mechanism the tests know.

Exporters sell HS6 codes of six chapters, buyers want some; a pair's affinity is

    a = 2.5 [same HS6] + 1.5 [same HS4] + 1.0 [same chapter]   (finest level only)
        + 1.0 price_fit + 0.6 volume_fit + taste_e . taste_b + 3 fx_change - 4

(tastes of three dimensions, sd 1: what collaborative filtering can learn beyond content)

and with `buyers_like_big_exporters` the buyers (only they) also add 1.5 x the exporter's
standardised ln(employees): the two sides then want different things, which a reciprocal
model learned from who acted can tell apart. Every year, choosers (exporters, buyers, and
now and then the agency) are shown eight counterparts, mostly of their own HS chapter and
drawn in proportion to a skewed exposure, pick one with probability softmax(a), view it (0.5),
and save it (0.7) or inquire (1.0) with probabilities rising with a. Firms join over the
years, so some are new (cold) in the last year. 5% of the buyers have bad credit; the agency
never proposes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CHAPTERS = ("84", "85", "33", "61", "94", "95")
WORDS = {
    "84": ("pump", "valve", "compressor", "turbine"),
    "85": ("battery", "charger", "cable", "adapter"),
    "33": ("serum", "cream", "lotion", "mask"),
    "61": ("shirt", "sweater", "jacket", "dress"),
    "94": ("chair", "desk", "lamp", "sofa"),
    "95": ("puzzle", "doll", "kite", "yo-yo"),
}
COUNTRIES = {"USA": "USD", "DEU": "EUR", "JPN": "JPY", "VNM": "USD", "GBR": "GBP"}
FX_CHANGE = {"USD": 0.06, "EUR": 0.02, "JPY": -0.05, "GBP": 0.0}
REGIONS = ("Seoul", "Busan", "Gyeonggi", "Daegu")
YEARS = (2021, 2022, 2023, 2024)


@dataclass(frozen=True)
class World:
    interactions: pd.DataFrame
    exporters: pd.DataFrame
    buyers: pd.DataFrame


def _codes(chapter: str, rng: np.random.Generator, n: int) -> list[str]:
    pool = [f"{chapter}{h4:02d}{h6:02d}" for h4 in (1, 2) for h6 in (10, 20)]
    return list(rng.choice(pool, size=n, replace=False))


def _draw(rng: np.random.Generator, pool: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Eight firms of `pool` (fewer if it is smaller), drawn in proportion to exposure."""
    weights = exposure[pool] / exposure[pool].sum()
    return np.asarray(rng.choice(pool, size=min(8, len(pool)), replace=False, p=weights))


def _word(code: str) -> str:
    """The product word of an HS6 code of the world (one per code of a chapter)."""
    return WORDS[code[:2]][2 * (int(code[3]) - 1) + int(code[4]) - 1]


def _level(a: list[str], b: list[str]) -> int:
    best = 0
    for x in a:
        for y in b:
            for level, length in ((3, 6), (2, 4), (1, 2)):
                if x[:length] == y[:length]:
                    best = max(best, level)
                    break
    return best


def make_world(
    seed: int = 0,
    exporters: int = 150,
    buyers: int = 500,
    sessions: int = 2_400,
    *,
    buyers_like_big_exporters: bool = False,
) -> World:
    rng = np.random.default_rng(seed)
    e_chapter = rng.choice(CHAPTERS, exporters)
    b_chapter = rng.choice(CHAPTERS, buyers)
    e_codes = [_codes(c, rng, int(rng.integers(1, 3))) for c in e_chapter]
    b_codes = [_codes(c, rng, int(rng.integers(1, 3))) for c in b_chapter]
    e_mid = rng.normal(3.0, 1.2, exporters)
    e_lo, e_hi = np.exp(e_mid - rng.uniform(0.3, 1.0, exporters)), np.exp(e_mid + 0.6)
    b_mid = rng.normal(3.0, 1.2, buyers)
    b_lo, b_hi = np.exp(b_mid - 0.5), np.exp(b_mid + rng.uniform(0.2, 0.8, buyers))
    capacity = np.exp(rng.normal(7.0, 1.2, exporters)).round()
    volume = np.exp(rng.normal(6.5, 1.2, buyers)).round()
    employees = np.exp(rng.normal(3.0, 1.0, exporters)).round() + 1
    country = rng.choice(list(COUNTRIES), buyers)
    currency = np.asarray([COUNTRIES[c] for c in country])
    fx = np.asarray([FX_CHANGE[c] for c in currency])
    e_taste, b_taste = rng.normal(0, 1.0, (exporters, 3)), rng.normal(0, 1.0, (buyers, 3))
    # How often the site shows each firm: skewed, so history and popularity carry signal.
    e_shown = np.exp(rng.normal(0.0, 0.8, exporters))
    b_shown = np.exp(rng.normal(0.0, 0.8, buyers))
    e_joined = np.where(rng.random(exporters) < 0.85, YEARS[0], rng.choice(YEARS[1:], exporters))
    b_joined = np.where(rng.random(buyers) < 0.8, YEARS[0], rng.choice(YEARS[1:], buyers))
    bad = rng.random(buyers) < 0.05

    level = np.array([[_level(x, y) for y in b_codes] for x in e_codes])
    lo = np.maximum(np.log(e_lo)[:, None], np.log(b_lo)[None, :])
    hi = np.minimum(np.log(e_hi)[:, None], np.log(b_hi)[None, :])
    price = np.clip((hi - lo) / np.log(b_hi / b_lo)[None, :], 0.0, 1.0)
    vol = 1.0 + np.clip(np.log(capacity[:, None] / volume[None, :]), -3.0, 0.0) / 3.0
    affinity = (
        np.array([0.0, 1.0, 1.5, 2.5])[level]
        + price
        + 0.6 * vol
        + e_taste @ b_taste.T
        + 3.0 * fx[None, :]
        - 4.0
    )
    size = (np.log(employees) - np.log(employees).mean()) / np.log(employees).std()
    buyer_view = affinity + (1.5 * size[:, None] if buyers_like_big_exporters else 0.0)

    rows: list[tuple[int, int, float, str, str, pd.Timestamp]] = []
    for year in YEARS:
        e_live = np.flatnonzero(e_joined <= year)
        b_live = np.flatnonzero(b_joined <= year)
        start = pd.Timestamp(f"{year}-01-01")
        for _ in range(sessions):
            when = start + pd.Timedelta(seconds=float(rng.uniform(0, 365 * 86400 - 1)))
            side = rng.choice(["exporter", "buyer", "agency"], p=[0.45, 0.45, 0.10])
            if side == "buyer":
                chooser = int(rng.choice(b_live))
                same = e_live[e_chapter[e_live] == b_chapter[chooser]]
                pool = same if len(same) and rng.random() < 0.8 else e_live
                shown = _draw(rng, pool, e_shown)
                score = buyer_view[shown, chooser]
            else:
                chooser = int(rng.choice(e_live))
                live = b_live if side == "exporter" else b_live[~bad[b_live]]
                same = live[b_chapter[live] == e_chapter[chooser]]
                pool = same if len(same) and rng.random() < 0.8 else live
                shown = _draw(rng, pool, b_shown)
                score = affinity[chooser, shown]
            p = np.exp(score - score.max())
            pick = int(shown[rng.choice(len(shown), p=p / p.sum())])
            e, b = (pick, chooser) if side == "buyer" else (chooser, pick)
            a = buyer_view[e, b] if side == "buyer" else affinity[e, b]
            rows.append((e, b, 0.5, "profile_view", side, when))
            if rng.random() < 1.0 / (1.0 + np.exp(-(a + 1.0))):
                rows.append((e, b, 0.7, "save", side, when + pd.Timedelta(minutes=2)))
            if rng.random() < 1.0 / (1.0 + np.exp(-(a - 0.5))):
                rows.append((e, b, 1.0, "inquiry", side, when + pd.Timedelta(minutes=5)))

    e_ids = [f"EXP{i + 1:06d}" for i in range(exporters)]
    b_ids = [f"BUY{j + 1:07d}" for j in range(buyers)]
    interactions = pd.DataFrame(
        {
            "exporter_id": [e_ids[r[0]] for r in rows],
            "buyer_id": [b_ids[r[1]] for r in rows],
            "weight": [r[2] for r in rows],
            "event_type": [r[3] for r in rows],
            "actor": [str(r[4]) for r in rows],
            "ts": pd.to_datetime([r[5] for r in rows]),
        }
    )
    exporter_table = pd.DataFrame(
        {
            "exporter_id": e_ids,
            "hs_codes": e_codes,
            "product_text": [
                "; ".join(f"{_word(c)} model {c[4:]}" for c in codes) for codes in e_codes
            ],
            "price_min_usd": e_lo.round(2),
            "price_max_usd": e_hi.round(2),
            "monthly_capacity_units": capacity.astype("int64"),
            "region": rng.choice(REGIONS, exporters),
            "employees": employees.astype("int64"),
            "firm_age": rng.integers(1, 40, exporters),
        }
    )
    buyer_table = pd.DataFrame(
        {
            "buyer_id": b_ids,
            "country_code": country,
            "currency": currency,
            "hs_codes_wanted": b_codes,
            "product_text": ["; ".join(f"{_word(c)} wanted" for c in codes) for codes in b_codes],
            "desired_price_min_usd": b_lo.round(2),
            "desired_price_max_usd": b_hi.round(2),
            "desired_volume_units": volume.astype("int64"),
            "annual_revenue_usd": np.exp(rng.normal(16.5, 1.0, buyers)).round(),
            "bad_credit": bad,
            "fx_currency": currency,
            "fx_change": fx,
        }
    )
    return World(interactions.sort_values("ts", ignore_index=True), exporter_table, buyer_table)
