"""Continuity model at scale: the Spark steps before it, training and scoring time and peak
memory, and the held-out metrics with their intervals.

    .venv/bin/python -m bench.continuity [--scale large] [--seed 7] [--repeat 3] [--work DIR]
                                         [--results DIR]

The path measured is the one the platform runs, all existing code, on local files:

1. Generate the scale (`generate`; once per work folder, reused by later runs).
2. Curate the eight tables the features read, straight from the generated JSON lines
   (`curate_folder`, local Spark), one call per dataset so that each is timed.
3. Derive `export_status` and then `continuity_features` (the Glue jobs' bodies).
4. Train and score with the SageMaker scripts as processes (`run_job`), `--repeat` times each,
   alternating train and score so that both see the same machine. Each job runs inside its own
   wrapper process, which reads the job's peak resident memory from the kernel
   (`getrusage(RUSAGE_CHILDREN).ru_maxrss`: the high-water mark of the job process, not a
   sample) and its CPU time; the wall time is taken around `run_job` in that wrapper.
5. The held-out metrics come from the first training run's `metrics.json`; every later run must
   give the same ones (the protocol is seeded), which the results record.

Spark steps run once each, measured by sampling the process tree (driver, JVM, Python workers)
from /proc as `bench.etl` does. Spark is stopped before the jobs run, so that its idle JVM
neither holds memory nor shares the cores with them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from bench import results_files
from bench.etl import generated, log, machine_info
from bench.jobs import JobPlan, command_line, job_row, model_bench_parser, repeated_jobs
from bench.results_files import load_text, now_utc, seconds_text, size_text
from bench.sampling import Footprint, Usage, step_row, usage_figures
from exportintel.glue_jobs import CONTINUITY_FEATURES, EXPORT_STATUS
from exportintel.settings import LOCAL, EnvironmentSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RESULTS = results_files.RESULTS
DEFAULT_WORK = Path(__file__).resolve().parent.parent / "data" / "bench"
KEY = b"k" * 32
MODEL = "continuity"
DERIVED = (*EXPORT_STATUS.writes, *CONTINUITY_FEATURES.writes)
CURATED = tuple(t for t in CONTINUITY_FEATURES.reads if t not in DERIVED)
METRIC_NAMES = ("auc", "ks", "brier", "ece")
MODEL_NAMES = ("lr", "xgboost", "baseline")
WARMUP = "country_risk"  # the smallest input: curated once, unmeasured, into a scratch lake
# Room for the large scale's export history in one local Spark job; set the variable to override.
SPARK_MEMORY = "6g"


# --- Measuring ----------------------------------------------------------------------------------


# --- Spark steps --------------------------------------------------------------------------------


def curate(spark: SparkSession, *, source: Path, lake: Path) -> dict[str, Any]:
    """The eight curated tables the features read, from the generated lines; timed per dataset."""
    shutil.rmtree(lake, ignore_errors=True)
    warm_up(spark, source=source, lake=lake)
    datasets = {name: curate_measured(spark, name, source=source, lake=lake) for name in CURATED}
    return combined(datasets)


def warm_up(spark: SparkSession, *, source: Path, lake: Path) -> None:
    """One unmeasured curation of the smallest input into a scratch lake beside `lake`: the
    first job of a session pays for JIT and Python worker start-up."""
    from exportintel.etl.local_runner import curate_folder

    warmup = lake.with_name(lake.name + "-warmup")
    curate_folder(spark, data=source, lake=warmup, key=KEY, datasets=[WARMUP])
    shutil.rmtree(warmup)


def curate_measured(spark: SparkSession, name: str, *, source: Path, lake: Path) -> dict[str, Any]:
    """One dataset curated with `curate_folder` into `lake`: its time, memory and row counts."""
    from exportintel.etl.local_runner import curate_folder

    with Usage(tree=True) as usage, Footprint() as footprint:
        started = time.perf_counter()
        summary = curate_folder(spark, data=source, lake=lake, key=KEY, datasets=[name])[name]
        seconds = time.perf_counter() - started
    log(f"curated {name}: {summary.written:,} rows in {seconds:.1f} s")
    return {
        **usage_figures(usage, seconds, footprint),
        "read": summary.read,
        "written": summary.written,
        "quarantined": summary.quarantined,
        "duplicates": summary.duplicates,
    }


def combined(datasets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The curation of several datasets: summed times, the highest peaks, and each dataset."""
    return {
        "seconds": sum(d["seconds"] for d in datasets.values()),
        "cpu_seconds": _sum_or_none([d["cpu_seconds"] for d in datasets.values()]),
        "peak_rss_bytes": _max_or_none([d["peak_rss_bytes"] for d in datasets.values()]),
        "peak_anonymous_rss_bytes": _max_or_none(
            [d["peak_anonymous_rss_bytes"] for d in datasets.values()]
        ),
        "peak_pss_bytes": _max_or_none([d["peak_pss_bytes"] for d in datasets.values()]),
        "peak_anonymous_pss_bytes": _max_or_none(
            [d["peak_anonymous_pss_bytes"] for d in datasets.values()]
        ),
        "datasets": datasets,
    }


