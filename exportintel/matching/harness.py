"""The matching evaluation harness: the model judged on held-out data of several generated
worlds (`exportintel evaluate matching`).

Each world runs the real path: generated JSON lines -> the curation job -> the matching-inputs
job (local Spark) -> `evaluate` (the protocol of the training job). One global cutoff per world
(`test_days` before its last interaction): the model and every baseline learn from what came
before, and are judged only on the pairs that engaged after. The side tables are built as of
the cutoff, so no side feature comes from the held-out period either.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from exportintel.glue_jobs import MATCHING_INPUTS
from exportintel.matching.data import MatchingData
from exportintel.matching.evaluation import (
    BASELINES,
    HYBRID,
    METRICS,
    EvaluationOptions,
    EvaluationResult,
    evaluate_data,
    held_out_cutoff,
)
from exportintel.matching.training import MatchingOptions

KEY = b"h" * 32  # pseudonymisation key of the harness's own lakes (never the platform's)
SIDES = {"matching_exporters": "exporters", "matching_buyers": "buyers"}
LEFT_OUT = ("as_of", "source", "event_id", "year")


@dataclass(frozen=True)
class HarnessOptions:
    seeds: tuple[int, ...] = (7, 8, 9)
    scale: str = "small"
    test_days: float = 365.0
    bootstrap_resamples: int = 500
    matching: MatchingOptions = field(default_factory=MatchingOptions)


def world_data(
    spark: Any, root: Path, scale: str, seed: int, test_days: float
) -> tuple[MatchingData, pd.Timestamp]:
    """One generated world's interactions and side tables as of its cutoff, and the cutoff."""
    from exportintel.continuity.tables import write_table
    from exportintel.contracts import get_contract
    from exportintel.etl.local_runner import curate_folder
    from exportintel.generate import generate, is_current
    from exportintel.matching.data import check_interactions, check_side
    from exportintel.matching.derive import derive_matching_inputs, read_inputs, side_frames

    data, lake = root / "generated", root / "lake"
    if not is_current(data, scale, seed):
        generate(scale=scale, seed=seed, out=data)
        shutil.rmtree(lake, ignore_errors=True)  # curated from an older world
    curated = lake / "curated"
    if not all((curated / t).is_dir() for t in MATCHING_INPUTS.reads):
        curate_folder(spark, data=data, lake=lake, key=KEY, datasets=MATCHING_INPUTS.reads)
    paths = {t: str(curated / t) for t in MATCHING_INPUTS.reads}
    paths.update({t: str(lake / "derived" / t) for t in MATCHING_INPUTS.writes})
    derive_matching_inputs(spark, paths)
    interactions = check_interactions(_read(Path(paths["interactions"])))
    cutoff = held_out_cutoff(MatchingData(interactions), test_days)
    # Known on the day before the cutoff: nothing dated on or after it.
    as_of = (cutoff - pd.Timedelta(days=1)).date()
    sides = {}
    for table, frame in side_frames(read_inputs(spark, paths), as_of).items():
        folder = lake / f"as_of_{as_of:%Y%m%d}" / table
        write_table(frame, get_contract(table), str(folder))
        sides[SIDES[table]] = check_side(_read(folder), f"{SIDES[table][:-1]}_id", table)
    return MatchingData(interactions, sides["exporters"], sides["buyers"]), cutoff


def _read(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder, partitioning=None)
    return frame.drop(columns=[c for c in LEFT_OUT if c in frame.columns])


def evaluate_worlds(
    work: Path,
    options: HarnessOptions,
    *,
    on_world: Callable[[int, EvaluationResult], None] | None = None,
) -> dict[str, Any]:
    """Every seed's held-out evaluation and the verdict across them; `metrics.json` of each
    world goes under `work/<scale>-<seed>/`."""
    from exportintel.etl.session import spark_session
    from exportintel.matching.training import write_json

    spark = spark_session("exportintel-matching-harness")
    worlds: dict[str, Any] = {}
    for seed in options.seeds:
        root = work / f"{options.scale}-{seed}"
        data, cutoff = world_data(spark, root, options.scale, seed, options.test_days)
        evaluation = EvaluationOptions(
            k=options.matching.shown,
            bootstrap_resamples=options.bootstrap_resamples,
            seed=seed,
        )
        result, _ = evaluate_data(data, cutoff, options.matching, evaluation)
        metrics = result.to_dict()
        write_json(root / "metrics.json", metrics)
        (root / "evaluation.txt").write_text(result.table() + "\n", encoding="utf-8")
        worlds[str(seed)] = metrics
        if on_world is not None:
            on_world(seed, result)
    return {
        "measured_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": options.scale,
        "seeds": list(options.seeds),
        "test_days": options.test_days,
        "verdict": verdict(worlds),
        "worlds": worlds,
    }


def verdict(worlds: dict[str, Any]) -> dict[str, Any]:
    """Per world and direction, whether the hybrid beats each baseline beyond the interval of
    the paired difference (its lower bound above zero) on every ranking metric."""
    checks: dict[str, Any] = {}
    for seed, metrics in worlds.items():
        for direction, result in metrics["directions"].items():
            everything = result["slices"]["all"]
            for baseline in BASELINES:
                for metric in METRICS:
                    lo = everything["hybrid_minus"][baseline][metric]["lo"]
                    checks[f"{seed}/{direction}/{baseline}/{metric}"] = lo is not None and lo > 0
    return {
        "hybrid_beats_every_baseline": all(checks.values()),
        "checks": checks,
        "failed": sorted(name for name, passed in checks.items() if not passed),
    }


def summary_table(results: dict[str, Any], metric: str = "ndcg") -> str:
    """One line per world, direction and model: the metric with its interval."""
    k = next(iter(results["worlds"].values()))["k"]
    lines = [f"{'seed':<6}{'direction':<28}{'model':<10}{metric + '@' + str(k):>26}"]
    for seed, metrics in results["worlds"].items():
        for result in metrics["directions"].values():
            models = result["slices"]["all"]["models"]
            for model in (*BASELINES, HYBRID):
                cell = models[model][metric]
                lines.append(
                    f"{seed:<6}{result['direction']:<28}{model:<10}"
                    f"{cell['value']:>8.4f} [{cell['lo']:.4f}, {cell['hi']:.4f}]"
                )
    decided = results["verdict"]
    lines.append(
        "hybrid ahead of every baseline beyond the paired intervals, every seed, direction "
        f"and metric: {'yes' if decided['hybrid_beats_every_baseline'] else 'NO'}"
        + (f" (not: {', '.join(decided['failed'])})" if decided["failed"] else "")
    )
    return "\n".join(lines)


def write_results(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """`metrics.json` (every world) and `evaluation.md` in `folder`."""
    from exportintel.matching.training import write_json

    folder.mkdir(parents=True, exist_ok=True)
    metrics = folder / "metrics.json"
    write_json(metrics, results)
    table = folder / "evaluation.md"
    table.write_text(
        f"# Matching evaluation, {results['scale']} scale, seeds "
        f"{', '.join(map(str, results['seeds']))}\n\n```\n{summary_table(results)}\n```\n",
        encoding="utf-8",
    )
    return metrics, table
