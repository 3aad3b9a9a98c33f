"""External conditions: exchange rates (real, ECB), commodity prices, travel advisories, trade.

Exchange rates are the ECB's published history. Commodity prices are simulated around yearly
anchor levels close to the real averages, with the 2020 and 2022 shocks, so that they look
right on a chart; advisories follow real events for a handful of countries plus a few random
episodes per seed. The yearly summaries here feed the ground-truth mechanisms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportintel.contracts.formats import currency_codes
from exportintel.generate.common import FEEDS_START, LAST_YEAR, MARKET_YEARS, TODAY, rng_for
from exportintel.generate.products import PRODUCTS
from exportintel.generate.writer import iso_dates, with_nulls
from exportintel.reference import fx
from exportintel.reference.countries import KOREA, PARTNERS
from exportintel.reference.hs import HS_CHAPTERS, RESERVED_CHAPTERS

# ---------------------------------------------------------------- commodities

COMMODITY_UNITS = {
    "brent_crude": "barrel", "wti_crude": "barrel", "dubai_crude": "barrel",
    "copper": "tonne", "aluminium": "tonne", "nickel": "tonne", "iron_ore": "tonne",
    "natural_rubber": "tonne", "cotton": "tonne", "polyethylene": "tonne",
}  # fmt: skip
RAW_MATERIALS = ("copper", "aluminium", "nickel", "iron_ore", "natural_rubber", "cotton",
                 "polyethylene")  # fmt: skip

# Yearly average prices, USD, 2014..2026 (close to the real averages; 2026 a plain guess).
_ANCHORS = {
    "brent_crude": (99, 52, 44, 54, 71, 64, 42, 71, 99, 82, 80, 69, 65),
    "copper": (6860, 5510, 4870, 6170, 6530, 6000, 6180, 9320, 8820, 8490, 9150, 9800, 10500),
    "aluminium": (1870, 1660, 1600, 1970, 2110, 1790, 1700, 2480, 2700, 2250, 2420, 2600, 2650),
    "nickel": (16900, 11800, 9600, 10400, 13100, 13900, 13800, 18500, 25800, 21500, 16800,
               15300, 15500),
    "iron_ore": (97, 56, 58, 71, 69, 93, 108, 160, 120, 120, 109, 100, 98),
    "natural_rubber": (1710, 1370, 1380, 1650, 1370, 1410, 1330, 1740, 1600, 1450, 1780, 1750,
                       1700),
    "cotton": (1830, 1540, 1630, 1850, 2010, 1720, 1570, 2220, 2860, 2110, 1850, 1700, 1680),
    "polyethylene": (1500, 1200, 1150, 1200, 1200, 1000, 900, 1250, 1200, 1000, 980, 900, 880),
}  # fmt: skip
# Shocks on top of the anchors: (commodity, start, peak, end, log change at the peak).
_SHOCKS = (
    ("brent_crude", "2020-03-06", "2020-04-21", "2020-08-31", -0.65),
    ("brent_crude", "2022-02-24", "2022-03-08", "2022-07-31", 0.25),
    ("copper", "2020-02-15", "2020-03-23", "2020-06-30", -0.18),
    ("nickel", "2022-03-01", "2022-03-08", "2022-05-15", 0.55),
    ("iron_ore", "2021-04-01", "2021-05-12", "2021-09-30", 0.30),
    ("cotton", "2022-03-01", "2022-05-04", "2022-09-30", 0.25),
)
_DAILY_VOL = {
    "brent_crude": 0.018,
    "copper": 0.012,
    "aluminium": 0.011,
    "nickel": 0.016,
    "iron_ore": 0.016,
    "natural_rubber": 0.011,
    "cotton": 0.011,
    "polyethylene": 0.008,
}
# WTI and Dubai trade at a spread to Brent.
_CRUDE_SPREADS = {"wti_crude": -0.07, "dubai_crude": -0.03}

# ---------------------------------------------------------------- travel advisories

ADVISORY_CAUSES = ("none", "war", "terror", "unrest", "disaster", "epidemic")
_RISK_ONLY = ("AFG", "SYR", "YEM", "IRQ", "LBY", "SOM", "LBN", "MLI", "SDN", "HTI", "VEN",
              "IRN", "PSE")  # fmt: skip
# Real-ish advisory history: (country, effective date, level, cause). The first entry per
# country is its level at the start of the feed; countries not listed start at 0, "none".
_ADVISORY_EVENTS = (
    ("AFG", "2014-01-01", 4, "war"), ("SYR", "2014-01-01", 4, "war"),
    ("YEM", "2014-01-01", 4, "war"), ("IRQ", "2014-01-01", 4, "war"),
    ("LBY", "2014-01-01", 4, "war"), ("SOM", "2014-01-01", 4, "war"),
    ("LBN", "2014-01-01", 2, "terror"), ("MLI", "2014-01-01", 3, "terror"),
    ("SDN", "2014-01-01", 3, "unrest"), ("HTI", "2014-01-01", 2, "unrest"),
    ("VEN", "2014-01-01", 2, "unrest"), ("IRN", "2014-01-01", 1, "unrest"),
    ("PSE", "2014-01-01", 3, "war"), ("PHL", "2014-01-01", 1, "terror"),
    ("TUR", "2014-01-01", 1, "terror"), ("EGY", "2014-01-01", 1, "terror"),
    ("ISR", "2014-01-01", 1, "terror"), ("MEX", "2014-01-01", 1, "unrest"),
    ("UKR", "2014-01-01", 0, "none"), ("UKR", "2014-04-15", 2, "war"),
    ("NGA", "2014-01-01", 2, "terror"), ("PAK", "2014-01-01", 2, "terror"),
    ("MMR", "2014-01-01", 1, "unrest"), ("KEN", "2014-01-01", 1, "terror"),
    ("JPN", "2016-04-15", 1, "disaster"), ("JPN", "2016-07-01", 0, "none"),
    ("TUR", "2016-07-16", 2, "unrest"), ("TUR", "2017-01-31", 1, "terror"),
    ("LKA", "2019-04-22", 2, "terror"), ("LKA", "2019-09-01", 1, "terror"),
    ("HKG", "2019-08-14", 1, "unrest"), ("HKG", "2020-07-01", 0, "none"),
    ("MMR", "2021-02-01", 3, "unrest"), ("HTI", "2021-07-08", 3, "unrest"),
    ("HTI", "2024-03-10", 4, "unrest"), ("UKR", "2022-02-13", 4, "war"),
    ("RUS", "2022-03-01", 3, "war"), ("LKA", "2022-07-12", 2, "unrest"),
    ("LKA", "2023-01-31", 1, "unrest"), ("TUR", "2023-02-07", 2, "disaster"),
    ("TUR", "2023-06-01", 1, "terror"), ("SDN", "2023-04-22", 4, "war"),
    ("ISR", "2023-10-09", 3, "war"), ("PSE", "2023-10-09", 4, "war"),
    ("LBN", "2023-10-20", 3, "war"), ("LBN", "2024-08-02", 4, "war"),
    ("BGD", "2024-08-05", 2, "unrest"), ("BGD", "2025-02-01", 1, "unrest"),
)  # fmt: skip
# Korea's special travel advisory of the pandemic covered every country.
_EPIDEMIC = ("2020-03-23", "2022-06-30", 2)

# ---------------------------------------------------------------- trade

# Korea's goods exports, USD billion, 2014..2025 (rounded real totals).
_KOREA_EXPORTS_BN = (573, 527, 495, 574, 605, 542, 513, 644, 684, 632, 684, 700)
# Shares of Korea's exports by HS chapter, percent (rounded); other chapters share the rest.
_CHAPTER_SHARES = {
    85: 30, 84: 12, 87: 13, 27: 8, 39: 5, 72: 5, 89: 4, 29: 4, 90: 3, 38: 1.5, 73: 1.5,
    40: 1.2, 30: 1.3, 33: 1.4, 74: 1.0, 76: 0.7, 71: 0.6, 48: 0.5, 54: 0.5, 60: 0.6, 28: 0.5,
    32: 0.4, 88: 0.5, 21: 0.4, 19: 0.3, 3: 0.3, 83: 0.3, 34: 0.3, 70: 0.3, 22: 0.2, 94: 0.2,
    96: 0.2, 82: 0.2, 95: 0.15, 61: 0.1, 62: 0.1, 64: 0.1, 42: 0.1, 86: 0.1,
}  # fmt: skip
# Typical value per kg by chapter, USD (for net weights); others 5 USD/kg.
_VALUE_PER_KG = {85: 60, 84: 30, 87: 10, 27: 0.7, 39: 2, 72: 0.9, 89: 4, 29: 1.2, 90: 80,
                 30: 150, 33: 25, 71: 2000, 88: 300}  # fmt: skip


@dataclass(frozen=True)
class Markets:
    """Daily feeds and the yearly summaries the mechanisms use (axis: `MARKET_YEARS`)."""

    fx_series: dict[str, tuple[np.ndarray, np.ndarray]]  # currency -> (dates, KRW per unit)
    currencies: tuple[str, ...]  # currencies of `fx_move` rows
    fx_move: np.ndarray  # (currency, year): log change of the yearly mean KRW per unit
    commodity_dates: np.ndarray
    commodity_prices: dict[str, np.ndarray]
    commodity_move: dict[str, np.ndarray]  # commodity (and "index") -> yearly log change
    risk_countries: tuple[str, ...]
    risk_dates: np.ndarray
    risk_level: np.ndarray  # (country, day)
    risk_cause: np.ndarray  # (country, day), index into ADVISORY_CAUSES
    crisis: np.ndarray  # (country, year): mean advisory level over the year
    trade_chapters: np.ndarray  # HS chapters (ints) of the trade tables
    korea_exports: np.ndarray  # (partner, chapter, year) USD, years 2014..LAST_YEAR
    trade_move: np.ndarray  # (partner, chapter, year): log change of Korea's exports

    def currency_index(self, codes: list[str]) -> np.ndarray:
        position = {c: i for i, c in enumerate(self.currencies)}
        return np.array([position[c] for c in codes], dtype=np.int64)

    def risk_index(self, codes: list[str]) -> np.ndarray:
        position = {c: i for i, c in enumerate(self.risk_countries)}
        return np.array([position[c] for c in codes], dtype=np.int64)


def pay_currency(local: str, covered: set[str]) -> str:
    """Buyers pay in their own currency when the ECB quotes it all along, else in USD."""
    return local if local in covered else "USD"


def build_markets(seed: int) -> Markets:
    # Withdrawn currencies (LTL, HRK, BGN) are no longer ISO 4217 codes the contract accepts.
    fx_series = {
        currency: series
        for currency, series in fx.krw_per_unit(FEEDS_START, TODAY).items()
        if currency in currency_codes()
    }
    currencies = tuple(sorted(fx_series))
    fx_move = _yearly_moves([fx_series[c] for c in currencies])
    dates, prices = _commodities(seed)
    commodity_move = {name: _yearly_moves([(dates, series)])[0] for name, series in prices.items()}
    commodity_move["index"] = np.mean([commodity_move[m] for m in RAW_MATERIALS], axis=0)
    risk_countries, risk_dates, level, cause = _advisories(seed)
    years = np.array(MARKET_YEARS)
    crisis = np.stack(
        [
            level[:, risk_dates.astype("datetime64[Y]").astype(int) + 1970 == y].mean(axis=1)
            for y in years
        ],
        axis=1,
    )
    chapters, exports = _korea_exports(seed)
    with np.errstate(divide="ignore"):
        log_exports = np.log(exports)
    trade_move = np.zeros_like(exports)
    trade_move[:, :, 1:] = log_exports[:, :, 1:] - log_exports[:, :, :-1]
    return Markets(
        fx_series=fx_series,
        currencies=currencies,
        fx_move=fx_move,
        commodity_dates=dates,
        commodity_prices=prices,
        commodity_move=commodity_move,
        risk_countries=risk_countries,
        risk_dates=risk_dates,
        risk_level=level,
        risk_cause=cause,
        crisis=crisis,
        trade_chapters=chapters,
        korea_exports=exports,
        trade_move=trade_move,
    )


def covered_currencies(markets: Markets) -> set[str]:
    """Currencies the ECB quotes on every market year (RUB and HRK stop, for example)."""
    covered = set()
    for currency, (dates, _) in markets.fx_series.items():
        years = set((dates.astype("datetime64[Y]").astype(int) + 1970).tolist())
        if set(MARKET_YEARS) <= years:
            covered.add(currency)
    return covered


def _yearly_moves(series: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Log change of the yearly mean, per series and market year (0 for the first year)."""
    out = np.zeros((len(series), len(MARKET_YEARS)))
    for i, (dates, values) in enumerate(series):
        years = dates.astype("datetime64[Y]").astype(int) + 1970
        means = np.array(
            [values[years == y].mean() if (years == y).any() else np.nan for y in MARKET_YEARS]
        )
        moves = np.diff(np.log(means), prepend=np.log(means[0]))
        out[i] = np.nan_to_num(moves)
    return out


