"""Discrimination and calibration of probabilities, with firm-clustered bootstrap intervals.

Every metric accepts row weights, so a bootstrap resample is a vector of counts rather than a
copied table: one sort of the scores serves all resamples. Resampling is by firm, because a
firm appears in several test years and its rows are not independent of each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

METRICS = ("auc", "ks", "brier", "ece")
ECE_BINS = 10

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Interval:
    """A metric on the full sample and its bootstrap interval."""

    value: float
    lo: float
    hi: float

    def to_json(self) -> dict[str, float | None]:
        return {"value": _finite(self.value), "lo": _finite(self.lo), "hi": _finite(self.hi)}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class _Prepared:
    """Scores sorted into tie groups and calibration bins once, for any number of weightings."""

    def __init__(self, y: npt.ArrayLike, p: npt.ArrayLike, bins: int = ECE_BINS) -> None:
        self.y = np.asarray(y, dtype=np.float64)
        self.p = np.asarray(p, dtype=np.float64)
        if self.y.shape != self.p.shape or self.y.ndim != 1:
            raise ValueError("labels and probabilities must be 1-d arrays of the same length")
        if not np.isin(self.y, (0.0, 1.0)).all():
            raise ValueError("labels must be 0 or 1")
        # Ascending unique scores; tied scores form one group (half credit in the AUC).
        _, self.group = np.unique(self.p, return_inverse=True)
        self.groups = int(self.group.max()) + 1 if len(self.p) else 0
        self.bins = bins
        self.bin = np.minimum((np.clip(self.p, 0.0, 1.0) * bins).astype(np.int64), bins - 1)

    def metrics(self, w: FloatArray | None = None) -> dict[str, float]:
        w = np.ones_like(self.y) if w is None else w
        wy, wn = w * self.y, w * (1.0 - self.y)
        pos = np.bincount(self.group, weights=wy, minlength=self.groups)
        neg = np.bincount(self.group, weights=wn, minlength=self.groups)
        n_pos, n_neg, total = pos.sum(), neg.sum(), w.sum()
        if n_pos > 0 and n_neg > 0:
            neg_below = np.cumsum(neg) - neg
            auc = float((pos * (neg_below + 0.5 * neg)).sum() / (n_pos * n_neg))
            ks = float(np.max(np.abs(np.cumsum(pos) / n_pos - np.cumsum(neg) / n_neg)))
        else:
            auc = ks = float("nan")
        brier = float((w * (self.p - self.y) ** 2).sum() / total)
        # Expected calibration error over equal-width bins: sum_b (n_b / n) |mean y - mean p|,
        # which is sum_b |sum y - sum p| / n.
        sum_y = np.bincount(self.bin, weights=wy, minlength=self.bins)
        sum_p = np.bincount(self.bin, weights=w * self.p, minlength=self.bins)
        ece = float(np.abs(sum_y - sum_p).sum() / total)
        return {"auc": auc, "ks": ks, "brier": brier, "ece": ece}


def binary_metrics(y: npt.ArrayLike, p: npt.ArrayLike) -> dict[str, float]:
    """AUC, KS, Brier score and expected calibration error (10 equal-width bins)."""
    return _Prepared(y, p).metrics()


def bootstrap_metrics(
    y: npt.ArrayLike,
    scores: Mapping[str, npt.ArrayLike],
    clusters: Sequence[Any] | npt.ArrayLike,
    *,
    resamples: int = 500,
    seed: int = 7,
    level: float = 0.95,
) -> dict[str, dict[str, Interval]]:
    """For each named score vector, every metric with a percentile bootstrap interval.

    Resamples draw clusters (firms) with replacement; the same draws serve every score vector, so
    models are compared on identical resamples. Percentile intervals of a biased statistic (the
    ECE of a resample is larger on average than the ECE of the sample) can miss the point
    estimate; the interval is then widened to include it, so `lo <= value <= hi` always holds.
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    _, cluster = np.unique(np.asarray(clusters), return_inverse=True)
    n_clusters = int(cluster.max()) + 1
    prepared = {name: _Prepared(y, p) for name, p in scores.items()}
    points = {name: prep.metrics() for name, prep in prepared.items()}
    draws = {name: {m: np.empty(resamples) for m in METRICS} for name in scores}
    rng = np.random.default_rng(seed)
    for r in range(resamples):
        counts = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)
        weights = counts[cluster].astype(np.float64)
        for name, prep in prepared.items():
            for metric, value in prep.metrics(weights).items():
                draws[name][metric][r] = value
    tail = 100.0 * (1.0 - level) / 2.0
    result: dict[str, dict[str, Interval]] = {}
    for name in scores:
        result[name] = {}
        for metric in METRICS:
            value = points[name][metric]
            sample = draws[name][metric]
            sample = sample[np.isfinite(sample)]  # single-class resamples have no AUC
            if not np.isfinite(value) or len(sample) == 0:
                result[name][metric] = Interval(value, float("nan"), float("nan"))
                continue
            lo, hi = np.percentile(sample, [tail, 100.0 - tail])
            result[name][metric] = Interval(value, min(float(lo), value), max(float(hi), value))
    return result
