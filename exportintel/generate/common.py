"""Shared constants of the generator: the fixed "today", the history window, scales, seeding.

"Today" is a constant, not the wall clock, so that a seed always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

GENERATOR_VERSION = "1.0.0"
TODAY = dt.date(2026, 6, 30)  # the data's "today" in Asia/Seoul
LAST_YEAR = TODAY.year - 1  # the last full year of history
YEARS = tuple(range(LAST_YEAR - 9, LAST_YEAR + 1))  # ten years of firm and web history
FIRST_YEAR = YEARS[0]
# External daily feeds start two years earlier, so that year-on-year changes (which the
# continuation mechanism uses with a one-year lag) exist for every history year.
FEEDS_START = dt.date(FIRST_YEAR - 2, 1, 1)
MARKET_YEARS = tuple(range(FIRST_YEAR - 2, TODAY.year + 1))
HISTORY_START = dt.date(FIRST_YEAR, 1, 1)
HISTORY_END = dt.date(LAST_YEAR, 12, 31)
MAX_ROWS_PER_FILE = 1_000_000


@dataclass(frozen=True)
class Scale:
    """Target sizes; every other dataset follows from these three."""

    name: str
    exporters: int
    buyers: int
    web_events: int


SCALES: dict[str, Scale] = {
    # "tiny" exists for fast tests; the CLI offers small, medium and large.
    "tiny": Scale("tiny", exporters=300, buyers=1_500, web_events=20_000),
    "small": Scale("small", exporters=2_000, buyers=10_000, web_events=200_000),
    "medium": Scale("medium", exporters=20_000, buyers=100_000, web_events=2_000_000),
    "large": Scale("large", exporters=100_000, buyers=1_000_000, web_events=20_000_000),
}


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent generator per (seed, stage, chunk): stable whatever runs before it."""
    entropy = [seed & 0xFFFFFFFF, seed >> 32]
    for key in keys:
        entropy.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def year_index(years: np.ndarray) -> np.ndarray:
    """Index of a history year in `MARKET_YEARS` (market tables are laid out by that axis)."""
    out: np.ndarray = np.asarray(years) - MARKET_YEARS[0]
    return out


def mix64(values: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 finaliser: a stable pseudo-random 64-bit value per integer (ids, cookies)."""
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: np.ndarray = x ^ (x >> np.uint64(31))
    return out
