"""Evaluation: the metrics on hand-checked lists, held-out data only, and the hybrid against
its baselines on the synthetic world."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from exportintel.matching.evaluation import (
    BASELINES,
    HYBRID,
    EvaluationOptions,
    EvaluationResult,
    bootstrap_means,
    evaluate,
    ranking_metrics,
)
from exportintel.matching.training import MatchingModel
from exportintel.models.tabular import DataError
from tests.matching.conftest import CUTOFF, FAST
from tests.matching.world import World


def test_ranking_metrics_by_hand() -> None:
    lists = np.array([[3, 1, 7, -1], [5, 6, 8, 9], [0, 1, 2, 3]])
    relevant = sp.csr_matrix(
        ([1.0, 1.0, 1.0], ([0, 0, 1], [1, 2, 9])), shape=(3, 10)
    )  # row 2 has nothing relevant
    metrics = ranking_metrics(lists, relevant, 4)
    assert metrics["recall"][:2] == pytest.approx([0.5, 1.0])
    # Row 0: one hit at position 2 of 2 relevant; row 1: its only one at position 4.
    ideal_two = 1 + 1 / np.log2(3)
    assert metrics["ndcg"][:2] == pytest.approx([(1 / np.log2(3)) / ideal_two, 1 / np.log2(5)])
    assert metrics["map"][:2] == pytest.approx([(1 / 2) / 2, 1 / 4])
    assert np.isnan(metrics["recall"][2])


def test_bootstrap_intervals_hold_the_mean_and_narrow_with_data() -> None:
    rng = np.random.default_rng(0)
    small = bootstrap_means({"x": rng.random(50)}, resamples=300, seed=1, level=0.95)["x"]
    large = bootstrap_means({"x": rng.random(5_000)}, resamples=300, seed=1, level=0.95)["x"]
    assert small.lo <= small.value <= small.hi
    assert large.hi - large.lo < (small.hi - small.lo) / 5
    assert large.value == pytest.approx(0.5, abs=0.02)


@pytest.mark.slow
def test_the_hybrid_beats_every_baseline_on_held_out_pairs(evaluation: EvaluationResult) -> None:
    for direction in ("exporter", "buyer"):
        models = evaluation.directions[direction].slices["all"].models
        for metric in ("ndcg", "recall"):
            for baseline in BASELINES:
                assert models[HYBRID][metric].value > models[baseline][metric].value, (
                    direction, metric, baseline)  # fmt: skip
    assert evaluation.hybrid_beats_baselines("exporter")
    assert evaluation.hybrid_beats_baselines("buyer")


@pytest.mark.slow
def test_only_new_pairs_after_the_cutoff_are_judged(
    world: World, evaluation: EvaluationResult, model: MatchingModel
) -> None:
    events = world.interactions
    before, after = events[events["ts"] < CUTOFF], events[events["ts"] >= CUTOFF]
    seen = set(zip(before["exporter_id"], before["buyer_id"], strict=True))
    bad = set(world.buyers.loc[world.buyers["bad_credit"], "buyer_id"])
    totals = after.groupby(["exporter_id", "buyer_id"])["weight"].sum()
    expected = {p for p, w in totals.items() if w > 0 and p not in seen and p[1] not in bad}
    assert evaluation.held_out["relevant_pairs"] == len(expected)
    exporters = evaluation.directions["exporter"].slices["all"]
    assert exporters.relevant_pairs == len(expected)
    assert exporters.queries == len({e for e, _ in expected})
    # The model never saw the held-out year.
    assert model.snapshot.as_of == CUTOFF
    assert model.snapshot.seen.nnz == len(seen)


@pytest.mark.slow
def test_slices_exposure_and_exploration_are_reported(evaluation: EvaluationResult) -> None:
    result = evaluation.directions["buyer"]
    assert {"all", "cold_queries", "cold_items", "mutual"} <= set(result.slices)
    assert result.slices["cold_queries"].queries > 0
    hybrid = result.exposure[HYBRID]
    assert 0 < hybrid["coverage"].value <= 1 and 0 <= hybrid["gini"].value < 1
    plain, explored = result.exploration["0"], result.exploration["1"]
    assert plain["ndcg"].value == result.slices["all"].models[HYBRID]["ndcg"].value
    # Exploration spreads exposure and costs ranking quality.
    assert explored["gini"].value < plain["gini"].value
    assert explored["ndcg"].value < plain["ndcg"].value
    for interval in (*plain.values(), *explored.values()):
        assert interval.lo <= interval.value <= interval.hi
    data = json.loads(json.dumps(evaluation.to_dict()))
    assert data["evaluated_on"] == "held-out interactions after the cutoff only"
    assert data["cutoff"] == CUTOFF.isoformat()
    table = evaluation.table()
    assert "exporters for each buyer, all:" in table and "hybrid" in table


@pytest.mark.slow
def test_evaluate_takes_interactions_alone(world: World) -> None:
    result = evaluate(
        world.interactions[["exporter_id", "buyer_id", "weight", "ts"]],
        cutoff="2024-01-01",
        options=FAST,
        evaluation=EvaluationOptions(bootstrap_resamples=20, exposure_resamples=5,
                                     explore_levels=(0.0,)),
    )  # fmt: skip
    models = result.directions["exporter"].slices["all"].models
    assert models[HYBRID]["ndcg"].value > models["popular"]["ndcg"].value
    assert "mutual" not in result.directions["exporter"].slices  # no actor column
    assert models["content"]["ndcg"].value == 0.0  # nothing to compare without side tables


def test_a_cutoff_outside_the_data_fails_clearly(world: World) -> None:
    with pytest.raises(DataError, match="no interaction at or after the cutoff"):
        evaluate(world.interactions, cutoff=pd.Timestamp("2030-01-01"), options=FAST)
    with pytest.raises(DataError, match="no interaction before the cutoff"):
        evaluate(world.interactions, cutoff=pd.Timestamp("2000-01-01"), options=FAST)
