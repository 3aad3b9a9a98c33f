"""The exporters' years: financials, capability signals, credit grades and export status.

One loop over the years, vectorised over firms. Each year's figures follow from the previous
year's; whether a firm that has exported before exports again is decided by the ground-truth
continuation mechanism (`truth.continuation_logit`) on the previous year's figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportintel.contracts.datasets import CREDIT_GRADES
from exportintel.generate import truth
from exportintel.generate.common import FIRST_YEAR, YEARS, rng_for, sigmoid, year_index
from exportintel.generate.firms import Exporters
from exportintel.generate.markets import Markets, covered_currencies, pay_currency
from exportintel.generate.products import SECTORS
from exportintel.generate.writer import iso_dates, with_nulls
from exportintel.reference.countries import PARTNERS

PANEL_YEARS = np.array((FIRST_YEAR - 1, *YEARS))  # 2015 is simulated but not published
BUREAUS = ("NICE", "KED", "SCI")


@dataclass(frozen=True)
class Panel:
    """Per firm (rows) and panel year (columns, `PANEL_YEARS`)."""

    alive: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray  # KRW million
    growth: np.ndarray  # percent, NaN when there is no previous year
    net_income: np.ndarray
    operating_profit: np.ndarray
    capital: np.ndarray
    language_staff: np.ndarray
    marketing_staff: np.ndarray
    exhibitions: np.ndarray
    certifications: np.ndarray
    grade: np.ndarray  # index into CREDIT_GRADES
    exported: np.ndarray
    truth_rows: dict[str, np.ndarray]  # the continuation mechanism's inputs and draws


def destination_weights(exporters: Exporters) -> np.ndarray:
    """Weight 1/rank per destination, normalised per firm (0 for padding)."""
    valid = exporters.destinations >= 0
    w = np.where(valid, 1.0 / (1 + np.arange(valid.shape[1]))[None, :], 0.0)
    out: np.ndarray = w / w.sum(axis=1, keepdims=True)
    return out


def external_features(exporters: Exporters, markets: Markets) -> dict[str, np.ndarray]:
    """Per firm and market year: the destination-weighted external conditions."""
    weights = destination_weights(exporters)
    dest = np.maximum(exporters.destinations, 0)
    covered = covered_currencies(markets)
    currency = markets.currency_index([pay_currency(p.currency, covered) for p in PARTNERS])
    risk = markets.risk_index([p.code for p in PARTNERS])
    chapter_position = {int(c): i for i, c in enumerate(markets.trade_chapters)}
    chapter = np.array([chapter_position[int(c)] for c in exporters.main_chapter])
    raw = np.stack([markets.commodity_move[SECTORS[s].raw_material] for s in exporters.sector])
    trade_years = markets.korea_exports.shape[2]
    trade = markets.trade_move[dest, chapter[:, None], :]  # (firm, destination, trade year)
    trade_change = np.einsum("fd,fdy->fy", weights, trade)
    padded = np.zeros((exporters.n, markets.fx_move.shape[1]))
    padded[:, :trade_years] = trade_change
    return {
        "fx_change": np.einsum("fd,fdy->fy", weights, markets.fx_move[currency[dest]]),
        "crisis_level": np.einsum("fd,fdy->fy", weights, markets.crisis[risk[dest]]),
        "trade_change": padded,
        "oil_change": np.broadcast_to(markets.commodity_move["brent_crude"], padded.shape),
        "raw_material_change": raw,
    }


def simulate(seed: int, exporters: Exporters, markets: Markets) -> Panel:
    rng = rng_for(seed, "panel")
    n, years = exporters.n, len(PANEL_YEARS)
    shape = (n, years)
    alive = exporters.founding[:, None] <= PANEL_YEARS[None, :]
    c = exporters.capability
    log_emp = np.zeros(shape)
    revenue, growth = np.zeros(shape), np.full(shape, np.nan)
    net_income, operating, capital = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    employees, language, marketing, exhibitions, certs, grade = (
        np.zeros(shape, dtype=np.int64) for _ in range(6)
    )
    exported = np.zeros(shape, dtype=bool)
    external = external_features(exporters, markets)
    truth_parts: list[dict[str, np.ndarray]] = []
    for k, year in enumerate(PANEL_YEARS.tolist()):
        now = alive[:, k]
        first = now & ((exporters.founding == year) | (k == 0))
        age = np.maximum(year - exporters.founding, 0)
        if k == 0:
            log_emp[:, k] = exporters.log_employees
        else:
            step = exporters.growth + 0.12 * np.exp(-age / 4) + rng.normal(0.0, 0.08, n)
            log_emp[:, k] = np.where(first, exporters.log_employees, log_emp[:, k - 1] + step)
        log_emp[:, k] = np.clip(log_emp[:, k], 0.0, np.log(5000))
        employees[:, k] = np.maximum(1, np.round(np.exp(log_emp[:, k])))
        revenue[:, k] = np.round(
            employees[:, k] * exporters.revenue_per_employee * np.exp(rng.normal(0.0, 0.12, n)), 1
        )
        if k > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                change = 100.0 * (revenue[:, k] / revenue[:, k - 1] - 1.0)
            growth[:, k] = np.where(first | ~alive[:, k - 1], np.nan, np.round(change, 2))
        margin = exporters.margin + rng.normal(0.0, 0.04, n)
        net_income[:, k] = np.round(revenue[:, k] * margin, 1)
        operating[:, k] = np.round(revenue[:, k] * (margin + 0.02 + rng.normal(0.0, 0.015, n)), 1)
        raise_capital = rng.random(n) < 0.06
        fresh_capital = np.round(revenue[:, k] * rng.uniform(0.05, 0.4, n), 1).clip(1.0)
        previous_capital = capital[:, k - 1] * np.where(raise_capital, 1.3, 1.0) if k else 0.0
        capital[:, k] = np.where(first, fresh_capital, np.round(previous_capital, 1))
        language[:, k] = np.minimum(
            rng.poisson(np.exp(-0.9 + 0.55 * c + 0.3 * log_emp[:, k])), employees[:, k]
        )
        marketing[:, k] = np.minimum(
            rng.poisson(np.exp(-0.8 + 0.5 * c + 0.3 * log_emp[:, k])), employees[:, k]
        )
        exhibitions[:, k] = rng.poisson(np.exp(-0.4 + 0.6 * c + 0.1 * log_emp[:, k]))
        gained = rng.poisson(0.2 * np.exp(0.4 * c))
        lost = (rng.random(n) < 0.05).astype(np.int64)
        carried = np.maximum(certs[:, k - 1] + gained - lost, 0) if k else 0
        certs[:, k] = np.where(
            first, rng.poisson(np.exp(-0.2 + 0.5 * c + 0.2 * log_emp[:, k])), carried
        )
        score = 0.6 * c + 8.0 * margin + 0.25 * log_emp[:, k] + rng.normal(0.0, 0.6, n)
        grade[:, k] = np.clip(np.round(4.3 - 1.2 * score), 0, len(CREDIT_GRADES) - 1)
        for series in (employees, revenue, net_income, operating, capital, language, marketing,
                       exhibitions, certs, grade):  # fmt: skip
            series[~now, k] = 0

        first_export = exporters.first_export
        if k == 0:
            exported[:, 0] = (first_export == year) | (
                (first_export < year) & (rng.random(n) < truth.EXPORTED_BEFORE_HISTORY)
            )
            continue
        before = first_export < year
        features = {
            "target_language_staff": np.log1p(language[:, k - 1]),
            "overseas_marketing_staff": np.log1p(marketing[:, k - 1]),
            "exhibitions": np.log1p(exhibitions[:, k - 1]),
            "certifications": np.log1p(certs[:, k - 1]),
            "firm_age": np.log1p(np.maximum(year - 1 - exporters.founding, 0)),
            "net_income": np.arcsinh(net_income[:, k - 1] / 100.0),
            "employees": np.log(np.maximum(employees[:, k - 1], 1)),
            "revenue_growth": np.nan_to_num(np.clip(growth[:, k - 1] / 100.0, -1.0, 1.0)),
            "credit_grade": grade[:, k - 1].astype(float),
            "exported_last_year": exported[:, k - 1].astype(float),
        }
        market_year = int(year_index(np.array(year - 1)))
        for name, values in external.items():
            features[name] = values[:, market_year]
        logit = truth.continuation_logit(features)
        effect = truth.FIRM_EFFECT_SD * exporters.firm_effect
        noise = truth.NOISE_SD * rng.normal(0.0, 1.0, n)
        p = sigmoid(logit + effect + noise)
        draw = rng.random(n) < p
        exported[:, k] = (first_export == year) | (before & draw)
        rows = np.flatnonzero(before)
        truth_parts.append(
            {
                "firm": rows,
                "year": np.full(len(rows), year),
                **{name: values[rows] for name, values in features.items()},
                "logit_features": logit[rows],
                "firm_effect": effect[rows],
                "noise": noise[rows],
                "p_true": p[rows],
                "exported": exported[rows, k],
            }
        )
    truth_rows = {
        key: np.concatenate([part[key] for part in truth_parts]) for key in truth_parts[0]
    }
    return Panel(
        alive=alive,
        employees=employees,
        revenue=revenue,
        growth=growth,
        net_income=net_income,
        operating_profit=operating,
        capital=capital,
        language_staff=language,
        marketing_staff=marketing,
        exhibitions=exhibitions,
        certifications=certs,
        grade=grade,
        exported=exported,
        truth_rows=truth_rows,
    )


def financial_chunks(exporters: Exporters, panel: Panel) -> Iterator[dict[str, list[Any]]]:
    """firm_financials, one chunk per published year."""
    ids = np.array(exporters.ids, dtype=object)
    for k in range(1, len(PANEL_YEARS)):
        rows = np.flatnonzero(panel.alive[:, k])
        yield {
            "firm_id": ids[rows].tolist(),
            "year": [int(PANEL_YEARS[k])] * len(rows),
            "employees": panel.employees[rows, k].tolist(),
            "revenue_krw_mn": panel.revenue[rows, k].tolist(),
            "net_income_krw_mn": panel.net_income[rows, k].tolist(),
            "revenue_growth_pct": with_nulls(
                np.nan_to_num(panel.growth[rows, k]), np.isnan(panel.growth[rows, k])
            ),
            "operating_profit_krw_mn": panel.operating_profit[rows, k].tolist(),
            "capital_krw_mn": panel.capital[rows, k].tolist(),
            "target_language_staff": panel.language_staff[rows, k].tolist(),
            "overseas_marketing_staff": panel.marketing_staff[rows, k].tolist(),
            "exhibitions": panel.exhibitions[rows, k].tolist(),
            "certifications": panel.certifications[rows, k].tolist(),
        }


def credit_chunks(seed: int, exporters: Exporters, panel: Panel) -> Iterator[dict[str, list[Any]]]:
    """credit_evaluations: zero to two bureau grades per firm-year, a notch apart at most."""
    ids = np.array(exporters.ids, dtype=object)
    for k in range(1, len(PANEL_YEARS)):
        year = int(PANEL_YEARS[k])
        rng = rng_for(seed, "credit_evaluations", year)
        firms = np.flatnonzero(panel.alive[:, k])
        count = rng.choice(3, size=len(firms), p=[0.12, 0.73, 0.15])
        firm = np.repeat(firms, count)
        slot = np.concatenate([np.arange(c) for c in count.tolist()]) if len(firm) else firm
        first_bureau = np.repeat(rng.integers(0, len(BUREAUS), len(firms)), count)
        bureau = (first_bureau + slot) % len(BUREAUS)
        notch = rng.choice([-1, 0, 1], size=len(firm), p=[0.12, 0.76, 0.12])
        grade = np.clip(panel.grade[firm, k] + notch, 0, len(CREDIT_GRADES) - 1)
        day = np.datetime64(f"{year}-01-01") + rng.integers(0, 365, len(firm))
        order = np.lexsort((firm, day))
        firm, bureau, grade, day = firm[order], bureau[order], grade[order], day[order]
        serial = np.zeros(len(firm), dtype=np.int64)
        for b in range(len(BUREAUS)):
            mask = bureau == b
            serial[mask] = np.arange(1, mask.sum() + 1)
        names = np.array(BUREAUS, dtype=object)[bureau]
        yield {
            "evaluation_id": [
                f"{b}-{year}-{s:07d}" for b, s in zip(names.tolist(), serial.tolist(), strict=True)
            ],
            "firm_id": ids[firm].tolist(),
            "evaluated_on": iso_dates(day),
            "grade": np.array(CREDIT_GRADES, dtype=object)[grade].tolist(),
            "bureau": names.tolist(),
        }


def export_chunks(
    seed: int, exporters: Exporters, panel: Panel, markets: Markets
) -> Iterator[dict[str, list[Any]]]:
    """export_history: per exporting firm-year, values by destination and HS code."""
    ids = np.array(exporters.ids, dtype=object)
    dates, krw = markets.fx_series["USD"]
    years_of = dates.astype("datetime64[Y]").astype(int) + 1970
    partner_codes = np.array([p.code for p in PARTNERS], dtype=object)
    slots_d, slots_p = exporters.destinations.shape[1], exporters.products.shape[1]
    # A reachable destination is served in an exporting year with a probability that rises
    # with the latent affinity of the firm's main chapter to the country.
    chapter = truth.chapter_positions(markets, exporters.main_chapter)
    affinity = truth.market_affinity(seed, markets)
    keep = truth.keep_probability(affinity[chapter[:, None], np.maximum(exporters.destinations, 0)])
    for k in range(1, len(PANEL_YEARS)):
        year = int(PANEL_YEARS[k])
        rng = rng_for(seed, "export_history", year)
        firms = np.flatnonzero(panel.exported[:, k])
        m = len(firms)
        experience = year - exporters.first_export[firms]
        usd = panel.revenue[firms, k] * 1e6 / krw[years_of == year].mean()
        ramp = np.minimum(1.0, 0.35 + 0.2 * experience)
        total = usd * exporters.export_share[firms] * np.exp(rng.normal(0.0, 0.25, m)) * ramp
        rank = np.arange(slots_d)[None, :]
        dest_ok = (exporters.destinations[firms] >= 0) & (
            (rank == 0) | ((rank <= experience[:, None]) & (rng.random((m, slots_d)) < keep[firms]))
        )
        product_ok = (exporters.products[firms] >= 0)[:, None, :] & (
            rng.random((m, slots_d, slots_p)) < 0.6
        )
        product_ok[:, :, 0] |= exporters.products[firms, 0][:, None] >= 0  # main product
        cells = dest_ok[:, :, None] & product_ok
        weight = (
            rng.gamma(2.0, 1.0, cells.shape)
            / (1 + np.arange(slots_d))[None, :, None]
            / (1 + np.arange(slots_p))[None, None, :]
        ) * cells
        share = weight / weight.sum(axis=(1, 2), keepdims=True)
        f, d, p = np.nonzero(cells)
        value = np.maximum(np.round(total[f] * share[f, d, p], 2), 100.0)
        firm = firms[f]
        yield {
            "firm_id": ids[firm].tolist(),
            "year": [year] * len(firm),
            "hs_code": [f"{h:06d}" for h in exporters.hs6[firm, p].tolist()],
            "destination_country": partner_codes[exporters.destinations[firm, d]].tolist(),
            "export_value_usd": value.tolist(),
        }
