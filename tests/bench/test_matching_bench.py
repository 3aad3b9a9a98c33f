"""The matching benchmark at the tiny scale: real figures come out, and the results files.

Slow: generate, curate the eight inputs, derive, train and score once (minutes on a loaded
2-core machine, most of it in Spark and in the training job's two fits).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from bench.matching import CURATED, DERIVED, curate, render_markdown, run

MIB = 2**20
# Fewer resamples: the benchmark's figures, not the intervals' precision, are tested.
TRAIN_OPTIONS = ("--bootstrap-resamples", "50")


@pytest.mark.slow
def test_whole_benchmark_at_the_tiny_scale(spark: SparkSession, tmp_path: Path) -> None:
    # When the whole benchmark runs at the tiny scale, one run of each job
    work, folder = tmp_path / "work", tmp_path / "results"
    results = run(
        scale="tiny",
        seed=7,
        repeat=1,
        work=work,
        results_folder=folder,
        command="test",
        train_options=TRAIN_OPTIONS,
        spark=spark,
    )

    # Then the generation was measured, since this run made it
    assert results["data"]["generate"]["seconds"] > 0
    # and each of the eight inputs was curated here (no continuity lake to copy from), measured
    tables = results["pipeline"]["curate"]["tables"]
    assert list(tables) == list(CURATED)
    for name, figures in tables.items():
        assert figures["origin"] == "curated" and not figures["reused"], name
        assert figures["written"] == figures["rows"] > 0, name
        assert figures["seconds"] > 0 and figures["peak_rss_bytes"] > 0, name
    # and the three tables were derived, with time and memory
    derived = results["pipeline"]["derive"]
    assert derived["seconds"] > 0 and derived["peak_pss_bytes"] > 0
    assert set(derived["tables"]) == set(DERIVED)
    assert derived["tables"]["interactions"]["rows"] == derived["summary"]["interactions"]["rows"]
    assert derived["summary"]["interactions"]["rows"] > 0

    # and both jobs ran once, with positive time, CPU and peak memory of the job process
    jobs = results["jobs"]
    assert jobs["arguments"][:4] == ["--candidates", "100", "--shown", "10"]
    assert jobs["arguments"][4:] == list(TRAIN_OPTIONS)
    for name in ("train", "score"):
        (only,) = jobs[name]["runs"]
        assert only["seconds"] > 0 and only["cpu_seconds"] > 0
        assert only["peak_rss_bytes"] > 50 * MIB  # pandas, xgboost and implicit loaded
    # and every exporter of the data got recommendations (the interactions may name a few more
    # than the curated exporters table), and buyers got theirs
    scored = jobs["scored"]
    exporters = scored["buyers_for_exporter"]["query_firms"]
    assert exporters >= derived["summary"]["matching_exporters"]["rows"]
    assert 0 < scored["buyers_for_exporter"]["rows"] <= 100 * exporters
    assert scored["exporters_for_buyer"]["rows"] > 0
    # and the held-out quality table holds intervals for the hybrid and its baselines
    held_out = jobs["held_out"]
    assert held_out["k"] == 10
    for direction in ("exporter", "buyer"):
        part = held_out["directions"][direction]
        models = part["slices"]["all"]["models"]
        assert {"popular", "content", "cf", "hybrid"} <= set(models)
        for model, values in models.items():
            for metric in ("ndcg", "recall", "map"):
                interval = values[metric]
                assert interval["lo"] <= interval["value"] <= interval["hi"], (model, metric)
        assert 0 < part["exposure"]["hybrid"]["coverage"]["value"] <= 1

    # and the files hold what was returned
    (json_file,) = folder.glob("matching-*.json")
    assert json.loads(json_file.read_text()) == results
    markdown = (folder / "matching-latest.md").read_text()
    assert markdown == render_markdown(results)
    assert "| derive matching inputs |" in markdown and "| score | 1 |" in markdown
    assert "## Held-out quality" in markdown and "| **hybrid** |" in markdown

    # and a second curation reuses the lake without running Spark jobs
    again = curate(spark, source=work / "generated-tiny-7", lake=work / "lake-matching-tiny-7")
    assert all(t["reused"] for t in again["tables"].values())
    assert again["measured"] is None
    assert again["tables"]["web_events"]["seconds"] == tables["web_events"]["seconds"]
