"""The quality gate: a version serves only when it beats its own run's naive baseline on
held-out data and reaches the floors of the settings."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import replace
from typing import Any

import pytest

from exportintel.pipeline.gate import MetricsMissing, judge, metrics_from_archive
from exportintel.settings import LOCAL


def _continuity(chosen: float, baseline: float) -> dict[str, Any]:
    return {
        "model_version": "continuity-1",
        "chosen_model": "lr",
        "models": {
            "lr": {"auc": {"value": chosen, "lo": chosen - 0.02, "hi": chosen + 0.02}},
            "baseline": {"auc": {"value": baseline, "lo": None, "hi": None}},
        },
    }


def _matching(hybrid: float, popular: float) -> dict[str, Any]:
    def direction(h: float, p: float) -> dict[str, Any]:
        models = {"hybrid": {"ndcg": {"value": h}}, "popular": {"ndcg": {"value": p}}}
        return {"slices": {"all": {"models": models}}}

    return {
        "model_version": "matching-1",
        "k": 10,
        "directions": {"exporter": direction(hybrid, popular), "buyer": direction(0.2, 0.02)},
    }


def _markets(model: float, largest: float = 0.35, growing: float = 0.1) -> dict[str, Any]:
    def cell(value: float) -> dict[str, float]:
        return {"value": value, "lo": value - 0.03, "hi": value + 0.03}

    hits = {"model": cell(model), "largest_importers": cell(largest),
            "fastest_growing": cell(growing)}  # fmt: skip
    return {
        "model_version": "markets-1",
        "held_out": {"years": [2023, 2024, 2025], "events": 812, "hit_at_5": hits, "mrr": hits},
    }


def test_a_model_that_beats_its_baseline_and_the_floor_passes() -> None:
    verdict = judge("continuity", _continuity(0.78, 0.60), LOCAL)
    assert verdict.passed and verdict.version == "continuity-1" and verdict.failures == []
    assert judge("matching", _matching(0.058, 0.003), LOCAL).passed


def test_a_model_no_better_than_its_baseline_fails() -> None:
    verdict = judge("continuity", _continuity(0.70, 0.71), LOCAL)
    assert not verdict.passed
    assert verdict.failures == ["lr auc beats the naive baseline: 0.7000 (needs > 0.7100)"]
    matching = judge("matching", _matching(0.003, 0.003), LOCAL)
    assert not matching.passed
    assert any("exporter ndcg@10 beats popular" in f for f in matching.failures)


def test_a_model_under_the_floor_fails_even_above_its_baseline() -> None:
    strict = replace(LOCAL, continuity_auc_floor=0.99, matching_ndcg_floor=0.5)
    verdict = judge("continuity", _continuity(0.78, 0.60), strict)
    assert not verdict.passed and verdict.failures == ["auc floor: 0.7800 (needs >= 0.9900)"]
    assert "FAIL auc floor" in verdict.render()
    assert not judge("matching", _matching(0.058, 0.003), strict).passed


def test_missing_metrics_fail_closed() -> None:
    with pytest.raises(MetricsMissing):
        judge("continuity", {"models": {}}, LOCAL)
    with pytest.raises(MetricsMissing):
        judge("matching", {"directions": {}}, LOCAL)
    missing_value = _continuity(0.8, 0.6)
    missing_value["models"]["lr"]["auc"]["value"] = None
    assert not judge("continuity", missing_value, LOCAL).passed


def test_metrics_are_read_from_a_sagemaker_archive() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        metrics = json.dumps(_matching(0.1, 0.01)).encode()
        for name, body in (("model.json", b"{}"), ("metrics.json", metrics)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    buffer.seek(0)
    assert metrics_from_archive(buffer)["model_version"] == "matching-1"
    empty = io.BytesIO()
    with tarfile.open(fileobj=empty, mode="w:gz"):
        pass
    empty.seek(0)
    with pytest.raises(MetricsMissing):
        metrics_from_archive(empty)


def test_the_market_model_must_beat_both_baselines_and_reach_the_hit_floor() -> None:
    verdict = judge("markets", _markets(0.41), LOCAL)
    assert verdict.passed and verdict.version == "markets-1"
    assert [c.name for c in verdict.checks] == [
        "hit@5 beats largest importers",
        "hit@5 beats fastest growing",
        "hit@5 floor",
    ]
    behind = judge("markets", _markets(0.41, largest=0.45), LOCAL)
    assert not behind.passed
    assert behind.failures == ["hit@5 beats largest importers: 0.4100 (needs > 0.4500)"]
    assert not judge("markets", _markets(0.2, largest=0.2, growing=0.1), LOCAL).passed
    assert not judge("markets", _markets(0.3, largest=0.1, growing=0.35), LOCAL).passed
    # Above both baselines, under the floor of the settings.
    low = judge("markets", _markets(0.15, largest=0.1, growing=0.05), LOCAL)
    assert low.failures == [f"hit@5 floor: 0.1500 (needs >= {LOCAL.markets_hit_floor:.4f})"]
    strict = replace(LOCAL, markets_hit_floor=0.5)
    assert not judge("markets", _markets(0.41), strict).passed


def test_market_metrics_without_the_held_out_hits_fail_closed() -> None:
    incomplete: list[dict[str, Any]] = [{}, {"held_out": None}, {"held_out": {"hit_at_5": {}}}]
    for metrics in incomplete:
        with pytest.raises(MetricsMissing, match="hit_at_5"):
            judge("markets", metrics, LOCAL)
    no_baseline = _markets(0.41)
    del no_baseline["held_out"]["hit_at_5"]["fastest_growing"]
    with pytest.raises(MetricsMissing, match="fastest_growing"):
        judge("markets", no_baseline, LOCAL)
    no_value = _markets(0.41)
    no_value["held_out"]["hit_at_5"]["model"]["value"] = None
    assert not judge("markets", no_value, LOCAL).passed
