"""The market suggestions benchmark at the tiny scale: real figures come out for every method,
and the results files (about half a minute: one generated world, eight tables curated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from bench.markets import METHODS, run, write_results

pytestmark = pytest.mark.slow


def test_one_seed_at_the_tiny_scale(spark: SparkSession, tmp_path: Path) -> None:
    results = tmp_path / "results"
    figures = run(scale="tiny", seeds=[7], work=tmp_path, resamples=50, command="test", spark=spark)
    write_results(figures, results)
    assert spark.sparkContext._jsc is not None  # the shared session is still on  # fmt: skip
    (data_file,) = results.glob("markets-*.json")
    data = json.loads(data_file.read_text())
    (seed,) = data["seeds"]
    held = seed["held_out"]
    assert held["years"] == [2023, 2024, 2025] and held["events"] > 20
    assert min(held["years"]) > max(seed["train_years"])
    for method in METHODS:
        interval = held["hit_at_5"][method]
        assert 0 <= interval["lo"] <= interval["value"] <= interval["hi"] <= 1, method
    assert seed["scored"]["firms"] > 250 and seed["scored"]["rows"] == 5 * seed["scored"]["firms"]
    report = (results / "markets-latest.md").read_text()
    assert "| 7 | 2023-2025 |" in report and "largest_importers" in report
