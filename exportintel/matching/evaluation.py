"""Held-out evaluation of the recommender against its baselines, with bootstrap intervals.

One global time cutoff: the model (and every baseline) learns from the interactions before
it, and is judged on the pairs that engaged after it (up to `horizon_days` when given). A pair
is **relevant** for a query firm when its summed weight after the cutoff is positive, it was
not seen before the cutoff (recommendations leave seen pairs out) and the buyer is not
blocked. Both directions are judged: buyers for each exporter and exporters for each buyer.

Lists of `k` (10) per query firm, compared on the same queries:

- `popular`: the most engaged-with firms of the other side (decayed weight before the cutoff);
- `content`: the content score alone (code levels, price and volume fit, same categories);
- `cf`: the ALS dot product alone (content-imputed factors for cold firms);
- `hybrid`: the full model (candidates of all three, ranked by the reciprocal score);
- `one_sided`: the hybrid's candidates ranked by the query firm's own engagement model only:
  what reciprocity costs or gains.

Per query: Recall@k (hits / relevant pairs), NDCG@k (binary gains), MAP@k (mean precision at
the hits, over min(k, relevant)). Means over the query firms with a 95% percentile bootstrap
interval from resampling query firms (the same draws for every model, so differences are
paired: `hybrid_minus` holds hybrid - baseline with its interval). Slices: cold queries (no
interaction before the cutoff), cold items (relevance restricted to counterparts without one),
and mutual relevance (both sides acted after the cutoff; needs `actor`). Exposure: over the
lists of every query firm, the coverage (share of the other side shown at least once) and the
Gini coefficient of how often each is shown. Above `max_queries` query firms a direction is
judged on a stable uniform sample of them (metrics and exposure alike). Fair
exploration is measured the same way for each level of `explore`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from exportintel.matching.content import in_matrix, stable_unit
from exportintel.matching.data import (
    ACTOR,
    BUYER_ACTOR,
    BUYER_ID,
    EXPORTER_ACTOR,
    EXPORTER_ID,
    TS,
    WEIGHT,
    MatchingData,
    check_interactions,
    check_side,
)
from exportintel.matching.exploration import coverage, draw, exposure_counts, firm_keys, gini
from exportintel.matching.features import DIRECTIONS, Direction
from exportintel.matching.scoring import rank_all
from exportintel.matching.training import MatchingModel, MatchingOptions, fit_model
from exportintel.models.metrics import Interval
from exportintel.models.tabular import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BASELINES = ("popular", "content", "cf")
HYBRID = "hybrid"
ONE_SIDED = "one_sided"
MODELS = (*BASELINES, HYBRID, ONE_SIDED)
METRICS = ("recall", "ndcg", "map")
EXPOSURE = ("coverage", "gini")
TITLES = {"exporter": "buyers for each exporter", "buyer": "exporters for each buyer"}


@dataclass(frozen=True)
class EvaluationOptions:
    k: int = 10
    horizon_days: float | None = None  # None: everything after the cutoff
    bootstrap_resamples: int = 500
    exposure_resamples: int = 200
    level: float = 0.95
    seed: int = 7
    explore_levels: tuple[float, ...] = (0.0, 0.5, 1.0)
    max_queries: int = 50_000  # query firms ranked per direction (a stable sample above)


# --------------------------------------------------------------------------- metrics


def hit_matrix(lists: IntArray, relevant: sp.csr_matrix) -> npt.NDArray[np.bool_]:
    """Whether each listed item is relevant to its row (lists: rows x k, -1 pads)."""
    rows = np.repeat(np.arange(lists.shape[0], dtype=np.int64), lists.shape[1])
    items = lists.ravel()
    hits = np.zeros(len(items), dtype=bool)
    present = items >= 0
    if relevant.nnz:
        hits[present] = in_matrix(relevant, rows[present], items[present])
    return hits.reshape(lists.shape)


def ranking_metrics(lists: IntArray, relevant: sp.csr_matrix, k: int) -> dict[str, FloatArray]:
    """Recall@k, NDCG@k and MAP@k per row; rows without a relevant item give NaN."""
    lists = lists[:, :k]
    hits = hit_matrix(lists, relevant).astype(np.float64)
    n_relevant = np.diff(relevant.indptr).astype(np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_relevant, k).astype(np.int64) - 1]
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = hits.sum(axis=1) / n_relevant
        ndcg = (hits * discount[: lists.shape[1]]).sum(axis=1) / ideal
        average_precision = (precision * hits).sum(axis=1) / np.minimum(n_relevant, k)
    none = n_relevant == 0
    for values in (recall, ndcg, average_precision):
        values[none] = np.nan
    return {"recall": recall, "ndcg": ndcg, "map": average_precision}


def bootstrap_means(
    values: Mapping[str, FloatArray], *, resamples: int, seed: int, level: float
) -> dict[str, Interval]:
    """Mean of each vector (one value per query firm) with a percentile bootstrap interval;
    every vector is resampled with the same draws of query firms."""
    names = list(values)
    matrix = np.column_stack([np.asarray(values[n], dtype=np.float64) for n in names])
    n = matrix.shape[0]
    if n == 0:
        nan = float("nan")
        return {name: Interval(nan, nan, nan) for name in names}
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, len(names)))
    for r in range(resamples):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        draws[r] = counts @ matrix / n
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(draws, [tail, 100.0 - tail], axis=0)
    point = matrix.mean(axis=0)
    return {
        name: Interval(
            float(point[j]), min(float(lo[j]), float(point[j])), max(float(hi[j]), float(point[j]))
        )
        for j, name in enumerate(names)
    }


def exposure_intervals(
    lists: IntArray, items: int, *, resamples: int, seed: int, level: float
) -> dict[str, Interval]:
    """Coverage and Gini of exposure of the lists, with an interval from resampling rows."""
    counts = exposure_counts(lists, items)
    n = lists.shape[0]
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, 2))
    for r in range(resamples):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        resampled = exposure_counts(lists, items, weights)
        draws[r] = (coverage(resampled), gini(resampled))
    tail = 100.0 * (1.0 - level) / 2.0
    out = {}
    for j, (name, value) in enumerate((("coverage", coverage(counts)), ("gini", gini(counts)))):
        finite = draws[:, j][np.isfinite(draws[:, j])]
        if not np.isfinite(value) or len(finite) == 0:  # nothing shown at all
            out[name] = Interval(value, float("nan"), float("nan"))
            continue
        lo, hi = np.percentile(finite, [tail, 100.0 - tail])
        out[name] = Interval(value, min(float(lo), value), max(float(hi), value))
    return out


# --------------------------------------------------------------------------- result


def _interval_json(interval: Interval) -> dict[str, float | None]:
    return interval.to_json()


@dataclass
class SliceResult:
    """Ranking metrics of one slice of query firms, per model."""

    queries: int
    relevant_pairs: int
    models: dict[str, dict[str, Interval]]
    hybrid_minus: dict[str, dict[str, Interval]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "relevant_pairs": self.relevant_pairs,
            "models": {
                m: {k: _interval_json(v) for k, v in ms.items()} for m, ms in self.models.items()
            },
            "hybrid_minus": {
                m: {k: _interval_json(v) for k, v in ms.items()}
                for m, ms in self.hybrid_minus.items()
            },
        }


@dataclass
class DirectionResult:
    direction: Direction
    ranked_queries: int
    slices: dict[str, SliceResult]  # all, cold_queries, cold_items, mutual
    exposure: dict[str, dict[str, Interval]]  # per model
    exploration: dict[str, dict[str, Interval]]  # per explore level: metrics and exposure

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": TITLES[self.direction],
            "ranked_queries": self.ranked_queries,
            "slices": {name: s.to_dict() for name, s in self.slices.items()},
            "exposure": {
                m: {k: _interval_json(v) for k, v in ms.items()} for m, ms in self.exposure.items()
            },
            "exploration": {
                level: {k: _interval_json(v) for k, v in ms.items()}
                for level, ms in self.exploration.items()
            },
        }


@dataclass
class EvaluationResult:
    cutoff: pd.Timestamp
    horizon_end: pd.Timestamp | None
    options: EvaluationOptions
    directions: dict[Direction, DirectionResult]
    held_out: dict[str, int]
    training: dict[str, Any]

    def hybrid_beats_baselines(
        self, direction: Direction = "exporter", metric: str = "ndcg"
    ) -> bool:
        """Whether the hybrid's mean beats every baseline's on all held-out query firms."""
        models = self.directions[direction].slices["all"].models
        return all(models[HYBRID][metric].value > models[b][metric].value for b in BASELINES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluated_on": "held-out interactions after the cutoff only",
            "cutoff": self.cutoff.isoformat(),
            "horizon_end": None if self.horizon_end is None else self.horizon_end.isoformat(),
            "k": self.options.k,
            "metrics": {
                "recall": "hits / relevant pairs",
                "ndcg": "binary gains, log2 discount",
                "map": "mean precision at the hits over min(k, relevant pairs)",
                "coverage": "share of the other side shown at least once",
                "gini": "Gini coefficient of how often each firm of the other side is shown",
            },
            "bootstrap": {
                "resamples": self.options.bootstrap_resamples,
                "exposure_resamples": self.options.exposure_resamples,
                "unit": "query firm (exporter for buyer lists, buyer for exporter lists)",
                "level": self.options.level,
                "seed": self.options.seed,
            },
            "held_out": self.held_out,
            "directions": {d: r.to_dict() for d, r in self.directions.items()},
            "training": self.training,
            "options": asdict(self.options),
        }

    def table(self) -> str:
        """The results as plain-text tables, one per direction and slice."""
        k = self.options.k
        lines = [
            f"held out: after {self.cutoff:%Y-%m-%d}"
            + (f" to {self.horizon_end:%Y-%m-%d}" if self.horizon_end else "")
        ]
        for direction, result in self.directions.items():
            for name, part in result.slices.items():
                lines.append("")
                lines.append(
                    f"{TITLES[direction]}, {name.replace('_', ' ')}: {part.queries} "
                    f"query firms, {part.relevant_pairs} relevant pairs"
                )
                header = f"{'model':<10}" + "".join(f"{m + '@' + str(k):>24}" for m in METRICS)
                if name == "all":
                    header += "".join(f"{m:>24}" for m in EXPOSURE)
                lines.append(header)
                for model, values in part.models.items():
                    row = f"{model:<10}" + "".join(_cell(values[m]) for m in METRICS)
                    if name == "all":
                        row += "".join(_cell(result.exposure[model][m]) for m in EXPOSURE)
                    lines.append(row)
            lines.append("")
            lines.append(
                f"{TITLES[direction]}, exploration (shown {k} of the stored top candidates)"
            )
            lines.append(f"{'explore':<10}" + "".join(f"{m:>24}" for m in (*METRICS, *EXPOSURE)))
            for level, values in result.exploration.items():
                lines.append(
                    f"{level:<10}" + "".join(_cell(values[m]) for m in (*METRICS, *EXPOSURE))
                )
        return "\n".join(lines)


def _cell(interval: Interval) -> str:
    if not np.isfinite(interval.value):
        return f"{'-':>24}"
    return f"{interval.value:>8.4f} [{interval.lo:.4f}, {interval.hi:.4f}]"


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Lists:
    """Every model's list per ranked query firm, and the hybrid's stored scores."""

    queries: IntArray
    lists: dict[str, IntArray]
    stored_items: IntArray
    stored_scores: FloatArray


def _collect(model: MatchingModel, direction: Direction, queries: IntArray, k: int) -> _Lists:
    stored = model.options.candidates
    lists: dict[str, list[IntArray]] = {m: [] for m in MODELS}
    items, scores = [], []
    for candidates, ranked in rank_all(model, direction, queries, stored):
        lists["popular"].append(candidates.popular[0][:, :k])
        lists["content"].append(candidates.content[0][:, :k])
        lists["cf"].append(candidates.cf[0][:, :k])
        lists[HYBRID].append(ranked.items[:, :k])
        own = np.where(np.isfinite(ranked.p_own), ranked.p_own, -np.inf)
        order = np.argsort(-own, axis=1, kind="stable")[:, :k]
        lists[ONE_SIDED].append(np.take_along_axis(ranked.items, order, axis=1))
        items.append(ranked.items)
        scores.append(ranked.score)
    return _Lists(
        queries,
        {m: _pad(np.vstack(v), k) for m, v in lists.items()},
        np.vstack(items),
        np.vstack(scores),
    )


def _pad(lists: IntArray, k: int) -> IntArray:
    if lists.shape[1] >= k:
        return lists[:, :k]
    return np.hstack([lists, np.full((lists.shape[0], k - lists.shape[1]), -1)])


def _slice(
    lists: dict[str, IntArray],
    relevant: sp.csr_matrix,
    rows: npt.NDArray[np.bool_],
    options: EvaluationOptions,
    models: tuple[str, ...] = MODELS,
) -> SliceResult:
    """Ranking metrics of the rows with a relevant pair among `rows`."""
    has_relevant = rows & (np.diff(relevant.indptr) > 0)
    chosen = np.flatnonzero(has_relevant)
    per_query: dict[str, FloatArray] = {}
    for name in models:
        metrics = ranking_metrics(lists[name][chosen], relevant[chosen], options.k)
        for metric, values in metrics.items():
            per_query[f"{name}.{metric}"] = values
    compared = [b for b in BASELINES if b in models and HYBRID in models]
    for baseline in compared:
        for metric in METRICS:
            per_query[f"minus.{baseline}.{metric}"] = (
                per_query[f"{HYBRID}.{metric}"] - per_query[f"{baseline}.{metric}"]
            )
    intervals = bootstrap_means(
        per_query, resamples=options.bootstrap_resamples, seed=options.seed, level=options.level
    )
    return SliceResult(
        queries=len(chosen),
        relevant_pairs=int(relevant[chosen].nnz),
        models={m: {metric: intervals[f"{m}.{metric}"] for metric in METRICS} for m in models},
        hybrid_minus={
            b: {metric: intervals[f"minus.{b}.{metric}"] for metric in METRICS} for b in compared
        },
    )


def _held_out_matrices(
    events: pd.DataFrame, model: MatchingModel
) -> tuple[sp.csr_matrix, sp.csr_matrix | None, dict[str, int]]:
    """Relevant pairs (any side) and mutual pairs (both sides acted), exporters x buyers."""
    firms = model.snapshot.firms
    e = firms.exporter_positions(events[EXPORTER_ID])
    b = firms.buyer_positions(events[BUYER_ID])
    known = (e >= 0) & (b >= 0)
    shape = (len(firms.exporters), len(firms.buyers))
    weight = events[WEIGHT].to_numpy(dtype=np.float64)

    def summed(mask: npt.NDArray[np.bool_]) -> sp.csr_matrix:
        keep = known & mask
        matrix = sp.csr_matrix((weight[keep], (e[keep], b[keep])), shape=shape)
        matrix.sum_duplicates()
        return matrix

    def usable(matrix: sp.csr_matrix) -> sp.csr_matrix:
        coo = matrix.tocoo()
        keep = (coo.data > 0) & ~firms.blocked[coo.col]
        rows, cols = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
        keep2 = (
            ~in_matrix(model.snapshot.seen, rows, cols)
            if model.snapshot.seen.nnz
            else (np.ones(len(rows), bool))
        )
        out = sp.csr_matrix(
            (np.ones(int(keep2.sum()), np.float32), (rows[keep2], cols[keep2])), shape=shape
        )
        return out

    relevant = usable(summed(np.ones(len(events), dtype=bool)))
    mutual = None
    if ACTOR in events.columns:
        actor = events[ACTOR].to_numpy()
        by_exporter = usable(summed(actor == EXPORTER_ACTOR))
        by_buyer = usable(summed(actor == BUYER_ACTOR))
        mutual = by_exporter.multiply(by_buyer).tocsr()
        mutual.eliminate_zeros()
    counts = {
        "interactions": len(events),
        "interactions_of_unknown_firms": int((~known).sum()),
        "relevant_pairs": int(relevant.nnz),
        "mutual_pairs": int(mutual.nnz) if mutual is not None else 0,
    }
    return relevant, mutual, counts


def _queries(model: MatchingModel, direction: Direction, options: EvaluationOptions) -> IntArray:
    """Every query firm of the direction, or a stable uniform sample of `max_queries` of them
    when there are more: the metrics and the exposure are measured on the same firms."""
    firms = model.snapshot.firms
    n = len(firms.exporters) if direction == "exporter" else len(firms.buyers)
    eligible = np.ones(n, dtype=bool) if direction == "exporter" else ~firms.blocked
    chosen = np.flatnonzero(eligible)
    if len(chosen) > options.max_queries:
        order = np.argsort(stable_unit(chosen, options.seed), kind="stable")
        chosen = np.sort(chosen[order[: options.max_queries]])
    return chosen.astype(np.int64)


def evaluate_direction(
    model: MatchingModel,
    direction: Direction,
    relevant_pairs: sp.csr_matrix,
    mutual_pairs: sp.csr_matrix | None,
    options: EvaluationOptions,
) -> DirectionResult:
    """Every model, slice, exposure and exploration level of one direction."""
    firms = model.snapshot.firms
    by_query = relevant_pairs if direction == "exporter" else relevant_pairs.T.tocsr()
    queries = _queries(model, direction, options)
    collected = _collect(model, direction, queries, options.k)
    relevant = by_query[queries]
    seen = model.snapshot.seen if direction == "exporter" else model.snapshot.seen.T.tocsr()
    history = np.diff(seen.indptr)
    cold_queries = history[queries] == 0
    item_history = np.bincount(seen.indices, minlength=seen.shape[1])
    cold_items = relevant @ sp.diags((item_history == 0).astype(np.float32))
    cold_items = sp.csr_matrix(cold_items)
    cold_items.eliminate_zeros()
    everything = np.ones(len(queries), dtype=bool)
    slices = {
        "all": _slice(collected.lists, relevant, everything, options),
        "cold_queries": _slice(collected.lists, relevant, cold_queries, options),
        "cold_items": _slice(collected.lists, cold_items, everything, options),
    }
    if mutual_pairs is not None and mutual_pairs.nnz:
        mutual = (mutual_pairs if direction == "exporter" else mutual_pairs.T.tocsr())[queries]
        slices["mutual"] = _slice(collected.lists, mutual, everything, options)
    n_items = len(firms.buyers) if direction == "exporter" else len(firms.exporters)
    exposure = {
        name: exposure_intervals(
            lists,
            n_items,
            resamples=options.exposure_resamples,
            seed=options.seed,
            level=options.level,
        )
        for name, lists in collected.lists.items()
    }
    ids = firms.exporters if direction == "exporter" else firms.buyers
    keys = firm_keys(ids[queries])
    exploration: dict[str, dict[str, Interval]] = {}
    for level in options.explore_levels:
        picks = draw(collected.stored_scores, options.k, level, keys=keys, seed=options.seed)
        chosen = np.take_along_axis(collected.stored_items, np.maximum(picks, 0), axis=1)
        shown = np.where(picks >= 0, chosen, -1)
        metrics = _slice({HYBRID: shown}, relevant, everything, options, models=(HYBRID,))
        exploration[f"{level:g}"] = {
            **metrics.models[HYBRID],
            **exposure_intervals(
                shown,
                n_items,
                resamples=options.exposure_resamples,
                seed=options.seed,
                level=options.level,
            ),
        }
    return DirectionResult(direction, len(queries), slices, exposure, exploration)


def held_out_cutoff(data: MatchingData, test_days: float) -> pd.Timestamp:
    """The start of the held-out window: `test_days` before the end of the data."""
    end = data.last_moment + pd.Timedelta(1, "s")
    return end - pd.Timedelta(days=test_days)


def evaluate_data(
    data: MatchingData,
    cutoff: Any,
    options: MatchingOptions | None = None,
    evaluation: EvaluationOptions | None = None,
) -> tuple[EvaluationResult, MatchingModel]:
    """Fit on everything before `cutoff`, judge on what came after; also returns the model."""
    options = options or MatchingOptions()
    evaluation = evaluation or EvaluationOptions()
    moment = pd.Timestamp(cutoff)
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    times = data.interactions[TS]
    end = (
        None
        if evaluation.horizon_days is None
        else moment + pd.Timedelta(days=evaluation.horizon_days)
    )
    after = (times >= moment) & (times < end if end is not None else True)
    if not after.any():
        raise DataError(
            f"no interaction at or after the cutoff {moment:%Y-%m-%d}: nothing to "
            "evaluate on; choose an earlier cutoff"
        )
    if not (times < moment).any():
        raise DataError(
            f"no interaction before the cutoff {moment:%Y-%m-%d}: nothing to learn "
            "from; choose a later cutoff"
        )
    model = fit_model(data.before(moment), options, as_of=moment)
    relevant, mutual, counts = _held_out_matrices(data.interactions[after], model)
    if relevant.nnz == 0:
        raise DataError(
            f"no new pair engaged after the cutoff {moment:%Y-%m-%d} among the known firms: "
            "nothing to evaluate on"
        )
    directions = {d: evaluate_direction(model, d, relevant, mutual, evaluation) for d in DIRECTIONS}
    result = EvaluationResult(moment, end, evaluation, directions, counts, model.report)
    return result, model


def evaluate(
    interactions: pd.DataFrame,
    exporters: pd.DataFrame | None = None,
    buyers: pd.DataFrame | None = None,
    *,
    cutoff: Any,
    options: MatchingOptions | None = None,
    evaluation: EvaluationOptions | None = None,
) -> EvaluationResult:
    """Held-out evaluation of the hybrid and its baselines on any interaction data (the
    columns of `data.read_channel`): fit before `cutoff`, judge after it."""
    data = MatchingData(
        check_interactions(interactions),
        None if exporters is None else check_side(exporters, EXPORTER_ID, "exporters"),
        None if buyers is None else check_side(buyers, BUYER_ID, "buyers"),
    )
    result, _ = evaluate_data(data, cutoff, options, evaluation)
    return result
