"""Market suggestions: held-out accuracy over several generated worlds, against the baselines.

    .venv/bin/python -m bench.markets [--scale small] [--seeds 7,11,23] [--work DIR]
                                      [--results DIR]

Per seed, the path the platform runs, on local files:

1. Generate the world (`generate`; once per work folder, reused by later runs).
2. Curate the eight input tables from the generated JSON lines (`curate_folder`, local Spark).
3. The training job's protocol (`exportintel.markets.evaluation.evaluate`): the last three
   years of entries held out, the model fitted on the years before; hit@5 and MRR of the model,
   "largest importers" and "fastest-growing importers" on the same choice sets, with 95%
   bootstrap intervals over firms.
4. Scoring every exporter with that model (timed), as the scoring job does.

The report gives each seed's figures with intervals, the median over seeds of each method and
the model's ratio to each baseline per seed (side by side on the same entries).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import results_files
from bench.etl import generated, log, machine_info
from exportintel.markets.data import INPUT_TABLES, read_tables
from exportintel.markets.evaluation import BASELINES, evaluate
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.scoring import score_all

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RESULTS = results_files.RESULTS
KEY = b"bench-markets-key-of-32-bytes!!!"
METHODS = ("model", *BASELINES)
METRICS = ("hit_at_5", "mrr", "novice_hit_at_5")


def one_seed(
    spark: SparkSession, *, work: Path, scale: str, seed: int, resamples: int
) -> dict[str, Any]:
    from exportintel.etl.local_runner import curate_folder

    source = generated(work, scale, seed)
    lake = work / f"lake-{scale}-{seed}"
    manifest = (source / "manifest.json").read_text()
    stamp = lake / "source-manifest.json"  # the world the lake was curated from
    if not stamp.is_file() or stamp.read_text() != manifest:
        log(f"seed {seed}: curating {len(INPUT_TABLES)} tables")
        shutil.rmtree(lake, ignore_errors=True)
        curate_folder(spark, data=source, lake=lake, key=KEY, datasets=list(INPUT_TABLES))
        stamp.write_text(manifest)
    started = time.perf_counter()
    world = MarketWorld(read_tables({t: lake / "curated" / t for t in INPUT_TABLES}))
    model, metrics = evaluate(world, test_years=3, resamples=resamples, seed=seed)
    evaluated = time.perf_counter() - started
    started = time.perf_counter()
    suggestions, cold, _ = score_all(world, model, f"bench-{seed}")
    scored = time.perf_counter() - started
    held = metrics["held_out"]
    log(
        f"seed {seed}: {held['events']} held-out entries; hit@5 "
        + ", ".join(f"{m} {held['hit_at_5'][m]['value']:.3f}" for m in METHODS)
    )
    return {
        "seed": seed,
        **metrics,
        "seconds": {"evaluate": round(evaluated, 2), "score": round(scored, 2)},
        "scored": {
            "firms": int(suggestions["firm_id"].nunique()),
            "rows": len(suggestions),
            "cold_start_lists": int(cold["firm_id"].nunique()),
        },
    }


def summary(seeds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over seeds per method and metric; per seed, the model's ratio to each baseline
    and whether its interval clears the baseline's."""
    out: dict[str, Any] = {}
    for metric in METRICS:
        present = [s["held_out"][metric] for s in seeds if metric in s["held_out"]]
        out[metric] = {
            method: round(statistics.median(p[method]["value"] for p in present), 4)
            for method in METHODS
        }
    out["beats_baselines"] = {
        baseline: [
            {
                "seed": s["seed"],
                "ratio": round(
                    s["held_out"]["hit_at_5"]["model"]["value"]
                    / max(s["held_out"]["hit_at_5"][baseline]["value"], 1e-9),
                    3,
                ),
                "beats": s["held_out"]["hit_at_5"]["model"]["value"]
                > s["held_out"]["hit_at_5"][baseline]["value"],
                "beyond_intervals": s["held_out"]["hit_at_5"]["model"]["lo"]
                > s["held_out"]["hit_at_5"][baseline]["hi"],
                "paired_lead_above_zero": s["held_out"]["hit_at_5"][f"model_minus_{baseline}"]["lo"]
                > 0,
            }
            for s in seeds
        ]
        for baseline in BASELINES
    }
    return out


def _interval(m: dict[str, float]) -> str:
    return f"{m['value']:.3f} [{m['lo']:.3f}, {m['hi']:.3f}]"


