"""Reciprocal scoring: a recommendation must be likely to engage both sides.

Learned from who acted. For a query firm q (an exporter looking for buyers, or a buyer
looking for exporters) and a candidate c, two rankers are fitted on the same candidates and
features with different labels: `own`, graded by what q itself did towards c in the label
window, and `other`, graded by what c did towards q. An event whose actor is neither side
(an agency request, an unknown actor) counts for both. Each ranker's margin becomes a
probability with a Platt map fitted on held-back query groups (`Calibrator`), and the score
is their harmonic mean

    score = 2 p_own p_other / (p_own + p_other)

which stays low unless both are high: a buyer that every exporter courts but that never
answers ranks below one that answers. Without an `actor` column, or with too few query
firms where each side acted, one ranker (`any`, every event) stands for both sides and the
score is its probability.

Reasons come from both rankers: to first order, a feature moves ln(score) by

    w_own c_own + w_other c_other,   w_s = slope_s (1 - p_s) p_s' / (p_s + p_s')

where c_s is the feature's SHAP value in ranker s, slope_s the Platt slope and s' the other
side. The weights are the derivatives of ln(harmonic mean) with respect to each margin, so the
combined contributions rank the features by how much they lift this pair's score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.matching.features import Direction
from exportintel.matching.ranker import PairRanker
from exportintel.models.estimators import Calibrator

FloatArray = npt.NDArray[np.float64]
OWN, OTHER, ANY = "own", "other", "any"


def reciprocal_score(p_own: npt.ArrayLike, p_other: npt.ArrayLike) -> FloatArray:
    """Harmonic mean of the two sides' probabilities (0 when either is 0)."""
    a = np.asarray(p_own, dtype=np.float64)
    b = np.asarray(p_other, dtype=np.float64)
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, 2.0 * a * b / total, 0.0)
    return np.asarray(out, dtype=np.float64)


def reciprocal_weights(
    p_own: FloatArray, p_other: FloatArray, slope_own: float, slope_other: float
) -> tuple[FloatArray, FloatArray]:
    """d ln(score) / d margin for each side's ranker (see the module docstring)."""
    total = np.maximum(p_own + p_other, 1e-12)
    return (
        slope_own * (1.0 - p_own) * p_other / total,
        slope_other * (1.0 - p_other) * p_own / total,
    )


@dataclass
class Scored:
    """Scores of candidate pairs: the reciprocal score and each side's probability."""

    score: FloatArray
    p_own: FloatArray
    p_other: FloatArray


@dataclass
class DirectionModel:
    """The rankers of one direction and their calibration."""

    direction: Direction
    rankers: dict[str, PairRanker]  # own and other, or any
    calibrators: dict[str, Calibrator]

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(self.rankers)

    @property
    def reciprocal(self) -> bool:
        return OWN in self.rankers

    def score(self, features: pd.DataFrame) -> Scored:
        if not self.reciprocal:
            p = self.calibrators[ANY].apply(self.rankers[ANY].margin(features))
            return Scored(p, p, p)
        p_own = self.calibrators[OWN].apply(self.rankers[OWN].margin(features))
        p_other = self.calibrators[OTHER].apply(self.rankers[OTHER].margin(features))
        return Scored(reciprocal_score(p_own, p_other), p_own, p_other)

    def contributions(
        self, features: pd.DataFrame, scored: Scored, *, approximate: bool = False
    ) -> FloatArray:
        """Each feature's first-order effect on ln(score), rows x features."""
        if not self.reciprocal:
            slope = _slope(self.calibrators[ANY])
            weight = slope * (1.0 - scored.p_own)
            shap = self.rankers[ANY].contributions(features, approximate=approximate)
            return np.asarray(weight[:, None] * shap)
        w_own, w_other = reciprocal_weights(
            scored.p_own,
            scored.p_other,
            _slope(self.calibrators[OWN]),
            _slope(self.calibrators[OTHER]),
        )
        own = self.rankers[OWN].contributions(features, approximate=approximate)
        other = self.rankers[OTHER].contributions(features, approximate=approximate)
        return np.asarray(w_own[:, None] * own + w_other[:, None] * other)

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "sides": list(self.rankers),
            "calibration": {side: c.to_json() for side, c in self.calibrators.items()},
            "best_iteration": {side: r.best_iteration for side, r in self.rankers.items()},
            "validation_ndcg@10": {side: r.validation_ndcg for side, r in self.rankers.items()},
            "params": next(iter(self.rankers.values())).params,
        }


def _slope(calibrator: Calibrator) -> float:
    """Slope of the calibrated probability's logit against the margin (1 for no Platt map)."""
    return calibrator.a if calibrator.method == "platt" else 1.0
