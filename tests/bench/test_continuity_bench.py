"""The continuity benchmark at the tiny scale: real figures come out, and the results files.

Two layers: the job part alone on a synthetic feature panel (no Spark; about 1.5 minutes on a
loaded 2-core machine), and the whole benchmark (generate, curate, derive, train, score) at the
tiny scale with one run of each job (slow: the Spark steps cost minutes even on 300 exporters,
most of it in the features job's many stages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from bench.continuity import (
    CURATED,
    MODEL_NAMES,
    render_markdown,
    run,
    train_and_score,
    write_results,
)
from bench.etl import machine_info
from exportintel.settings import LOCAL
from tests.sagemaker.data import logistic_panel, write_channel

MIB = 2**20


def _check_jobs(jobs: dict[str, Any], *, repeat: int, rows: int) -> None:
    for name in ("train", "score"):
        assert len(jobs[name]["runs"]) == repeat
        for run_ in jobs[name]["runs"]:
            assert run_["seconds"] > 0 and run_["cpu_seconds"] > 0
            # a Python process with pandas and xgboost loaded holds well over 50 MiB
            assert run_["peak_rss_bytes"] > 50 * MIB
        spread = jobs[name]["seconds"]
        assert spread["min"] <= spread["median"] <= spread["max"]
    assert jobs["metrics_identical_across_runs"]
    assert jobs["scored"]["rows"] == rows
    held_out = jobs["held_out"]
    assert held_out["chosen_model"] in ("lr", "xgboost")
    assert min(held_out["years"]["test"]) > max(held_out["years"]["validation"])
    for model in MODEL_NAMES:
        for metric in ("auc", "ks", "brier", "ece"):
            interval = held_out["models"][model][metric]
            assert interval["lo"] <= interval["value"] <= interval["hi"], (model, metric)
        assert 0 <= held_out["risk_group"][model]["share_flagged"] <= 1


def test_job_figures_on_a_synthetic_panel(tmp_path: Path) -> None:
    # Given a features channel of 1,000 firms over eight years
    frame = logistic_panel(firms=1000)
    features = write_channel(frame, tmp_path / "features")

    # When training and scoring run twice each, every job in its own wrapper process
    jobs = train_and_score(features=features, jobs=tmp_path / "jobs", repeat=2, settings=LOCAL)

    # Then every run has positive time, CPU and peak memory, and the metrics are reproduced
    _check_jobs(jobs, repeat=2, rows=len(frame))
    # the panel's true model is a logistic regression: both models beat "exported in T-1"
    models = jobs["held_out"]["models"]
    assert models["lr"]["auc"]["value"] > models["baseline"]["auc"]["value"]

    # and the results are written as JSON and Markdown
    results = {
        "machine": machine_info(),
        "parameters": {"scale": "synthetic", "seed": 1, "repeat": 2, "command": "test"},
        "features": {"rows": len(frame), "columns": frame.shape[1], "files": 1, "bytes": 1},
        "jobs": jobs,
    }
    json_path, md_path = write_results(results, tmp_path / "results")
    assert json.loads(json_path.read_text())["jobs"]["train"]["runs"][0]["seconds"] > 0
    markdown = md_path.read_text()
    assert "| train | 2 |" in markdown and "| score | 2 |" in markdown
    assert "| lr" in markdown and "| baseline |" in markdown


@pytest.mark.slow
def test_whole_benchmark_at_the_tiny_scale(spark: SparkSession, tmp_path: Path) -> None:
    # When the whole benchmark runs at the tiny scale, one run of each job
    results = run(
        scale="tiny",
        seed=7,
        repeat=1,
        work=tmp_path / "work",
        results_folder=tmp_path / "results",
        command="test",
        spark=spark,
    )

    # Then the generation was measured, since this run made it
    data = results["data"]
    assert data["generate"]["seconds"] > 0 and data["generate"]["peak_rss_bytes"] > 0
    # and each of the eight tables was curated, with time and memory
    curated = results["pipeline"]["curate"]["datasets"]
    assert list(curated) == list(CURATED)
    for name, figures in curated.items():
        assert figures["written"] > 0, name
        assert (
            figures["read"] == figures["written"] + figures["quarantined"] + figures["duplicates"]
        )
        assert figures["seconds"] > 0 and figures["peak_rss_bytes"] > 0
    # and both tables were derived; the jobs read every row of the features
    derived = results["pipeline"]["derive"]
    assert derived["export_status"]["rows"] > 0
    features = derived["continuity_features"]
    assert 0 < features["labelled"] <= features["rows"] == results["features"]["rows"]
    _check_jobs(results["jobs"], repeat=1, rows=features["rows"])

    # and the files hold what was returned
    (json_file,) = (tmp_path / "results").glob("continuity-*.json")
    assert json.loads(json_file.read_text()) == results
    markdown = (tmp_path / "results" / "continuity-latest.md").read_text()
    assert markdown == render_markdown(results)
    assert "| derive continuity_features |" in markdown
    assert "## Held-out metrics" in markdown
