"""Collaborative filtering: ALS finds the communities of a block matrix, cold firms get factors
from their codes, retrieval leaves out what it must."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from exportintel.matching.collaborative import (
    CFParams,
    CollaborativeModel,
    impute_factors,
    pair_scores,
    preference_matrix,
    top_items,
)

PARAMS = CFParams(factors=4, regularization=1.0, alpha=5.0, iterations=10, threads=1)


def two_communities(seed: int = 0) -> sp.csr_matrix:
    """Exporters 0-19 engage buyers 0-29, exporters 20-39 buyers 30-59, a third of the cells
    filled at random; exporter 40 has no interaction."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for e in range(40):
        block = range(30) if e < 20 else range(30, 60)
        for b in block:
            if rng.random() < 0.33:
                rows.append(e)
                cols.append(b)
    return preference_matrix(np.array(rows), np.array(cols), np.ones(len(rows)), (41, 60))


def test_preferences_sum_and_drop_non_positive_pairs() -> None:
    matrix = preference_matrix(
        np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), np.array([0.5, 1.0, 0.5, -1.0]), (2, 2)
    )
    assert matrix.toarray().tolist() == [[1.5, 0.0], [0.0, 0.0]]
    assert matrix.dtype == np.float32


def test_als_recommends_within_the_community_and_is_reproducible() -> None:
    matrix = two_communities()
    model = CollaborativeModel.fit(matrix, PARAMS)
    again = CollaborativeModel.fit(matrix, PARAMS)
    assert np.array_equal(model.exporter_factors, again.exporter_factors)
    ids, scores = top_items(model.exporter_factors[:40], model.buyer_factors, 5,
                            exclude=matrix[:40], threads=1)  # fmt: skip
    assert (ids[:20] < 30).all() and (ids[20:40] >= 30).all()
    assert (np.diff(scores, axis=1) <= 0).all()
    # Nothing already engaged with comes back.
    for e in range(40):
        assert not set(ids[e]) & set(matrix[e].indices)
    # No factor, no collaborative candidate.
    assert not model.warm_exporters[40]
    cold, _ = top_items(model.exporter_factors[40:], model.buyer_factors, 5)
    assert (cold == -1).all()


def test_blocked_items_never_come_back() -> None:
    matrix = two_communities()
    model = CollaborativeModel.fit(matrix, PARAMS)
    blocked = np.zeros(60, dtype=bool)
    blocked[:15] = True
    ids, _ = top_items(model.exporter_factors[:20], model.buyer_factors, 10, blocked=blocked)
    assert (ids >= 15).all()


def test_cold_firms_take_the_factors_of_firms_with_their_codes() -> None:
    matrix = two_communities()
    model = CollaborativeModel.fit(matrix, PARAMS)
    # Code 0 for the first community, code 1 for the second; exporter 40 (cold) has code 1.
    codes = sp.csr_matrix(
        (np.ones(41), (np.arange(41), [0] * 20 + [1] * 21)), shape=(41, 2), dtype=np.float32
    )
    imputed = impute_factors(model.exporter_factors, model.warm_exporters, codes)
    expected = model.exporter_factors[20:40].mean(axis=0)
    assert np.allclose(imputed[40], expected, atol=1e-5)
    scores = pair_scores(imputed, model.buyer_factors, np.array([40, 40]), np.array([5, 45]))
    assert scores[1] > scores[0]  # the cold exporter leans to its code's community
    missing = pair_scores(model.exporter_factors, model.buyer_factors, np.array([40]),
                          np.array([45]))  # fmt: skip
    assert np.isnan(missing[0])
