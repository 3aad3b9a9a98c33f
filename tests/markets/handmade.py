"""A hand-made lake for the market model: five countries alike in every way, so that a test
can change one piece of evidence for one country and watch that country's rank move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from exportintel.markets.data import MarketTables

Edit = Callable[[dict[str, pd.DataFrame]], None]

COUNTRIES = {"VNM": "VND", "USA": "USD", "JPN": "JPY", "DEU": "EUR", "MEX": "MXN"}
YEARS = tuple(range(2018, 2025))
AS_OF = 2023


def tables(edit: Edit | None = None) -> MarketTables:
    """The alike world; `edit` may change its frames in place before they are frozen."""
    frames = {
        "exporters": pd.DataFrame(
            {
                "firm_id": ["EXP000001", "EXP000002", "EXP000003", "EXP000004"],
                "hs_codes": [["850440"], ["850440", "392690"], ["850440"], ["850440"]],
                "price_min_usd": [10.0, 10.0, 10.0, 10.0],
                "price_max_usd": [20.0, 20.0, 20.0, 20.0],
                "founding_year": [2010, 2012, 2015, 2021],
            }
        ),
        "buyers": pd.DataFrame(
            [
                {
                    "buyer_id": f"BUY{i * 10 + k:06d}",
                    "country_code": country,
                    "hs_codes_wanted": ["850440"],
                    "desired_price_min_usd": 12.0,
                    "desired_price_max_usd": 18.0,
                    "bad_credit": False,
                }
                for i, country in enumerate(COUNTRIES)
                for k in range(3)
            ]
        ),
        # EXP000001 and EXP000002 export to VNM every year (they are each other's peers);
        # EXP000003 and EXP000004 never exported (novices).
        "export_history": pd.DataFrame(
            [
                {
                    "firm_id": firm,
                    "year": year,
                    "hs_code": "850440",
                    "destination_country": "VNM",
                    "export_value_usd": 1e5,
                }
                for firm in ("EXP000001", "EXP000002")
                for year in YEARS
            ]
        ),
        "firm_financials": pd.DataFrame(
            [
                {"firm_id": firm, "year": year, "employees": 20}
                for firm in ("EXP000001", "EXP000002", "EXP000003", "EXP000004")
                for year in YEARS
            ]
        ),
        "trade_flows": pd.DataFrame(
            [
                {
                    "reporter_code": "KOR",
                    "partner_code": country,
                    "hs_code": "85",
                    "year": year,
                    "flow": "export",
                    "trade_value_usd": 1e9,
                }
                for country in COUNTRIES
                for year in YEARS
            ]
        ),
        "fx_rates": pd.DataFrame(
            [
                {"rate_date": dt.date(year, month, 15), "currency": currency, "krw_per_unit": 100.0}
                for currency in sorted(set(COUNTRIES.values()))
                for year in YEARS
                for month in (3, 9)
            ]
        ),
        "country_risk": pd.DataFrame(
            [
                {
                    "country_code": country,
                    "effective_date": dt.date(YEARS[0], 1, 1),
                    "advisory_level": 0,
                }
                for country in COUNTRIES
            ]
        ),
        "match_history": pd.DataFrame(
            [
                {"buyer_id": f"BUY{i * 10 + k:06d}", "requested_on": dt.date(2019, 5, 1)}
                for i in range(len(COUNTRIES))
                for k in range(3)
            ]
        ),
    }
    if edit is not None:
        edit(frames)
    return MarketTables(**{name: frame.reset_index(drop=True) for name, frame in frames.items()})


def with_rows(frame: pd.DataFrame, rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
