"""The step graph: every curated dataset and derived job appears once, model steps keep their
order, and modes decide which steps run."""

from __future__ import annotations

import pytest

from exportintel.contracts import all_contracts
from exportintel.glue_jobs import DERIVED_JOBS
from exportintel.pipeline.graph import (
    MODELS,
    BadModes,
    Chain,
    Parallel,
    parse_modes,
    pipeline,
    steps,
)


def _names(modes: dict[str, str]) -> list[str]:
    parsed = parse_modes(modes)
    return [s.name for s in steps() if s.runs(parsed)]


def test_every_raw_dataset_is_curated_in_parallel_first() -> None:
    graph = pipeline()
    curate = graph.items[0]
    assert isinstance(curate, Parallel) and curate.name == "Curate"
    datasets = [branch.items[0].target for branch in curate.branches]  # type: ignore[union-attr]
    assert datasets == [c.name for c in all_contracts() if c.lands_in_raw]


def test_every_derived_job_runs_once_before_its_models_training() -> None:
    names = [s.name for s in steps()]
    assert len(names) == len(set(names))
    for job in DERIVED_JOBS:
        assert f"derive-{job.name}" in names
    assert names.index("derive-export_status") < names.index("derive-continuity_features")
    assert names.index("derive-continuity_features") < names.index("train-continuity")
    assert names.index("derive-matching_inputs") < names.index("train-matching")


def test_the_models_are_continuity_matching_and_markets_each_in_a_branch() -> None:
    assert MODELS == ("continuity", "matching", "markets")
    models = pipeline().items[1]
    assert isinstance(models, Parallel) and models.name == "Models"
    owners = [{getattr(i, "model", None) for i in b.items} for b in models.branches]
    assert owners == [{"continuity"}, {"matching"}, {"markets"}]


@pytest.mark.parametrize("model", MODELS)
def test_a_model_branch_trains_then_gates_then_scores_then_loads(model: str) -> None:
    graph = pipeline()
    models = graph.items[1]
    assert isinstance(models, Parallel)
    (branch,) = [
        b for b in models.branches if all(getattr(i, "model", None) == model for i in b.items)
    ]
    assert isinstance(branch, Chain)
    kinds = [item.kind for item in branch.items]  # type: ignore[union-attr]
    assert kinds.index("train") < kinds.index("gate") < kinds.index("score") < kinds.index("load")


def test_train_mode_runs_the_whole_branch_and_score_mode_skips_training() -> None:
    trained = _names({"matching": "train"})
    assert {"train-matching", "gate-matching", "score-matching", "load-matching"} <= set(trained)
    assert not any(name.endswith("-continuity") or "export_status" in name for name in trained)
    scored = _names({"continuity": "score"})
    assert "score-continuity" in scored and "alert-continuity" in scored
    assert "train-continuity" not in scored and "gate-continuity" not in scored
    # Curation runs whatever the modes.
    assert all(s.name in _names({}) for s in steps() if s.kind == "curate")


def test_bad_modes_are_refused_with_a_clear_message() -> None:
    with pytest.raises(BadModes, match="unknown model"):
        parse_modes({"pricing": "train"})
    with pytest.raises(BadModes, match="unknown mode 'retrain'"):
        parse_modes({"matching": "retrain"})
    assert parse_modes(None) == {"continuity": "skip", "matching": "skip", "markets": "skip"}


def test_the_market_branch_has_no_derive_and_no_alert() -> None:
    markets = [s.name for s in steps() if s.model == "markets"]
    assert markets == ["train-markets", "gate-markets", "score-markets", "load-markets"]
    trained = _names({"markets": "train"})
    assert [n for n in trained if not n.startswith("curate-")] == markets
    scored = _names({"markets": "score"})
    assert [n for n in scored if not n.startswith("curate-")] == ["score-markets", "load-markets"]