def table_paths(lake: Path) -> dict[str, str]:
    """Every table of the features job to its folder: curated inputs, derived outputs."""
    paths = {t: str(lake / "curated" / t) for t in CURATED}
    paths.update({t: str(lake / "derived" / t) for t in DERIVED})
    return paths


def derive(spark: SparkSession, *, lake: Path) -> dict[str, Any]:
    """`export_status`, then `continuity_features`, each timed on its own."""
    from exportintel.continuity.derive import derive_export_status, derive_features

    paths = table_paths(lake)
    bodies = {"export_status": derive_export_status, "continuity_features": derive_features}
    steps: dict[str, Any] = {}
    for table, body in bodies.items():
        with Usage(tree=True) as usage, Footprint() as footprint:
            started = time.perf_counter()
            summary = body(spark, paths)
            seconds = time.perf_counter() - started
        steps[table] = {
            **usage_figures(usage, seconds, footprint),
            "rows": summary["rows"],
            "labelled": summary.get("labelled"),
            "files": len(list(Path(paths[table]).rglob("*.parquet"))),
            "bytes": sum(p.stat().st_size for p in Path(paths[table]).rglob("*.parquet")),
        }
        log(f"derived {table}: {summary['rows']:,} rows in {seconds:.1f} s")
    return steps


# --- Jobs ---------------------------------------------------------------------------------------


def _held_out(metrics: dict[str, Any]) -> dict[str, Any]:
    """What the results keep of `metrics.json`: the figures, not the calibration parameters."""
    return {
        "model_version": metrics["model_version"],
        "years": metrics["years"],
        "rows": metrics["rows"],
        "chosen_model": metrics["chosen_model"],
        "validation_auc": metrics["selection"]["validation_auc"],
        "lr_c": metrics["lr_c"],
        "xgboost_best_iteration": metrics["xgboost_best_iteration"],
        "features": {k: len(v) for k, v in metrics["features"].items()},
        "bootstrap": metrics["bootstrap"],
        "threshold": metrics["threshold"],
        "models": {m: {k: metrics["models"][m][k] for k in METRIC_NAMES} for m in MODEL_NAMES},
        "baseline_definition": metrics["models"]["baseline"].get("definition"),
        "risk_group": metrics["risk_group"],
    }


def _risk_group(output_data: Path) -> dict[str, Any]:
    index = pq.read_table(output_data / "index.parquet", columns=["risk_group"])
    return {"rows": index.num_rows, "risk_group": int(index.column("risk_group").to_numpy().sum())}


def train_and_score(
    *, features: Path, jobs: Path, repeat: int, settings: EnvironmentSettings
) -> dict[str, Any]:
    """Train, then score with that model, `repeat` times, with the platform's arguments (as
    `exportintel train|score continuity` passes them); the figures of every job process."""
    from exportintel.continuity.local import scoring_arguments, training_arguments

    plan = JobPlan(
        model=MODEL,
        train_channels={"train": features},
        score_channels={"score": features},
        train_arguments=training_arguments(settings),
        score_arguments=scoring_arguments(settings),
        scored=_risk_group,
    )
    figures, first = repeated_jobs(plan, jobs, repeat)
    return {**figures, "held_out": _held_out(first)}


def feature_table(folder: Path) -> dict[str, Any]:
    """Rows, columns and bytes of the features table the jobs read, from the Parquet footers."""
    files = sorted(folder.rglob("*.parquet"))
    schema = pq.read_schema(files[0])
    return {
        "rows": sum(pq.ParquetFile(p).metadata.num_rows for p in files),
        "columns": len(schema.names),
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
    }


# --- Reporting ----------------------------------------------------------------------------------


