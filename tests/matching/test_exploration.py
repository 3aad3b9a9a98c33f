"""Fair exploration: explore=0 is the plain top, draws follow the scores and the seed, and the
exposure measures are right on known counts."""

from __future__ import annotations

import numpy as np
import pytest

from exportintel.matching.exploration import coverage, draw, exposure_counts, firm_keys, gini

SCORES = np.array([0.5, 0.3, 0.2])


def test_explore_zero_is_exactly_the_top_by_score() -> None:
    scores = np.array([[0.1, 0.9, np.nan, 0.5], [0.3, 0.3, 0.2, 0.8]])
    picks = draw(scores, 3, 0.0, keys=firm_keys(["A", "B"]), seed=1)
    assert picks.tolist() == [[1, 3, 0], [3, 0, 1]]  # ties keep the stored order
    # Seeds do not matter without exploration.
    assert np.array_equal(picks, draw(scores, 3, 0.0, keys=firm_keys(["A", "B"]), seed=99))


def test_empty_slots_are_never_drawn() -> None:
    scores = np.array([[0.4, np.nan, np.nan]])
    assert draw(scores, 3, 1.0, keys=firm_keys(["A"]), seed=3).tolist() == [[0, -1, -1]]


def test_draws_are_reproducible_with_the_seed_and_differ_without() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random((200, 20))
    keys = firm_keys([f"EXP{i:06d}" for i in range(200)])
    first = draw(scores, 10, 0.7, keys=keys, seed=11)
    assert np.array_equal(first, draw(scores, 10, 0.7, keys=keys, seed=11))
    assert not np.array_equal(first, draw(scores, 10, 0.7, keys=keys, seed=12))
    # A firm's draw does not depend on which other firms are drawn with it.
    assert np.array_equal(first[50:60], draw(scores[50:60], 10, 0.7, keys=keys[50:60], seed=11))
    assert (np.sort(first, axis=1) == np.sort(np.unique(first, axis=None))[None, :10]).any() or (
        all(len(set(row)) == 10 for row in first)
    )


@pytest.mark.parametrize("explore", [1.0, 0.5])
def test_first_pick_follows_score_to_the_power_one_over_explore(explore: float) -> None:
    n = 20_000
    scores = np.tile(SCORES, (n, 1))
    picks = draw(scores, 1, explore, keys=np.arange(n, dtype=np.int64), seed=5)[:, 0]
    observed = np.bincount(picks, minlength=3) / n
    weights = SCORES ** (1.0 / explore)
    expected = weights / weights.sum()
    # Three standard errors of a proportion over 20 000 draws: about 0.01.
    assert observed == pytest.approx(expected, abs=0.01)
    # Higher scores are drawn more often; every candidate has a chance.
    assert observed[0] > observed[1] > observed[2] > 0.0


def test_explore_must_be_a_share() -> None:
    with pytest.raises(ValueError, match=r"explore must be within 0\.\.1"):
        draw(np.array([[0.5]]), 1, 1.5, keys=firm_keys(["A"]), seed=0)


def test_coverage_and_gini_of_known_exposure() -> None:
    lists = np.array([[0, 1], [0, 1], [0, -1]])
    counts = exposure_counts(lists, 4)
    assert counts.tolist() == [3.0, 2.0, 0.0, 0.0]
    assert coverage(counts) == 0.5
    assert gini(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # (n - 1) / n
    assert gini(counts) == pytest.approx(0.55)  # sum |xi - xj| / (2 n^2 mean) = 22 / 40
