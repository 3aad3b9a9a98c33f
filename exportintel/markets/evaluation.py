"""Held-out evaluation: does the model name the country a firm enters next?

The last `test_years` years with entries are held out; the model is fitted on the entries of the
years before them only, and every held-out entry is ranked with the evidence of the year before
it. Per (firm, year) with at least one new destination:

- hit@5: one of the countries it entered is among the top 5 of its ranking;
- reciprocal rank of the best-placed country it entered.

Against two baselines on the same choice sets: "largest importers" (Korea's exports of the
firm's chapter to the country, the demand term alone) and "fastest-growing importers" (the
growth term alone). Intervals: percentile bootstrap over firms (a firm's entries stay together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exportintel.contracts.markets import SUGGESTION_COUNT
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.model import MarketModel, NoEntries, choice_sets, fit

BASELINES = {"largest_importers": "demand", "fastest_growing": "growth"}
FIRST_ENTRY_GAP = 1  # entries are counted from the second history year (one year of evidence)


@dataclass(frozen=True)
class Split:
    train: tuple[int, ...]
    test: tuple[int, ...]


def split_years(world: MarketWorld, test_years: int) -> Split:
    """Entry years: every history year after the first; the last `test_years` held out."""
    years = sorted(int(y) for y in world.presence["year"].unique())
    entry_years = years[FIRST_ENTRY_GAP:]
    if len(entry_years) <= test_years:
        raise NoEntries(
            f"{len(entry_years)} entry years in the lake; need more than the {test_years} held out"
        )
    return Split(tuple(entry_years[:-test_years]), tuple(entry_years[-test_years:]))


def ranks(rows: pd.DataFrame, score: np.ndarray) -> np.ndarray:
    """Rank of each row within its choice set by score (1 = best; ties by country code)."""
    frame = pd.DataFrame(
        {"set_id": rows["set_id"].to_numpy(), "score": -score, "country": rows["country_code"]}
    )
    order = frame.sort_values(["set_id", "score", "country"], kind="stable").index
    out = np.empty(len(frame), dtype=np.int64)
    out[order] = frame.loc[order].groupby("set_id").cumcount().to_numpy() + 1
    return out


def per_set(rows: pd.DataFrame, score: np.ndarray, k: int = SUGGESTION_COUNT) -> pd.DataFrame:
    """hit@k and reciprocal rank per choice set."""
    rank = ranks(rows, score)
    best = (
        pd.Series(np.where(rows["chosen"], rank, np.iinfo(np.int64).max))
        .groupby(rows["set_id"].to_numpy())
        .min()
    )
    firm = rows.groupby("set_id")["firm_id"].first()
    novice = rows.groupby("set_id")["novice"].first()
    return pd.DataFrame({"firm_id": firm, "novice": novice, "hit": best <= k, "rr": 1.0 / best})


def bootstrap(
    results: dict[str, pd.DataFrame], column: str, *, resamples: int, seed: int
) -> dict[str, dict[str, float]]:
    """Mean of `column` per method with a 95% percentile interval, and the model's lead over
    each baseline (`model_minus_<baseline>`), paired: every method is measured on the same
    resampled firms, so the lead's interval is narrower than the two intervals side by side."""
    firms = np.array(sorted(next(iter(results.values()))["firm_id"].unique()))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(firms), (resamples, len(firms)))
    point, resampled = {}, {}
    for method, table in results.items():
        by_firm = table.groupby("firm_id")[column].agg(["sum", "count"]).reindex(firms)
        sums, counts = by_firm["sum"].to_numpy(float), by_firm["count"].to_numpy(float)
        point[method] = sums.sum() / counts.sum()
        resampled[method] = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    for baseline in BASELINES:
        if "model" in results and baseline in results:
            lead = f"model_minus_{baseline}"
            point[lead] = point["model"] - point[baseline]
            resampled[lead] = resampled["model"] - resampled[baseline]
    out = {}
    for name, value in point.items():
        lo, hi = np.percentile(resampled[name], [2.5, 97.5])
        out[name] = {
            "value": round(float(value), 4),
            "lo": round(float(lo), 4),
            "hi": round(float(hi), 4),
        }
    return out


def evaluate(
    world: MarketWorld,
    *,
    test_years: int = 3,
    resamples: int = 500,
    seed: int = 7,
    l2: float = 1.0,
    sets: pd.DataFrame | None = None,
) -> tuple[MarketModel, dict[str, Any]]:
    """Fit on the earlier years, measure on the held-out later ones; returns the model
    fitted on the training years and the metrics. `sets`: the `choice_sets` of every entry
    year when the caller has them already (the training job refits on all of them)."""
    split = split_years(world, test_years)
    if sets is None:
        sets = choice_sets(world, (*split.train, *split.test))
    model = fit(sets[sets["year"].isin(split.train)], l2=l2)
    test = sets[sets["year"].isin(split.test)].reset_index(drop=True)
    scores = {"model": model.utilities(test)}
    for name, term in BASELINES.items():
        scores[name] = test[term].to_numpy(float)
    results = {method: per_set(test, score) for method, score in scores.items()}
    novices = {m: r[r["novice"]] for m, r in results.items()}
    metrics: dict[str, Any] = {
        "train_years": list(split.train),
        "held_out": {
            "years": list(split.test),
            "events": len(results["model"]),
            "firms": int(results["model"]["firm_id"].nunique()),
            "candidates_per_event": round(len(test) / max(len(results["model"]), 1), 1),
            f"hit_at_{SUGGESTION_COUNT}": bootstrap(results, "hit", resamples=resamples, seed=seed),
            "mrr": bootstrap(results, "rr", resamples=resamples, seed=seed),
            "novice_events": len(novices["model"]),
        },
        "weights_held_out_fit": model.weights,
    }
    if len(novices["model"]):
        metrics["held_out"][f"novice_hit_at_{SUGGESTION_COUNT}"] = bootstrap(
            novices, "hit", resamples=resamples, seed=seed
        )
    return model, metrics
