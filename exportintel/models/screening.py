"""Pearson screening of numeric features: of two near-duplicates, keep the one closer to the label.

The rule, applied in this order:

1. A feature that is constant, or known on fewer than two rows, has no correlation with
   anything and carries no information: it is dropped ("constant").
2. Pairs of the remaining features with |r| >= threshold (0.9 by default) are near-duplicates.
   They are taken from the strongest |r| down (ties by feature order); for each pair whose two
   features are both still kept, the one less correlated with the label (smaller |r| with the
   label; an undefined r counts as 0) is dropped, and on equal |r| the later one in the
   feature order. A feature already dropped does not drop another.

Everything else is kept, in the original feature order. The screen only removes redundancy:
a feature weakly correlated with the label stays (the model may use it with others).
Correlations are pairwise complete (rows where both values are known). The training job
screens on its training years only, so the test years never inform the choice; the feature
job's report (`exportintel.continuity.screening`) applies the same rule to the whole table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

THRESHOLD = 0.9

Matrix = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Drop:
    feature: str
    reason: str  # "constant" or "near-duplicate"
    kept_instead: str | None = None
    r: float | None = None


def defined(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def select_features(
    features: Sequence[str],
    matrix: Mapping[str, Mapping[str, float | None]],
    label_correlation: Mapping[str, float | None],
    threshold: float = THRESHOLD,
) -> tuple[list[str], list[Drop], list[tuple[str, str, float]]]:
    """The rule of the module docstring: (kept, dropped, high pairs strongest first)."""
    order = {f: i for i, f in enumerate(features)}
    dropped: list[Drop] = []
    # The diagonal says whether a feature varies: 1 when it does, None when constant.
    constant = {f for f in features if matrix[f][f] is None}
    dropped += [Drop(f, "constant") for f in features if f in constant]

    pairs = []
    for i, a in enumerate(features):
        for b in features[i + 1 :]:
            r = matrix[a][b]
            if a not in constant and b not in constant and r is not None and abs(r) >= threshold:
                pairs.append((a, b, r))
    pairs.sort(key=lambda p: (-abs(p[2]), order[p[0]], order[p[1]]))

    def strength(f: str) -> float:
        return abs(label_correlation.get(f) or 0.0)

    gone = set(constant)
    for a, b, r in pairs:
        if a in gone or b in gone:
            continue
        # Drop the weaker predictor of the label; on a tie, the later feature.
        loser, winner = (a, b) if strength(a) < strength(b) else (b, a)
        gone.add(loser)
        dropped.append(Drop(loser, "near-duplicate", winner, r))
    kept = [f for f in features if f not in gone]
    return kept, dropped, pairs


def pandas_pearson(
    frame: pd.DataFrame, features: Sequence[str], label: str
) -> tuple[Matrix, dict[str, float | None]]:
    """Pairwise-complete Pearson r of every feature pair and of each feature with the label."""
    values = frame[list(features)].astype("float64")
    correlations = values.corr()
    matrix: Matrix = {a: {} for a in features}
    for a in features:
        for b in features:
            matrix[a][b] = defined(correlations.loc[a, b])
        # A feature's correlation with itself: 1 when it varies, undefined when constant.
        spread = values[a].std()
        matrix[a][a] = 1.0 if defined(spread) else None
    target = frame[label].astype("float64")
    label_correlation = {
        a: defined(values[a].corr(target)) if matrix[a][a] is not None else None for a in features
    }
    return matrix, label_correlation
