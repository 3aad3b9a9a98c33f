"""The quality gate: does a newly trained model version deserve to serve?

It reads the training job's `metrics.json` (held-out data only) and checks, per model:

- continuity: the chosen model's AUC beats the run's naive baseline ("exported in T and T-1
  means continuing") and reaches `continuity_auc_floor`;
- matching: in both directions, the hybrid's NDCG@10 beats the run's popularity baseline and
  reaches `matching_ndcg_floor`;
- markets: the held-out hit@5 (the entered country among the top five) beats both baselines,
  the largest and the fastest-growing importers, and reaches `markets_hit_floor`.

Plain Python on a dict, so the pipeline's gate Lambda, the local runner and the tests share it.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any

from exportintel.settings import EnvironmentSettings


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    threshold: float | None
    passed: bool


@dataclass(frozen=True)
class Verdict:
    model: str
    version: str
    passed: bool
    checks: tuple[Check, ...]

    @property
    def failures(self) -> list[str]:
        return [_describe(c) for c in self.checks if not c.passed]

    def render(self) -> str:
        word = "passed" if self.passed else "FAILED"
        lines = [f"quality gate {word} for {self.model} {self.version}"]
        lines += [f"  {'ok  ' if c.passed else 'FAIL'} {_describe(c)}" for c in self.checks]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failures": self.failures}


class MetricsMissing(ValueError):
    """`metrics.json` lacks a value the gate needs: the gate fails closed."""


def _describe(check: Check) -> str:
    value = "missing" if check.value is None else f"{check.value:.4f}"
    threshold = "" if check.threshold is None else f" (needs > {check.threshold:.4f})"
    if check.name.endswith("floor") and check.threshold is not None:
        threshold = f" (needs >= {check.threshold:.4f})"
    return f"{check.name}: {value}{threshold}"


def _value(cell: Any) -> float | None:
    if isinstance(cell, Mapping):
        cell = cell.get("value")
    return None if cell is None else float(cell)


def _beats(name: str, value: float | None, baseline: float | None) -> Check:
    passed = value is not None and baseline is not None and value > baseline
    return Check(name, value, baseline, passed)


def _floor(name: str, value: float | None, floor: float) -> Check:
    return Check(name, value, floor, value is not None and value >= floor)


def continuity_checks(metrics: Mapping[str, Any], settings: EnvironmentSettings) -> list[Check]:
    models = metrics.get("models", {})
    chosen = metrics.get("chosen_model")
    if chosen not in models or "baseline" not in models:
        raise MetricsMissing("continuity metrics.json needs models.<chosen_model> and baseline")
    auc = _value(models[chosen].get("auc"))
    baseline = _value(models["baseline"].get("auc"))
    return [
        _beats(f"{chosen} auc beats the naive baseline", auc, baseline),
        _floor("auc floor", auc, settings.continuity_auc_floor),
    ]


def matching_checks(metrics: Mapping[str, Any], settings: EnvironmentSettings) -> list[Check]:
    directions = metrics.get("directions", {})
    if not directions:
        raise MetricsMissing("matching metrics.json has no directions")
    k = metrics.get("k", 10)
    checks = []
    for direction, result in sorted(directions.items()):
        models = result.get("slices", {}).get("all", {}).get("models", {})
        if "hybrid" not in models or "popular" not in models:
            raise MetricsMissing(f"matching metrics.json lacks {direction} hybrid or popular")
        ndcg = _value(models["hybrid"].get("ndcg"))
        popular = _value(models["popular"].get("ndcg"))
        checks.append(_beats(f"{direction} ndcg@{k} beats popular", ndcg, popular))
        checks.append(_floor(f"{direction} ndcg@{k} floor", ndcg, settings.matching_ndcg_floor))
    return checks


MARKET_BASELINES = ("largest_importers", "fastest_growing")


def markets_checks(metrics: Mapping[str, Any], settings: EnvironmentSettings) -> list[Check]:
    hits = (metrics.get("held_out") or {}).get("hit_at_5") or {}
    missing = [name for name in ("model", *MARKET_BASELINES) if name not in hits]
    if missing:
        raise MetricsMissing(f"markets metrics.json lacks held_out.hit_at_5 of {missing}")
    hit = _value(hits["model"])
    checks = [
        _beats(f"hit@5 beats {baseline.replace('_', ' ')}", hit, _value(hits[baseline]))
        for baseline in MARKET_BASELINES
    ]
    checks.append(_floor("hit@5 floor", hit, settings.markets_hit_floor))
    return checks


CHECKS = {
    "continuity": continuity_checks,
    "matching": matching_checks,
    "markets": markets_checks,
}


def judge(model: str, metrics: Mapping[str, Any], settings: EnvironmentSettings) -> Verdict:
    """The verdict on one training run's held-out metrics."""
    if model not in CHECKS:
        raise ValueError(f"no quality gate for model {model!r}")
    checks = tuple(CHECKS[model](metrics, settings))
    version = str(metrics.get("model_version", ""))
    return Verdict(model, version, all(c.passed for c in checks), checks)


def metrics_from_archive(archive: IO[bytes]) -> dict[str, Any]:
    """`metrics.json` from a SageMaker `model.tar.gz` or `output.tar.gz`, read as a stream."""
    with tarfile.open(fileobj=archive, mode="r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.lstrip("./") == "metrics.json":
                extracted = tar.extractfile(member)
                if extracted is not None:
                    metrics: dict[str, Any] = json.loads(extracted.read())
                    return metrics
    raise MetricsMissing("the archive holds no metrics.json")