def _sum_or_none(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _max_or_none(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _interval(m: dict[str, float | None]) -> str:
    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    return f"{f(m['value'])} [{f(m['lo'])}, {f(m['hi'])}]"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _years(years: Sequence[int]) -> str:
    years = sorted(years)
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


def render_markdown(results: dict[str, Any]) -> str:
    p = results["parameters"]
    lines = results_files.report_head("Continuity benchmark", results)
    data = results.get("data")
    if data:
        g = data.get("generate")
        generation = (
            f"generated in {g['seconds']:,.0f} s (CPU {seconds_text(g['cpu_seconds'])}, peak RSS "
            f"{size_text(g['peak_rss_bytes'])}, load average {load_text(g['load_average_before'])} "
            f"before; measured {g['measured_utc']}: {g['method']}), kept in the work folder"
            if g
            else "reused from the work folder (its generation was not measured)"
        )
        lines += [
            "",
            f"## Data: scale {p['scale']} ({data['exporters']:,} exporters), seed {p['seed']}",
            "",
            f"Raw JSON lines {generation}. Curated with `curate_folder` (contract validation, "
            "pseudonymisation, dedupe, quarantine), one call per dataset, after one unmeasured "
            f"warm-up curation of {WARMUP} into a scratch lake (JIT, Python workers).",
        ]
    pipeline = results.get("pipeline")
    if pipeline:
        lines += [
            "",
            "## Pipeline steps on local Spark (one run each)",
            "",
            "Wall and CPU time (user + system of the driver, the JVM and its Python workers). "
            "Memory of that process tree sampled every 0.25 s: peak PSS (each shared page split "
            "among the processes mapping it: the tree's real footprint; anonymous part in "
            "brackets) and, as `bench.etl` reports it, peak summed RSS, which counts the pages "
            "forked Python workers share with their daemon once per worker.",
            "",
            "| step | rows in | rows out | wall | CPU | peak PSS (anonymous) | peak summed RSS "
            "| load avg before |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        steps = [
            (f"curate {name}", f"{d['read']:,}", f"{d['written']:,}", d)
            for name, d in pipeline["curate"]["datasets"].items()
        ]
        steps.append(("**curate, all eight**", "", "", pipeline["curate"]))
        for name, d in pipeline.get("derive", {}).items():
            labelled = f" ({d['labelled']:,} labelled)" if d.get("labelled") is not None else ""
            steps.append((f"derive {name}", "", f"{d['rows']:,}{labelled}", d))
        for step, rows_in, rows_out, d in steps:
            lines.append(step_row(step, rows_in, rows_out, d))
    jobs = results.get("jobs")
    if jobs:
        f, h = results["features"], jobs["held_out"]
        lines += [
            "",
            f"## Training and scoring: the SageMaker scripts as processes ({jobs['repeat']} runs "
            "each)",
            "",
            f"Input: `continuity_features`, {f['rows']:,} firm-years, {f['columns']} columns "
            f"({size_text(f['bytes'])} of Parquet in {f['files']} files); the model uses "
            f"{h['features']['numeric']} numeric and {h['features']['categorical']} categorical "
            f"features ({h['features']['dropped']} dropped). Training fits on "
            f"{h['rows']['train']['n']:,} rows, validates on {h['rows']['validation']['n']:,} and "
            f"holds out {h['rows']['test']['n']:,}; {h['bootstrap']['resamples']} bootstrap "
            "resamples for the intervals. Scoring scores every firm-year "
            f"({jobs['scored']['rows']:,} rows). Arguments: `{' '.join(jobs['arguments'])}`.",
            "",
            "Each job runs in a wrapper process of its own; wall time around `run_job` there, CPU "
            "time and peak RSS from `getrusage(RUSAGE_CHILDREN)` (the kernel's high-water mark of "
            "the job process). Train and score alternate, run after run.",
            "",
            "| job | runs | wall median (min-max) | CPU median | peak RSS median (min-max) "
            "| load avg before |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name in ("train", "score"):
            lines.append(job_row(name, jobs[name]))
        same = "identical" if jobs["metrics_identical_across_runs"] else "NOT identical"
        years = h["years"]
        lines += [
            "",
            f"## Held-out metrics (test years {_years(years['test'])}; trained on "
            f"{_years(years['train'])}, validated on {_years(years['validation'])})",
            "",
            f"From the training job's `metrics.json` ({same} across the {jobs['repeat']} runs). "
            f"95% intervals from {h['bootstrap']['resamples']} bootstrap resamples of firms. "
            f"Chosen model: **{h['chosen_model']}** (validation AUC lr "
            f"{h['validation_auc']['lr']:.3f}, xgboost {h['validation_auc']['xgboost']:.3f}). "
            f"Baseline: {h['baseline_definition']}.",
            "",
            "| model | AUC | KS | Brier | ECE |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in MODEL_NAMES:
            mm = h["models"][name]
            chosen = " (chosen)" if name == h["chosen_model"] else ""
            lines.append(
                f"| {name}{chosen} | {_interval(mm['auc'])} | {_interval(mm['ks'])} "
                f"| {_interval(mm['brier'])} | {_interval(mm['ece'])} |"
            )
        lines += [
            "",
            f"Risk group at the threshold {h['threshold']} (index below it), on the held-out "
            f"years; the scoring run flagged {jobs['scored']['risk_group']:,} of "
            f"{jobs['scored']['rows']:,} firm-years over all years.",
            "",
            "| model | share flagged | discontinued caught (recall) "
            "| flagged that discontinued (precision) |",
            "|---|---:|---:|---:|",
        ]
        for name in MODEL_NAMES:
            g = h["risk_group"][name]
            lines.append(
                f"| {name} | {_share(g['share_flagged'])} | {_share(g['discontinued_caught'])} "
                f"| {_share(g['flagged_discontinued'])} |"
            )
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    """`continuity-<UTC date>.json` and `continuity-latest.md`, each replaced in one step."""
    return results_files.write_results("continuity", results, render_markdown, folder)


# --- Command --------------------------------------------------------------------------------------


def generation(work: Path, scale: str, seed: int) -> tuple[Path, dict[str, Any] | None]:
    """The generated folder, and the figures of the run that generated it.

    Generating the large scale takes long, so a work folder keeps it for later runs; the time
    and peak memory of the generation are kept beside it (`generated-<scale>-<seed>.json`)
    when a benchmark run generated it, and reported as that run's figures.
    """
    record = work / f"generated-{scale}-{seed}.json"
    if (work / f"generated-{scale}-{seed}" / "manifest.json").exists():
        figures = json.loads(record.read_text()) if record.exists() else None
        return generated(work, scale, seed), figures
    with Usage(tree=False) as usage:
        started = time.perf_counter()
        source = generated(work, scale, seed)
        seconds = time.perf_counter() - started
    figures = {
        "measured_utc": now_utc(),
        **usage_figures(usage, seconds),
        "method": "generate() in the benchmark process; its RSS sampled every 0.25 s",
    }
    record.write_text(json.dumps(figures, indent=2) + "\n")
    return source, figures


def run(
    *,
    scale: str,
    seed: int,
    repeat: int,
    work: Path,
    results_folder: Path,
    command: str,
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
            "threshold": LOCAL.continuity_risk_threshold,
            "command": command,
        },
        "notes": list(notes),
    }

    def save(key: str, value: Any) -> None:
        results[key] = value
        write_results(results, results_folder)

    source, generate_figures = generation(work, scale, seed)
    manifest = json.loads((source / "manifest.json").read_text())
    session = spark or spark_session("exportintel-bench-continuity")
    results["machine"] = machine_info(session)
    lake = work / f"lake-continuity-{scale}-{seed}"
    try:
        save(
            "data",
            {
                "exporters": SCALES[scale].exporters,
                "generate": generate_figures,
                "generated_rows": {name: manifest["datasets"][name]["rows"] for name in CURATED},
            },
        )
        pipeline: dict[str, Any] = {"run_utc": now_utc()}
        pipeline["curate"] = curate(session, source=source, lake=lake)
        save("pipeline", pipeline)
        pipeline["derive"] = derive(session, lake=lake)
        save("pipeline", pipeline)
    finally:
        if spark is None:
            session.stop()

    features = Path(table_paths(lake)["continuity_features"])
    results["features"] = feature_table(features)
    save(
        "jobs",
        train_and_score(
            features=features,
            jobs=work / f"jobs-continuity-{scale}-{seed}",
            repeat=repeat,
            settings=LOCAL,
        ),
    )
    results["machine"]["finished_utc"] = now_utc()
    write_results(results, results_folder)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = model_bench_parser("bench.continuity", __doc__, repeat=3, work=DEFAULT_WORK)
    args = parser.parse_args(argv)
    os.environ.setdefault("EXPORTINTEL_SPARK_MEMORY", SPARK_MEMORY)

    command = command_line("bench.continuity", argv)
    results = run(
        scale=args.scale,
        seed=args.seed,
        repeat=args.repeat,
        work=args.work,
        results_folder=args.results,
        command=command,
        notes=args.note,
    )
    json_path, md_path = write_results(results, args.results)
    print(render_markdown(results))
    print(f"written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
