"""The SageMaker scripts as the benchmarks measure them: each job in a fresh wrapper process that
reads the job's peak memory and CPU time from the kernel, and the train-then-score loop that
every model's benchmark repeats."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.etl import log
from bench.results_files import RESULTS, load_text, now_utc, size_text
from exportintel.local.sagemaker import JobFailed, JobFolders, pack_model, run_job, script


@dataclass(frozen=True)
class Job:
    """One run of `sagemaker_jobs/<model>/<name>.py` with its channels, under `root`."""

    model: str
    name: str  # "train" or "score"
    job_name: str
    channels: dict[str, Path]
    root: Path
    arguments: list[str]


def _job_in_wrapper(conn: Connection, job: Job) -> None:
    """The wrapper process: one job, then its wall time and the kernel's figures for it.

    RUSAGE_CHILDREN covers the children this process has waited for: the job process alone
    (it starts none of its own). ru_maxrss is in KiB on Linux.
    """
    started = time.perf_counter()
    failure = None
    try:
        run_job(
            script(job.model, job.name),
            job_name=job.job_name,
            channels=job.channels,
            folders=JobFolders(job.root),
            arguments=job.arguments,
        )
    except JobFailed as error:
        failure = str(error)
    seconds = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    conn.send(
        {
            "seconds": seconds,
            "cpu_seconds": used.ru_utime + used.ru_stime,
            "peak_rss_bytes": used.ru_maxrss * 1024,
            "failure": failure,
        }
    )
    conn.close()


def measured_job(job: Job) -> dict[str, Any]:
    """Run `job` through `run_job` in a fresh wrapper process; its figures."""
    shutil.rmtree(job.root, ignore_errors=True)
    context = multiprocessing.get_context("spawn")  # a clean process: no Spark, no fork state
    receive, send = context.Pipe(duplex=False)
    load = os.getloadavg()[0]
    wrapper = context.Process(target=_job_in_wrapper, args=(send, job))
    wrapper.start()
    send.close()
    try:
        figures: dict[str, Any] = receive.recv()
    except EOFError:
        figures = {"failure": f"the wrapper process ended with exit code {wrapper.exitcode}"}
    wrapper.join()
    if figures.get("failure"):
        raise JobFailed(f"{job.name} job {job.job_name}: {figures['failure']}")
    del figures["failure"]
    return {**figures, "load_average_before": load}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every run's figures, and the median, min and max of each."""

    def spread(key: str) -> dict[str, float]:
        values = [r[key] for r in runs]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "runs": runs,
        "seconds": spread("seconds"),
        "cpu_seconds": spread("cpu_seconds"),
        "peak_rss_bytes": spread("peak_rss_bytes"),
    }


@dataclass
class JobPlan:
    """What one model's train and score jobs read, and what the results keep of them.

    `scored(output_data)`: what the results keep of a scoring job's output."""

    model: str
    train_channels: dict[str, Path]
    score_channels: dict[str, Path]  # besides `model`, the packed model of the same run
    train_arguments: list[str]
    score_arguments: list[str]
    scored: Callable[[Path], dict[str, Any]]
    score_runs: list[dict[str, Any]] = field(default_factory=list)

    def score(self, jobs: Path, i: int) -> dict[str, Any]:
        """Score with the packed model of run `i` (`jobs/model-<i>`); the scoring figures of
        the runs so far."""
        root = jobs / f"score-{i}"
        log(f"score run {i}: {' '.join(self.score_arguments)}")
        self.score_runs.append(
            measured_job(
                Job(
                    self.model,
                    "score",
                    job_name=f"bench-{self.model}-score-{i}",
                    channels={**self.score_channels, "model": jobs / f"model-{i}"},
                    root=root,
                    arguments=self.score_arguments,
                )
            )
        )
        log(f"score run {i}: {self.score_runs[-1]['seconds']:.1f} s")
        return {
            "score": summary(self.score_runs),
            "scored": self.scored(JobFolders(root).output_data),
        }


def _reproducible(metrics: dict[str, Any]) -> dict[str, Any]:
    """The part of a `metrics.json` every seeded run must give again: all but the version name."""
    return {k: v for k, v in metrics.items() if k != "model_version"}


def repeated_jobs(
    plan: JobPlan,
    jobs: Path,
    repeat: int,
    on_part: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train, pack the model as SageMaker hands it over, then score with it, `repeat` times,
    so that train and score runs see the same machine. Returns the figures and the first
    run's `metrics.json`; `on_part(figures)` is called after each job."""
    train_runs: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    figures: dict[str, Any] = {
        "run_utc": now_utc(),
        "repeat": repeat,
        "arguments": plan.train_arguments,
        "score_arguments": plan.score_arguments,
        "metrics_identical_across_runs": True,
    }
    for i in range(1, repeat + 1):
        root = jobs / f"train-{i}"
        log(f"train run {i}/{repeat}: {' '.join(plan.train_arguments)}")
        train_runs.append(
            measured_job(
                Job(
                    plan.model,
                    "train",
                    job_name=f"bench-{plan.model}-{i}",
                    channels=plan.train_channels,
                    root=root,
                    arguments=plan.train_arguments,
                )
            )
        )
        log(f"train run {i}/{repeat}: {train_runs[-1]['seconds']:.1f} s")
        metrics = json.loads((JobFolders(root).model / "metrics.json").read_text())
        first = metrics if first is None else first
        figures["metrics_identical_across_runs"] &= _reproducible(metrics) == _reproducible(first)
        figures["train"] = summary(train_runs)
        if on_part is not None:
            on_part(figures)

        model = jobs / f"model-{i}"
        shutil.rmtree(model, ignore_errors=True)
        started = time.perf_counter()
        archive = pack_model(JobFolders(root).model, model / "model.tar.gz")
        figures["model_archive"] = {
            "bytes": archive.stat().st_size,
            "pack_seconds": time.perf_counter() - started,
        }
        figures.update(plan.score(jobs, i))
        if on_part is not None:
            on_part(figures)
    assert first is not None, "repeat must be at least 1"
    return figures, first


def job_row(name: str, jobs: dict[str, Any]) -> str:
    """A Markdown table row of a job's `summary`: runs, wall median (min-max), CPU median,
    peak RSS median (min-max), the load average before each run."""
    s, r = jobs["seconds"], jobs["peak_rss_bytes"]
    loads = ", ".join(load_text(run["load_average_before"]) for run in jobs["runs"])
    return (
        f"| {name} | {len(jobs['runs'])} | {s['median']:,.1f} s ({s['min']:,.1f}-"
        f"{s['max']:,.1f}) | {jobs['cpu_seconds']['median']:,.1f} s "
        f"| {size_text(r['median'])} ({size_text(r['min'])}-{size_text(r['max'])}) | {loads} |"
    )


def model_bench_parser(
    module: str, doc: str | None, *, repeat: int, work: Path
) -> argparse.ArgumentParser:
    """The options every model benchmark (Spark steps, then its jobs) takes."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=(doc or "").split("\n")[0]
    )
    parser.add_argument("--scale", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=repeat, help="training and scoring runs")
    parser.add_argument("--work", type=Path, default=work, help="generated data, lakes, jobs")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--note", action="append", default=[], help="a plain statement for the results file"
    )
    return parser


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """The command as the results file states it, quoted so that it can be run again."""
    given = sys.argv[1:] if argv is None else argv
    return " ".join([".venv/bin/python", "-m", module, *(shlex.quote(a) for a in given)])
