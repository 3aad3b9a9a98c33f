"""One synthetic world, one fitted model and one held-out evaluation per test session."""

from __future__ import annotations

import pandas as pd
import pytest

from exportintel.matching.data import MatchingData, check_interactions, check_side
from exportintel.matching.evaluation import EvaluationOptions, EvaluationResult, evaluate_data
from exportintel.matching.ranker import RankerParams
from exportintel.matching.training import MatchingModel, MatchingOptions
from tests.matching.world import World, make_world

# Small trees, one thread: the tests' worlds are small and CI has two cores.
FAST = MatchingOptions(ranker=RankerParams(max_depth=4, num_round=200, nthread=1))
CUTOFF = pd.Timestamp("2024-01-01")


def checked(world: World) -> MatchingData:
    return MatchingData(
        check_interactions(world.interactions),
        check_side(world.exporters, "exporter_id", "exporters"),
        check_side(world.buyers, "buyer_id", "buyers"),
    )


@pytest.fixture(scope="session")
def world() -> World:
    return make_world(seed=0, sessions=4_000)


@pytest.fixture(scope="session")
def evaluated(world: World) -> tuple[EvaluationResult, MatchingModel]:
    """The held-out evaluation, and its model: fitted on the interactions before the cutoff
    (the later ones stay unseen by it)."""
    return evaluate_data(
        checked(world),
        CUTOFF,
        FAST,
        EvaluationOptions(bootstrap_resamples=200, exposure_resamples=50),
    )


@pytest.fixture(scope="session")
def evaluation(evaluated: tuple[EvaluationResult, MatchingModel]) -> EvaluationResult:
    return evaluated[0]


@pytest.fixture(scope="session")
def model(evaluated: tuple[EvaluationResult, MatchingModel]) -> MatchingModel:
    return evaluated[1]
