"""The ETL benchmark at a tiny size: its figures come out, positive and sane, in < 30 s."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import SparkSession

from bench.etl import generated, machine_info, query_bytes, throughput, write_results

EVENTS = 30_000  # past the end of the tiny scale's ~20k events: the rewritten copies are used


def test_benchmark_figures_at_a_tiny_size(spark: SparkSession, tmp_path: Path) -> None:
    # Given the tiny generated data
    source = generated(tmp_path, "tiny", 7)

    # When the throughput and bytes-read parts run once each
    result = throughput(
        spark, sizes=[EVENTS], repeats=[1], source=source, work=tmp_path, warmup=False
    )
    queries = query_bytes(
        spark, work=tmp_path, scale="tiny", seed=7, names=["match_outcomes_by_channel"]
    )

    # Then both engines report positive throughput on exactly the events asked for
    size = result["sizes"][0]
    assert size["events"] == EVENTS and size["raw_bytes"] > 0
    for engine in ("spark", "duckdb"):
        assert size[engine]["median_seconds"] > 0
        assert size[engine]["events_per_second"] > 0
        assert size[engine]["runs"][0]["written"] > 0
    run = size["spark"]["runs"][0]
    assert run["written"] + run["quarantined"] + run["duplicates"] == EVENTS
    # the copies' events are new events, not duplicates of the originals
    assert run["duplicates"] < EVENTS * 0.01
    assert size["spark_over_duckdb"] > 0

    # and the column-selective query reads less from Parquet than from the raw JSON
    (query,) = queries["queries"]
    used = ["channel", "deal_closed", "deal_value_usd", "meeting_held", "requested_on"]
    assert query["tables"] == {"match_history": used}
    assert query["curated_column_chunk_bytes"] > 0 and query["raw_file_bytes"] > 0
    assert query["curated_read_bytes"] > 0 and query["raw_read_bytes"] > 0
    assert query["ratio"] < 1 and query["measured_ratio"] < 1
    assert query["curated_rows"] > 0

    # and the results are written as JSON and Markdown
    results = {"machine": machine_info(spark), "throughput": result, "queries": queries}
    json_path, md_path = write_results(results, tmp_path / "results")
    assert json.loads(json_path.read_text())["throughput"]["sizes"][0]["events"] == EVENTS
    assert "| match_outcomes_by_channel |" in md_path.read_text()
