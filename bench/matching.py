"""Matching model at scale: the Spark steps before it, training and scoring time and peak
memory, and the held-out quality of the hybrid against its baselines.

    .venv/bin/python -m bench.matching [--scale large] [--seed 7] [--repeat 1] [--work DIR]
                                       [--results DIR] [--train-options=...]
                                       [--score-options=...]

The path measured is the one the platform runs, all existing code, on local files, as
`bench.continuity` measures the continuity model (its helpers do the measuring):

1. The generated scale (`bench.continuity.generation`: made once per work folder, reused).
2. The eight curated tables the matching-inputs job reads, in `lake-matching-<scale>-<seed>`:
   a table already there is reused (a rerun does not pay for curating 20M web events again;
   the figures of the run that curated it are kept in the lake and carried over); a table
   the continuity benchmark's lake of the same data holds is copied from it (the same
   generated lines and key give the same rows); any other is curated with `curate_folder`,
   one call per dataset, each timed, after one unmeasured warm-up curation.
3. `interactions`, `matching_exporters` and `matching_buyers` derived by the Glue job's body
   (`derive_matching_inputs`) under local Spark, measured by sampling the process tree.
   Spark is stopped before the jobs run.
4. The training channel as the jobs README lays it out: the interactions folder, and the two
   side tables as `exporters.parquet` and `buyers.parquet` without their `as_of` column (a
   date the jobs would read as a one-valued category). Then `sagemaker_jobs/matching/train.py`
   and `score.py` as processes (`run_job`), each in a wrapper process that reads the job's
   peak resident memory and CPU time from the kernel, `--repeat` times, alternating.
   Arguments: the platform's (`matching_candidates`, `matching_shown` of the settings) and
   whatever `--train-options` and `--score-options` add, all recorded.
5. The held-out quality comes from the first training run's `metrics.json` (NDCG, recall and
   MAP at the shown list's length, coverage and Gini, with bootstrap intervals, per model and
   direction); every later run must give the same figures, which the results record.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from bench import results_files
from bench.continuity import (
    SPARK_MEMORY,
    combined,
    curate_measured,
    feature_table,
    generation,
    warm_up,
)
from bench.etl import log, machine_info
from bench.jobs import JobPlan, command_line, job_row, model_bench_parser, repeated_jobs
from bench.results_files import load_text, now_utc, seconds_text, size_text
from bench.sampling import Footprint, Usage, step_row, usage_figures
from exportintel.glue_jobs import MATCHING_INPUTS
from exportintel.matching.data import BUYERS_FILE, EXPORTERS_FILE, INTERACTIONS_FILE
from exportintel.matching.local import scoring_arguments, training_arguments
from exportintel.settings import LOCAL, EnvironmentSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RESULTS = results_files.RESULTS
DEFAULT_WORK = Path(__file__).resolve().parent.parent / "data" / "bench"
MODEL = "matching"
CURATED = MATCHING_INPUTS.reads
DERIVED = MATCHING_INPUTS.writes
# The derived side tables and their file in the training channel.
SIDES = {"matching_exporters": EXPORTERS_FILE, "matching_buyers": BUYERS_FILE}
DROPPED_SIDE_COLUMNS = ("as_of",)
CURATION_RECORD = "bench-curation.json"  # in the lake: the figures of each table's curation
DIRECTION_TITLES = {"exporter": "buyers for each exporter", "buyer": "exporters for each buyer"}
QUALITY = ("ndcg", "recall", "map")
EXPOSURE = ("coverage", "gini")


# --- Spark steps --------------------------------------------------------------------------------


def _complete(folder: Path) -> bool:
    """A curated table written to the end (Spark's `_SUCCESS` marker)."""
    return (folder / "_SUCCESS").exists()


def curate(
    spark: SparkSession, *, source: Path, lake: Path, copy_from: Path | None = None
) -> dict[str, Any]:
    """The curated inputs in `lake`, each one reused (`reused`: the lake holds it from an
    earlier run, whose record is kept), copied from the lake `copy_from` (`copied`) or
    curated and measured (`curated`). `measured` combines the tables this run curated."""
    record_path = lake / CURATION_RECORD
    record: dict[str, Any] = json.loads(record_path.read_text()) if record_path.exists() else {}
    tables: dict[str, Any] = {}
    measured: dict[str, dict[str, Any]] = {}
    warmed = False
    for name in CURATED:
        target = lake / "curated" / name
        if _complete(target) and name in record:
            tables[name] = {**record[name], "reused": True}
            log(f"{name}: reused from {target}")
            continue
        shutil.rmtree(target, ignore_errors=True)
        if copy_from is not None and _complete(copy_from / "curated" / name):
            shutil.copytree(copy_from / "curated" / name, target)
            made: dict[str, Any] = {"origin": "copied", "copied_from": str(copy_from)}
            log(f"{name}: copied from {copy_from}")
        else:
            if not warmed:
                warm_up(spark, source=source, lake=lake)
                warmed = True
            measured[name] = curate_measured(spark, name, source=source, lake=lake)
            made = {"origin": "curated", **measured[name]}
        files = feature_table(target)
        record[name] = {
            **made,
            "made_utc": now_utc(),
            "rows": files["rows"],
            "bytes": files["bytes"],
        }
        tables[name] = {**record[name], "reused": False}
        record_path.write_text(json.dumps(record, indent=2) + "\n")
    return {"tables": tables, "measured": combined(measured) if measured else None}


def table_paths(lake: Path) -> dict[str, str]:
    """Every table of the matching-inputs job to its folder: curated inputs, derived outputs."""
    paths = {t: str(lake / "curated" / t) for t in CURATED}
    paths.update({t: str(lake / "derived" / t) for t in DERIVED})
    return paths


def derive(spark: SparkSession, *, lake: Path) -> dict[str, Any]:
    """The matching-inputs Glue job's body over the lake, timed and memory-sampled."""
    from exportintel.matching.derive import derive_matching_inputs

    paths = table_paths(lake)
    with Usage(tree=True) as usage, Footprint() as footprint:
        started = time.perf_counter()
        summary = derive_matching_inputs(spark, paths)
        seconds = time.perf_counter() - started
    log(f"derived {', '.join(DERIVED)} in {seconds:.1f} s")
    return {
        **usage_figures(usage, seconds, footprint),
        "summary": summary,
        "tables": {t: feature_table(Path(paths[t])) for t in DERIVED},
    }


# --- Jobs ---------------------------------------------------------------------------------------


def training_channel(lake: Path, channel: Path) -> dict[str, Any]:
    """The training channel: `interactions` (a link to the derived folder: a folder of Parquet
    parts) and the side tables as single files without `DROPPED_SIDE_COLUMNS`."""
    paths = table_paths(lake)
    shutil.rmtree(channel, ignore_errors=True)
    channel.mkdir(parents=True)
    interactions = channel / INTERACTIONS_FILE.removesuffix(".parquet")
    interactions.symlink_to(Path(paths["interactions"]).resolve(), target_is_directory=True)
    started = time.perf_counter()
    for table, file in SIDES.items():
        side = pq.read_table(paths[table], partitioning=None)
        side = side.drop_columns([c for c in DROPPED_SIDE_COLUMNS if c in side.column_names])
        pq.write_table(side, channel / file)
    return {
        "folder": str(channel),
        "interactions": f"{interactions.name}/ -> {paths['interactions']}",
        "sides": dict(SIDES),
        "dropped_side_columns": list(DROPPED_SIDE_COLUMNS),
        "sides_written_seconds": time.perf_counter() - started,
    }


def _plan(
    channel: Path,
    settings: EnvironmentSettings,
    train_options: Sequence[str] = (),
    score_options: Sequence[str] = (),
) -> JobPlan:
    return JobPlan(
        model=MODEL,
        train_channels={"train": channel},
        score_channels={},
        train_arguments=[*training_arguments(settings), *train_options],
        score_arguments=[*scoring_arguments(settings), *score_options],
        scored=lambda output: _scored(json.loads((output / "scoring.json").read_text())),
    )


def train_and_score(
    *,
    channel: Path,
    jobs: Path,
    repeat: int,
    settings: EnvironmentSettings,
    train_options: Sequence[str] = (),
    score_options: Sequence[str] = (),
    on_part: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train, then score with that model, `repeat` times; the figures of every job process.

    `on_part(figures)` is called after each job with what is known so far."""
    plan = _plan(channel, settings, train_options, score_options)
    figures, first = repeated_jobs(plan, jobs, repeat, on_part)
    return {**figures, "held_out": first}


def resume_scoring(
    previous: dict[str, Any], *, work: Path, score_options: Sequence[str], note: str
) -> dict[str, Any]:
    """Score again with the models an earlier run of this benchmark trained and kept, into a
    copy of its results (the scoring figures replaced, the rest kept as measured then)."""
    parameters = previous["parameters"]
    jobs = work / f"jobs-matching-{parameters['scale']}-{parameters['seed']}"
    plan = _plan(jobs / "channel", LOCAL, score_options=score_options)
    results = json.loads(json.dumps(previous))
    figures = results["jobs"]
    figures.pop("score_stopped", None)
    figures["score_arguments"] = plan.score_arguments
    figures["score_run_utc"] = now_utc()
    results["parameters"]["score_options"] = list(score_options)
    results["notes"] = [*results.get("notes", []), note]
    for i in range(1, parameters["repeat"] + 1):
        figures.update(plan.score(jobs, i))
    results["machine"]["finished_utc"] = now_utc()
    return results


def _scored(scoring: dict[str, Any]) -> dict[str, Any]:
    """What the scoring job wrote per direction (its `scoring.json` without the options)."""
    return {
        key: value for key, value in scoring.items() if isinstance(value, dict) and "rows" in value
    }


# --- Reporting ----------------------------------------------------------------------------------


def _cell(interval: dict[str, float | None] | None) -> str:
    if interval is None or interval.get("value") is None:
        return "n/a"

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    return f"{f(interval['value'])} [{f(interval['lo'])}, {f(interval['hi'])}]"


def _training_lines(training: dict[str, Any]) -> list[str]:
    """The data of the held-out fit: firms, interactions, the rankers' label windows."""
    windows = [
        f"before {w['inner_cutoff'][:10]}, labels from {w['label_interactions']:,} interactions: "
        + ", ".join(
            f"{side} side {c['query_firms']:,} query firms, {c['candidate_pairs']:,} candidate "
            f"pairs ({c['positive_pairs']:,} positive; candidate recall "
            f"{c['candidate_recall']:.1%})"
            for side, c in w["candidates"].items()
        )
        for w in training.get("label_windows", [])
    ]
    return [
        "",
        f"The held-out fit: {training['interactions']:,} interactions before the cutoff, "
        f"{training['exporters']:,} exporters, {training['buyers']:,} buyers "
        f"({training['blocked_buyers']:,} with bad credit, never recommended). Rankers' label "
        "windows: " + "; ".join(windows) + ".",
    ]


def _quality_lines(held_out: dict[str, Any]) -> list[str]:
    k = held_out["k"]
    lines: list[str] = []
    for direction, result in held_out["directions"].items():
        everything = result["slices"]["all"]
        lines += [
            "",
            f"**{result.get('direction', DIRECTION_TITLES.get(direction, direction))}** "
            f"({result['ranked_queries']:,} query firms ranked, {everything['queries']:,} of "
            f"them with held-out pairs: {everything['relevant_pairs']:,} relevant pairs)",
            "",
            f"| model | NDCG@{k} | Recall@{k} | MAP@{k} | coverage | Gini |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for model, values in everything["models"].items():
            exposure = result["exposure"].get(model, {})
            name = f"**{model}**" if model == "hybrid" else model
            lines.append(
                f"| {name} | {' | '.join(_cell(values.get(m)) for m in QUALITY)} "
                f"| {' | '.join(_cell(exposure.get(m)) for m in EXPOSURE)} |"
            )
        others = [s for s in result["slices"] if s != "all"]
        if others:
            lines += [
                "",
                f"Hybrid NDCG@{k} by slice: "
                + "; ".join(
                    f"{s.replace('_', ' ')} ({result['slices'][s]['queries']:,} firms) "
                    f"{_cell(result['slices'][s]['models'].get('hybrid', {}).get('ndcg'))}"
                    for s in others
                )
                + ".",
            ]
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    p = results["parameters"]
    lines = results_files.report_head("Matching benchmark", results)
    data = results.get("data")
    if data:
        g = data.get("generate")
        generation_text = (
            f"generated in {g['seconds']:,.0f} s (CPU {seconds_text(g['cpu_seconds'])}, peak "
            f"RSS {size_text(g['peak_rss_bytes'])}; measured {g['measured_utc']}), kept in the "
            "work folder"
            if g
            else "reused from the work folder (its generation was not measured)"
        )
        counts = data["scale_counts"]
        lines += [
            "",
            f"## Data: scale {p['scale']} ({counts['exporters']:,} exporters, "
            f"{counts['buyers']:,} buyers, {counts['web_events']:,} web events), seed {p['seed']}",
            "",
            f"Raw JSON lines {generation_text}.",
        ]
    pipeline = results.get("pipeline")
    if pipeline:
        curation = pipeline["curate"]
        origins = {
            "curated": "curated with `curate_folder`, one call per dataset (after one "
            "unmeasured warm-up curation)",
            "copied": "copied from the continuity benchmark's lake of the same generated data "
            "and key (its curation figures are in continuity-latest.md)",
        }
        present = sorted({t["origin"] for t in curation["tables"].values()})
        reused = any(t["reused"] for t in curation["tables"].values())
        lines += [
            "",
            "## Pipeline steps on local Spark (one run each)",
            "",
            "Wall and CPU time (user + system of the driver, the JVM and its Python workers). "
            "Memory of that process tree sampled every 0.25 s: peak PSS (the tree's real "
            "footprint; anonymous part in brackets) and peak summed RSS (as `bench.etl` "
            "reports it). Curated tables: "
            + "; ".join(f"*{o}*: {origins[o]}" for o in present)
            + (
                "; *reused*: the matching lake of the work folder already held it, made by an "
                "earlier run of this benchmark at the time stated (its figures are that run's)"
                if reused
                else ""
            )
            + ".",
            "",
            "| step | rows in | rows out | wall | CPU | peak PSS (anonymous) | peak summed RSS "
            "| load avg before |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, t in curation["tables"].items():
            how = [] if t["origin"] == "curated" else [t["origin"]]
            how += [f"reused, made {t['made_utc']}"] if t["reused"] else []
            step = f"curate {name}" + (f" ({', '.join(how)})" if how else "")
            if t["origin"] == "curated":
                lines.append(step_row(step, f"{t['read']:,}", f"{t['written']:,}", t))
            else:
                lines.append(f"| {step} |  | {t['rows']:,} | - | - | - | - | - |")
        if curation.get("measured"):
            lines.append(step_row("**curated by this run**", "", "", curation["measured"]))
        d = pipeline.get("derive")
        if d:
            tables = d["tables"]
            outputs = ", ".join(f"{t} {f['rows']:,}" for t, f in tables.items())
            web = d["summary"]["interactions"]
            lines.append(
                step_row(
                    "derive matching inputs", f"{web['web_events_read']:,} web events", outputs, d
                )
            )
            lines += [
                "",
                f"Derived as of {d['summary']['as_of']}: {web['rows']:,} interactions "
                f"({web['web_pair_interactions']:,} web pair interactions, "
                f"{web['web_ratings_restating_match_history']:,} ratings restating match "
                "history left out); by source/event type/actor: "
                + ", ".join(f"{k} {v:,}" for k, v in web["by_source_event_type_actor"].items())
                + ".",
            ]
    jobs = results.get("jobs")
    if jobs:
        channel = results.get("channel", {})
        lines += [
            "",
            f"## Training and scoring: the SageMaker scripts as processes ({jobs['repeat']} "
            f"run{'s' if jobs['repeat'] != 1 else ''} each)",
            "",
            "Channel: the derived `interactions` folder and the side tables as "
            f"{', '.join(f'`{f}`' for f in channel.get('sides', {}).values())} "
            f"(without {', '.join(channel.get('dropped_side_columns', []))}). Training "
            f"arguments: `{' '.join(jobs['arguments'])}`; scoring arguments: "
            f"`{' '.join(jobs['score_arguments'])}`.",
            "",
            "Each job runs in a wrapper process of its own; wall time around `run_job` there, CPU "
            "time and peak RSS from `getrusage(RUSAGE_CHILDREN)` (the kernel's high-water mark of "
            "the job process).",
            "",
            "| job | runs | wall median (min-max) | CPU median | peak RSS median (min-max) "
            "| load avg before |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name in ("train", "score"):
            stopped = jobs.get(f"{name}_stopped")
            if name not in jobs and stopped:
                lines.append(
                    f"| {name} (stopped) | 1 | over {stopped['seconds']:,.1f} s, stopped "
                    f"| {stopped['cpu_seconds']:,.1f} s until then "
                    f"| {size_text(stopped['peak_rss_bytes'])} until then "
                    f"| {load_text(stopped['load_average_before'])} |"
                )
                continue
            if name not in jobs:
                lines.append(f"| {name} | 0 | not run | | | |")
                continue
            lines.append(job_row(name, jobs[name]))
        stopped = jobs.get("score_stopped")
        if stopped:
            lines += ["", f"**Scoring stopped:** {stopped['statement']}"]
        scored = jobs.get("scored")
        if scored:
            lines += [
                "",
                "Scored: "
                + "; ".join(
                    f"{d.replace('_', ' ')}: {s['query_firms']:,} query firms, "
                    f"{s['rows']:,} stored pairs ({s['shown_rows']:,} shown)"
                    for d, s in scored.items()
                )
                + f". Model archive {size_text(jobs['model_archive']['bytes'])}.",
            ]
        h = jobs.get("held_out")
        if h:
            same = "identical" if jobs["metrics_identical_across_runs"] else "NOT identical"
            b = h["bootstrap"]
            lines += [
                "",
                f"## Held-out quality (after {h['cutoff'][:10]}"
                f"{' to ' + h['horizon_end'][:10] if h.get('horizon_end') else ''})",
                "",
                f"From the training job's `metrics.json` ({same} across the {jobs['repeat']} "
                f"run{'s' if jobs['repeat'] != 1 else ''}): lists of {h['k']}, fitted on the "
                "interactions before the cutoff and judged on the pairs that engaged after it. "
                f"{b['level']:.0%} intervals from {b['resamples']} bootstrap resamples of "
                f"query firms ({b['exposure_resamples']} for coverage and Gini). Held out: "
                + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in h["held_out"].items())
                + ".",
                *_training_lines(h["training"]),
                *_quality_lines(h),
            ]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    """`matching-<UTC date>.json` and `matching-latest.md`, each replaced in one step."""
    return results_files.write_results("matching", results, render_markdown, folder)


# --- Command --------------------------------------------------------------------------------------


def run(
    *,
    scale: str,
    seed: int,
    repeat: int,
    work: Path,
    results_folder: Path,
    command: str,
    train_options: Sequence[str] = (),
    score_options: Sequence[str] = (),
    notes: Sequence[str] = (),
    spark: SparkSession | None = None,
) -> dict[str, Any]:
    """The whole benchmark; results are written after each part, so a failure keeps the rest.

    Without `spark`, a session is made for the Spark steps and stopped before the jobs run.
    """
    from exportintel.etl.session import spark_session
    from exportintel.generate.common import SCALES

    results: dict[str, Any] = {
        "parameters": {
            "scale": scale,
            "seed": seed,
            "repeat": repeat,
            "candidates": LOCAL.matching_candidates,
            "shown": LOCAL.matching_shown,
            "train_options": list(train_options),
            "score_options": list(score_options),
            "command": command,
        },
        "notes": list(notes),
    }

    def save(key: str, value: Any) -> None:
        results[key] = value
        write_results(results, results_folder)

    source, generate_figures = generation(work, scale, seed)
    manifest = json.loads((source / "manifest.json").read_text())
    session = spark or spark_session("exportintel-bench-matching")
    results["machine"] = machine_info(session)
    lake = work / f"lake-matching-{scale}-{seed}"
    continuity_lake = work / f"lake-continuity-{scale}-{seed}"
    size = SCALES[scale]
    try:
        save(
            "data",
            {
                "scale_counts": {
                    "exporters": size.exporters,
                    "buyers": size.buyers,
                    "web_events": size.web_events,
                },
                "generate": generate_figures,
                "generated_rows": {name: manifest["datasets"][name]["rows"] for name in CURATED},
            },
        )
        pipeline: dict[str, Any] = {"run_utc": now_utc()}
        pipeline["curate"] = curate(
            session,
            source=source,
            lake=lake,
            copy_from=continuity_lake if continuity_lake.is_dir() else None,
        )
        save("pipeline", pipeline)
        pipeline["derive"] = derive(session, lake=lake)
        save("pipeline", pipeline)
    finally:
        if spark is None:
            session.stop()

    jobs = work / f"jobs-matching-{scale}-{seed}"
    results["channel"] = training_channel(lake, jobs / "channel")
    results["jobs"] = train_and_score(
        channel=jobs / "channel",
        jobs=jobs,
        repeat=repeat,
        settings=LOCAL,
        train_options=train_options,
        score_options=score_options,
        on_part=lambda figures: save("jobs", figures),
    )
    results["machine"]["finished_utc"] = now_utc()
    write_results(results, results_folder)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = model_bench_parser("bench.matching", __doc__, repeat=1, work=DEFAULT_WORK)
    parser.add_argument(
        "--train-options",
        type=shlex.split,
        default=[],
        help="more arguments for train.py, one string (--train-options='--bootstrap-resamples 50')",
    )
    parser.add_argument(
        "--score-options",
        type=shlex.split,
        default=[],
        help="more arguments for score.py, one string (--score-options='--approximate-reasons')",
    )
    parser.add_argument(
        "--resume-scoring",
        type=Path,
        metavar="RESULTS_JSON",
        help="score again with the models kept by the run that wrote RESULTS_JSON",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("EXPORTINTEL_SPARK_MEMORY", SPARK_MEMORY)

    command = command_line("bench.matching", argv)
    if args.resume_scoring:
        results = resume_scoring(
            json.loads(args.resume_scoring.read_text()),
            work=args.work,
            score_options=args.score_options,
            note=" ".join(args.note) or f"Scoring run again ({command}).",
        )
        write_results(results, args.results)
        print(render_markdown(results))
        return 0
    results = run(
        scale=args.scale,
        seed=args.seed,
        repeat=args.repeat,
        work=args.work,
        results_folder=args.results,
        command=command,
        train_options=args.train_options,
        score_options=args.score_options,
        notes=args.note,
    )
    json_path, md_path = write_results(results, args.results)
    print(render_markdown(results))
    print(f"written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
