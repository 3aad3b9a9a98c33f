"""Scoring: the top markets of every exporter, and of a novice per HS chapter and size band.

The as-of year is the last year of export records. Every exporter in the directory is scored,
novices and firms that never exported included; a country the firm already exports to is
marked (`current_markets`) and never suggested. The cold-start lists answer for a firm that
joined after the scoring: a firm with no history, the chapter's median price range, and the
given size band.
"""

from __future__ import annotations

import pandas as pd

from exportintel.contracts.continuity import SIZE_BANDS
from exportintel.contracts.markets import EVIDENCE_TERMS, SUGGESTION_COUNT
from exportintel.markets.evidence import Evidence, MarketWorld
from exportintel.markets.model import MarketModel, softmax_by
from exportintel.markets.reasons import reasons

COLD_PREFIX = "_cold"
OUTPUT_COLUMNS = (
    "firm_id", "as_of_year", "rank", "country_code", "score",
    *(f"{t}_term" for t in EVIDENCE_TERMS),
    "hs_chapter", "size_band", "novice", "reasons_en", "reasons_ko", "model_version",
)  # fmt: skip


def cold_firm_id(hs_chapter: str, size_band: str) -> str:
    return f"{COLD_PREFIX}#{hs_chapter}#{size_band}"


def suggest(
    evidence: Evidence, model: MarketModel, version: str, k: int = SUGGESTION_COUNT
) -> pd.DataFrame:
    """The top `k` new countries per firm, with scores, contributions and reasons."""
    rows = evidence.candidates().reset_index(drop=True)
    contributions = model.contributions(rows)
    utility = contributions.sum(axis=1).to_numpy()
    rows = pd.concat([rows, contributions], axis=1)
    rows["score"] = softmax_by(utility, rows["firm_id"].to_numpy())
    rows["utility"] = utility
    rows = rows.sort_values(["firm_id", "utility", "country_code"], ascending=[True, False, True],
                            kind="stable")  # fmt: skip
    rows["rank"] = rows.groupby("firm_id").cumcount() + 1
    top = rows[rows["rank"] <= k].reset_index(drop=True)
    said = [reasons(row, evidence.as_of_year) for row in top.to_dict("records")]
    top["reasons_en"] = [en for en, _ in said]
    top["reasons_ko"] = [ko for _, ko in said]
    top["as_of_year"] = evidence.as_of_year
    top["model_version"] = version
    top["novice"] = top["novice"].astype(bool)
    return top[list(OUTPUT_COLUMNS)]


def cold_start_firms(world: MarketWorld) -> pd.DataFrame:
    """A firm with no history per HS chapter of the directory and size band."""
    firms = world.exporters
    prices = firms.groupby("hs_chapter")[["price_min_usd", "price_max_usd"]].median()
    rows = []
    for chapter, price in prices.iterrows():
        for band in SIZE_BANDS:
            rows.append(
                {
                    "firm_id": cold_firm_id(str(chapter), band),
                    "hs_chapter": str(chapter),
                    "chapters": [str(chapter)],
                    "price_min_usd": float(price["price_min_usd"]),
                    "price_max_usd": float(price["price_max_usd"]),
                    "size_band": band,
                }
            )
    return pd.DataFrame(rows)


def current_markets(evidence: Evidence) -> pd.DataFrame:
    """Every (firm, country) the firm exported to by the as-of year."""
    rows = evidence.rows[evidence.rows["already"]]
    return rows[["firm_id", "country_code"]].reset_index(drop=True)


def score_all(
    world: MarketWorld, model: MarketModel, version: str, year: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """suggestions, cold-start lists and current markets as of `year` (default: the last
    year of export records)."""
    year = world.tables.last_year if year is None else year
    evidence = world.evidence(year)
    cold = world.evidence(year, cold_start_firms(world))
    suggestions = suggest(evidence, model, version)
    cold_lists = suggest(cold, model, version)
    if suggestions["firm_id"].nunique() != evidence.firms["firm_id"].nunique():
        missing = set(evidence.firms["firm_id"]) - set(suggestions["firm_id"])
        raise RuntimeError(f"{len(missing)} firms got no suggestion, e.g. {sorted(missing)[:3]}")
    return suggestions, cold_lists, current_markets(evidence)


def top_countries(suggestions: pd.DataFrame, n: int = 10) -> pd.Series:
    """How often each country is suggested first (for summaries)."""
    first = suggestions[suggestions["rank"] == 1]
    counts: pd.Series = first["country_code"].value_counts().head(n)
    return counts
