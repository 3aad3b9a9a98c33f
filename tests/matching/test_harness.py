"""The evaluation harness (`exportintel evaluate matching`): generated worlds through the real
curation and derivation, one cutoff per world, side tables as of the cutoff, a verdict that
needs every paired interval above zero."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from exportintel.cli import main
from exportintel.matching.harness import verdict


def _world(lo: float) -> dict[str, object]:
    cell = {"value": 0.1, "lo": lo, "hi": 0.2}
    metrics = {m: cell for m in ("recall", "ndcg", "map")}
    models = {b: metrics for b in ("popular", "content", "cf")}
    direction = {"slices": {"all": {"hybrid_minus": models}}}
    return {"directions": {"exporter": direction, "buyer": direction}}


def test_the_verdict_needs_every_paired_interval_above_zero() -> None:
    assert verdict({"7": _world(0.01), "8": _world(0.02)})["hybrid_beats_every_baseline"]
    mixed = verdict({"7": _world(0.01), "8": _world(0.0)})
    assert not mixed["hybrid_beats_every_baseline"]
    assert mixed["failed"] and all(name.startswith("8/") for name in mixed["failed"])


@pytest.mark.slow
def test_evaluate_matching_judges_each_world_after_its_cutoff(tmp_path: Path) -> None:
    work = tmp_path / "work"
    code = main([
        "evaluate", "matching", "--scale", "tiny", "--seeds", "11",
        "--bootstrap-resamples", "50", "--workdir", str(work),
    ])  # fmt: skip
    results = json.loads((work / "metrics.json").read_text())
    assert code == (0 if results["verdict"]["hybrid_beats_every_baseline"] else 1)
    assert results["seeds"] == [11] and set(results["worlds"]) == {"11"}
    world = results["worlds"]["11"]
    assert world["evaluated_on"] == "held-out interactions after the cutoff only"
    cutoff = pd.Timestamp(world["cutoff"])
    # The side tables were built as of the day before the cutoff.
    for table in ("matching_exporters", "matching_buyers"):
        (folder,) = (work / "tiny-11" / "lake").glob(f"as_of_*/{table}")
        as_of = pd.read_parquet(folder, partitioning=None)["as_of"]
        assert (pd.to_datetime(as_of) < cutoff).all()
    everything = world["directions"]["exporter"]["slices"]["all"]
    assert everything["queries"] > 0 and everything["relevant_pairs"] > 0
    for model in ("popular", "content", "cf", "hybrid"):
        ndcg = everything["models"][model]["ndcg"]
        assert ndcg["lo"] <= ndcg["value"] <= ndcg["hi"]
    assert "hybrid" in (work / "evaluation.md").read_text()
