"""Reciprocal scoring: both sides must be likely, and each side is learned from what that
side did."""

from __future__ import annotations

import numpy as np
import pytest

from exportintel.matching.reciprocal import reciprocal_score, reciprocal_weights
from exportintel.matching.scoring import rank_chunk
from exportintel.matching.training import MatchingModel, fit_model
from tests.matching.conftest import CUTOFF, FAST, checked
from tests.matching.world import make_world


def test_the_score_needs_both_sides() -> None:
    balanced = reciprocal_score([0.5], [0.5])[0]
    lopsided = reciprocal_score([0.9], [0.1])[0]
    assert balanced == pytest.approx(0.5)
    assert lopsided == pytest.approx(0.18)  # 2 * 0.9 * 0.1 / 1.0
    assert lopsided < balanced  # the same mean, one side unlikely: ranked lower
    assert reciprocal_score([0.0], [0.9])[0] == 0.0
    assert reciprocal_score([0.3], [0.7])[0] == reciprocal_score([0.7], [0.3])[0]
    p = np.array([0.2, 0.6])
    assert reciprocal_score(p, p) == pytest.approx(p)  # agreeing sides: their probability


def test_weights_are_the_derivatives_of_the_log_score() -> None:
    logit = np.array([-1.0, 0.5])
    slopes = (1.3, 0.7)

    def log_score(margins: np.ndarray) -> float:
        p = 1.0 / (1.0 + np.exp(-np.asarray(slopes) * margins))
        return float(np.log(reciprocal_score([p[0]], [p[1]])[0]))

    p = 1.0 / (1.0 + np.exp(-np.asarray(slopes) * logit))
    w_own, w_other = reciprocal_weights(p[:1], p[1:], *slopes)
    step = 1e-6
    numeric = [
        (log_score(logit + step * np.eye(2)[i]) - log_score(logit - step * np.eye(2)[i]))
        / (2 * step)
        for i in range(2)
    ]
    assert [w_own[0], w_other[0]] == pytest.approx(numeric, rel=1e-4)


@pytest.fixture(scope="module")
def two_minded() -> MatchingModel:
    """A world where buyers also want big exporters and exporters do not care about size."""
    world = make_world(seed=3, sessions=3_000, buyers_like_big_exporters=True)
    return fit_model(checked(world).before(CUTOFF), FAST, as_of=CUTOFF)


@pytest.mark.slow
def test_each_side_is_learned_from_who_acted(two_minded: MatchingModel) -> None:
    """In buyers' lists of exporters, making every candidate exporter big raises the buyer's
    own engagement probability far more than the exporters' (who never cared)."""
    fitted = two_minded.directions["buyer"]
    assert fitted.reciprocal
    queries = np.flatnonzero(~two_minded.snapshot.firms.blocked)[:150]
    _, ranked = rank_chunk(two_minded, "buyer", queries, 30)
    features = ranked.features
    column = "exporter:employees"
    small, big = features.copy(), features.copy()
    small[column] = np.float32(features[column].quantile(0.1))
    big[column] = np.float32(features[column].quantile(0.9))
    low, high = fitted.score(small), fitted.score(big)
    buyer_shift = np.mean(np.log(high.p_own) - np.log(low.p_own))  # the buyer acts (own)
    exporter_shift = np.mean(np.log(high.p_other) - np.log(low.p_other))  # the exporter acts
    assert buyer_shift > 0.2
    assert abs(exporter_shift) < buyer_shift / 3