def render_markdown(results: dict[str, Any]) -> str:
    m, p = results["machine"], results["parameters"]
    lines = [
        f"# Market suggestions benchmark, {m['date_utc'][:10]}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB; Python {m['python']}"
        f"{'; code at ' + m['commit'] if m.get('commit') else ''}.",
        "",
        f"Command: `{p['command']}`",
        "",
        "Held-out entries: a firm's new destination countries in each of the last three years, "
        "ranked with the evidence of the year before by a model fitted on earlier years only. "
        "hit@5: one of them is in the top 5. Intervals: 95% bootstrap over firms.",
        "",
        "| seed | held-out years | entries | method | hit@5 | MRR | novices' hit@5 |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in results["seeds"]:
        held = s["held_out"]
        for method in METHODS:
            novice = held.get("novice_hit_at_5", {}).get(method)
            lines.append(
                f"| {s['seed']} | {held['years'][0]}-{held['years'][-1]} | {held['events']:,} "
                f"| {method} | {_interval(held['hit_at_5'][method])} "
                f"| {_interval(held['mrr'][method])} | {_interval(novice) if novice else 'n/a'} |"
            )
    summ = results["summary"]
    lines += ["", "Median over seeds:", "", "| metric | " + " | ".join(METHODS) + " |",
              "|---|" + "---|" * len(METHODS)]  # fmt: skip
    for metric in METRICS:
        lines.append(
            f"| {metric} | " + " | ".join(f"{summ[metric][x]:.3f}" for x in METHODS) + " |"
        )
    lines += [
        "",
        "Model against each baseline (hit@5 ratio; beyond: the intervals do not touch):",
        "",
    ]
    for baseline, rows in summ["beats_baselines"].items():
        cells = ", ".join(
            f"seed {r['seed']}: x{r['ratio']:.2f}{' (beyond)' if r['beyond_intervals'] else ''}"
            for r in rows
        )
        lines.append(f"- {baseline}: {cells}")
    lines += [
        "",
        "The model's lead in hit@5, paired bootstrap (same resampled firms for both):",
        "",
    ]
    for s in results["seeds"]:
        hits = s["held_out"]["hit_at_5"]
        leads = ", ".join(f"over {b} {_interval(hits[f'model_minus_{b}'])}" for b in BASELINES)
        lines.append(f"- seed {s['seed']}: {leads}")
    lines += ["", "Fitted weights (held-out fit, per seed):", ""]
    for s in results["seeds"]:
        weights = ", ".join(f"{k} {v:+.2f}" for k, v in s["weights_held_out_fit"].items())
        lines.append(f"- seed {s['seed']}: {weights}")
    lines += ["", "Seconds per seed (evaluate: evidence + fit + held-out ranking; score: every "
              "exporter and the cold-start lists):", ""]  # fmt: skip
    for s in results["seeds"]:
        lines.append(
            f"- seed {s['seed']}: evaluate {s['seconds']['evaluate']:.1f} s, score "
            f"{s['seconds']['score']:.1f} s ({s['scored']['firms']:,} firms)"
        )
    return "\n".join(lines) + "\n"


def run(
    *,
    scale: str,
    seeds: list[int],
    work: Path,
    resamples: int,
    command: str,
    spark: SparkSession | None = None,
) -> dict[str, Any]:
    """Every seed; a Spark session made here is stopped at the end, a given one is left on."""
    from exportintel.etl.session import spark_session

    session = spark or spark_session("bench-markets")
    try:
        per_seed = [
            one_seed(session, work=work, scale=scale, seed=s, resamples=resamples) for s in seeds
        ]
        machine = machine_info(session)
    finally:
        if spark is None:
            session.stop()
    return {
        "machine": machine,
        "parameters": {"scale": scale, "seeds": seeds, "resamples": resamples, "command": command},
        "seeds": per_seed,
        "summary": summary(per_seed),
    }


def write_results(results: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    return results_files.write_results("markets", results, render_markdown, folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seeds", default="7,11,23", help="comma-separated generator seeds")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path(".local/bench/markets"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    command = f"python -m bench.markets --scale {args.scale} --seeds {args.seeds}"
    results = run(
        scale=args.scale, seeds=seeds, work=args.work, resamples=args.resamples, command=command
    )
    json_path, md_path = results_files.write_results(
        "markets", results, render_markdown, args.results
    )
    print(render_markdown(results))
    log(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