def business_days(start: dt.date, end: dt.date) -> np.ndarray:
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1, dtype="datetime64[D]")
    out: np.ndarray = days[np.is_busday(days)]
    return out


def _commodities(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Mean-reverting log prices around the yearly anchors, plus the historical shocks."""
    rng = rng_for(seed, "commodities")
    dates = business_days(FEEDS_START, TODAY)
    day = dates.astype(np.int64)
    anchor_days = np.array(
        [np.datetime64(f"{y}-07-01").astype(np.int64) for y in MARKET_YEARS], dtype=np.int64
    )
    prices: dict[str, np.ndarray] = {}
    for name, anchors in _ANCHORS.items():
        path = np.interp(day, anchor_days, np.log(np.array(anchors, dtype=float)))
        for commodity, start, peak, end, size in _SHOCKS:
            if commodity == name:
                points = [np.datetime64(d).astype(np.int64) for d in (start, peak, end)]
                path += np.interp(day, points, [0.0, size, 0.0], left=0.0, right=0.0)
        prices[name] = np.exp(path + _ou_noise(rng, len(day), _DAILY_VOL[name]))
    for name, spread in _CRUDE_SPREADS.items():
        noise = _ou_noise(rng, len(day), 0.006, persistence=0.9)
        prices[name] = prices["brent_crude"] * np.exp(spread + noise)
    return dates, {name: np.round(prices[name], 2) for name in COMMODITY_UNITS}


def _ou_noise(
    rng: np.random.Generator, n: int, vol: float, persistence: float = 0.985
) -> np.ndarray:
    shocks = rng.normal(0.0, vol, n)
    out = np.empty(n)
    level = 0.0
    for i in range(n):
        level = persistence * level + shocks[i]
        out[i] = level
    return out


def _advisories(seed: int) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    rng = rng_for(seed, "advisories")
    countries = tuple(sorted({p.code for p in PARTNERS} | set(_RISK_ONLY)))
    index = {c: i for i, c in enumerate(countries)}
    dates = np.arange(np.datetime64(FEEDS_START), np.datetime64(TODAY) + 1, dtype="datetime64[D]")
    level = np.zeros((len(countries), len(dates)), dtype=np.int64)
    cause = np.zeros_like(level)
    for country, when, lvl, why in _ADVISORY_EVENTS:
        start = int(np.searchsorted(dates, np.datetime64(when)))
        level[index[country], start:] = lvl
        cause[index[country], start:] = ADVISORY_CAUSES.index(why)
    # A few seeded episodes of unrest or disaster in otherwise calm partner countries.
    calm = [c for c in countries if level[index[c]].max() == 0]
    picked = rng.choice(len(calm), size=min(5, len(calm)), replace=False)
    history_days = int(np.searchsorted(dates, np.datetime64(f"{LAST_YEAR}-12-31")))
    first_day = int(np.searchsorted(dates, np.datetime64(f"{MARKET_YEARS[2]}-01-01")))
    for k in sorted(picked.tolist()):
        row = index[calm[k]]
        start = int(rng.integers(first_day, history_days))
        stop = start + int(rng.integers(30, 181))
        level[row, start:stop] = int(rng.integers(1, 3))
        cause[row, start:stop] = ADVISORY_CAUSES.index(str(rng.choice(["unrest", "disaster"])))
    start, stop = (int(np.searchsorted(dates, np.datetime64(d))) for d in _EPIDEMIC[:2])
    window = level[:, start : stop + 1]
    raised = window < _EPIDEMIC[2]
    window[raised] = _EPIDEMIC[2]
    cause[:, start : stop + 1][raised] = ADVISORY_CAUSES.index("epidemic")
    return countries, dates, level, cause


def _korea_exports(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Korea's exports by partner, chapter and year: real-ish shares with drifting demand."""
    rng = rng_for(seed, "trade")
    chapters = np.array([int(c) for c in HS_CHAPTERS if c not in RESERVED_CHAPTERS])
    years = len(_KOREA_EXPORTS_BN)
    partner_share = np.array([p.export_share_pct for p in PARTNERS])
    chapter_share = np.array([_CHAPTER_SHARES.get(int(c), 0.02) for c in chapters])
    partner_walk = np.cumsum(rng.normal(0.0, 0.05, (len(PARTNERS), years)), axis=1)
    cell_level = rng.normal(0.0, 0.5, (len(PARTNERS), len(chapters), 1))
    cell_walk = np.cumsum(rng.normal(0.0, 0.12, (len(PARTNERS), len(chapters), years)), axis=2)
    weight = (
        partner_share[:, None, None]
        * np.exp(partner_walk)[:, None, :]
        * chapter_share[None, :, None]
        * np.exp(cell_level + cell_walk)
    )
    totals = np.array(_KOREA_EXPORTS_BN, dtype=float) * 1e9 * 0.93  # partners listed: ~93%
    exports = weight / weight.sum(axis=(0, 1), keepdims=True) * totals[None, None, :]
    return chapters, exports


def value_per_kg(chapters: np.ndarray) -> np.ndarray:
    return np.array([_VALUE_PER_KG.get(int(c), 5.0) for c in chapters])


# ---------------------------------------------------------------- dataset records


def fx_rows(markets: Markets) -> dict[str, list[Any]]:
    """fx_rates: every ECB business day, every currency with a rate that day."""
    dates, currencies, values = [], [], []
    for currency in markets.currencies:
        day, rate = markets.fx_series[currency]
        dates.append(day)
        currencies.append(np.full(len(day), currency, dtype=object))
        values.append(np.round(rate, 4))
    day, code, rate = (np.concatenate(v) for v in (dates, currencies, values))
    order = np.lexsort((code, day))
    return {
        "rate_date": iso_dates(day[order]),
        "currency": code[order].tolist(),
        "krw_per_unit": rate[order].tolist(),
        "source": [fx.SOURCE] * len(order),
    }


def commodity_rows(markets: Markets) -> dict[str, list[Any]]:
    names = list(COMMODITY_UNITS)
    n_days = len(markets.commodity_dates)
    day = np.repeat(markets.commodity_dates, len(names))
    commodity = np.tile(np.array(names, dtype=object), n_days)
    price = np.stack([markets.commodity_prices[c] for c in names], axis=1).ravel()
    return {
        "price_date": iso_dates(day),
        "commodity": commodity.tolist(),
        "price_usd": price.tolist(),
        "unit": [COMMODITY_UNITS[c] for c in commodity.tolist()],
    }


def country_risk_rows(markets: Markets) -> dict[str, list[Any]]:
    """country_risk: the level in force at the start of the feed, then every change."""
    level, cause = markets.risk_level, markets.risk_cause
    changed = np.ones(level.shape, dtype=bool)
    changed[:, 1:] = (level[:, 1:] != level[:, :-1]) | (cause[:, 1:] != cause[:, :-1])
    country, day = np.nonzero(changed)
    order = np.lexsort((country, day))
    country, day = country[order], day[order]
    return {
        "country_code": np.array(markets.risk_countries, dtype=object)[country].tolist(),
        "effective_date": iso_dates(markets.risk_dates[day]),
        "advisory_level": level[country, day].tolist(),
        "cause": np.array(ADVISORY_CAUSES, dtype=object)[cause[country, day]].tolist(),
    }


def trade_rows(seed: int, markets: Markets) -> Iterator[dict[str, list[Any]]]:
    """trade_flows by year: Korea's exports by partner and chapter, the top partners' mirror
    imports from Korea, and Korea's exports of the catalogue's HS6 codes to its top partners."""
    rng = rng_for(seed, "trade_flows")
    partners = np.array([p.code for p in PARTNERS], dtype=object)
    chapters = markets.trade_chapters
    chapter_position = {int(c): i for i, c in enumerate(chapters)}
    codes = np.array([int(p.hs6) for p in PRODUCTS])
    code_chapter = np.array([chapter_position[int(c) // 10_000] for c in codes])
    # The catalogue's codes take a fixed share of their chapter (split evenly in a chapter).
    per_chapter = np.bincount(code_chapter, minlength=len(chapters))
    code_share = rng.uniform(0.05, 0.3, len(codes)) / per_chapter[code_chapter] * 2
    mirrored, detailed = 20, 15
    for y, year in enumerate(range(MARKET_YEARS[0], LAST_YEAR + 1)):
        exports = markets.korea_exports[:, :, y]
        p, c = np.nonzero(exports > 0)
        blocks = [
            (
                np.full(len(p), KOREA, dtype=object),
                partners[p],
                np.array([f"{int(h):02d}" for h in chapters[c]], dtype=object),
                np.full(len(p), "export", dtype=object),
                exports[p, c],
                chapters[c],
            )
        ]
        m = p < mirrored
        blocks.append(
            (
                partners[p[m]],
                np.full(int(m.sum()), KOREA, dtype=object),
                blocks[0][2][m],
                np.full(int(m.sum()), "import", dtype=object),
                exports[p[m], c[m]] * np.exp(rng.normal(0.05, 0.05, int(m.sum()))),
                chapters[c[m]],
            )
        )
        grid_p, grid_c = np.meshgrid(np.arange(detailed), np.arange(len(codes)), indexing="ij")
        dp, dc = grid_p.ravel(), grid_c.ravel()
        value = exports[dp, code_chapter[dc]] * code_share[dc] * np.exp(rng.normal(0, 0.2, len(dp)))
        blocks.append(
            (
                np.full(len(dp), KOREA, dtype=object),
                partners[dp],
                np.array([f"{codes[k]:06d}" for k in dc], dtype=object),
                np.full(len(dp), "export", dtype=object),
                value,
                codes[dc] // 10_000,
            )
        )
        reporter, partner, hs, flow, value, chapter = (
            np.concatenate(column) for column in zip(*blocks, strict=True)
        )  # fmt: skip
        weight = value / value_per_kg(chapter) * np.exp(rng.normal(0.0, 0.2, len(value)))
        order = np.lexsort((flow, hs, partner, reporter))
        yield {
            "reporter_code": reporter[order].tolist(),
            "partner_code": partner[order].tolist(),
            "hs_code": hs[order].tolist(),
            "year": [year] * len(order),
            "flow": flow[order].tolist(),
            "trade_value_usd": np.round(value[order], 2).tolist(),
            "net_weight_kg": with_nulls(np.round(weight[order], 1), rng.random(len(order)) < 0.08),
        }
