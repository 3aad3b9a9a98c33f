"""The API benchmark at a tiny scale: every figure comes out, sane, and the results files.

Slow-ish (about a minute): the functions' bundles are built or reused and zipped, each
handler is imported once in a fresh process, and a small world is loaded into moto.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.api import PATHS, latency_figures, render_markdown, run
from bench.api_world import Scale
from exportintel.serving.functions import API_FUNCTIONS
from exportintel.serving.tables import FIRMS

TINY = Scale(exporters=200, buyers=2_000, pair_actions=20)
REQUESTS = 50
BATCHES = 2


def test_latency_figures_of_known_samples() -> None:
    figures = latency_figures([i / 1000 for i in range(1, 101)])  # 1 to 100 ms
    assert figures["count"] == 100
    assert figures["p50_ms"] == pytest.approx(50.5)
    assert figures["p99_ms"] == pytest.approx(99.01)
    assert figures["mean_ms"] == pytest.approx(50.5)
    assert figures["max_ms"] == pytest.approx(100.0)
    assert figures["per_second"] == pytest.approx(100 / 5.05)


@pytest.mark.slow
def test_whole_benchmark_at_a_tiny_scale(tmp_path: Path) -> None:
    # Given the handlers' environment as it was before
    table_before = os.environ.get(FIRMS.env_var)

    # When the benchmark runs at a tiny scale
    results = run(
        scale_name="tiny",
        scale=TINY,
        requests=REQUESTS,
        batches=BATCHES,
        seed=7,
        results_folder=tmp_path,
        command="test",
        import_runs=1,
    )

    # Then every function's package has a size, files and an import time, without pandas
    functions = results["packages"]["functions"]
    assert set(functions) == {f.unit for f in API_FUNCTIONS} | {"counters"}
    for unit, package in functions.items():
        assert package["unzipped_bytes"] > package["zipped_bytes"] > 0, unit
        assert package["files"] > package["pyc_files"] > 0, unit
        assert package["import_seconds"]["median"] > 0, unit
        assert package["heavy_packages"] == [], unit

    # and the world holds every firm, one stored list per exporter and the pair actions
    world = results["world"]
    tables = world["tables"]
    assert tables["firms"]["items"] == TINY.exporters + TINY.buyers
    assert tables["matches"]["items"] == world["lists_loaded"] == TINY.exporters
    assert world["all_lists_loaded"]
    assert 0 < tables["pair_actions"]["items"] <= 2 * TINY.pair_actions
    assert all(t["items_per_second"] > 0 for t in tables.values())
    assert world["load"]["seconds"] > 0 and world["load"]["peak_rss_bytes"] > 0

    # and both paths answered every matching request, with ordered percentiles
    matching = results["matching"]
    for mode in PATHS:
        figures = matching["paths"][mode]
        assert figures["count"] == REQUESTS
        assert figures["statuses"] == {"200": REQUESTS}
        assert 0 < figures["p50_ms"] <= figures["p90_ms"] <= figures["p99_ms"]
        assert figures["p99_ms"] <= figures["max_ms"]
        assert figures["mean_ms"] > 0 and figures["per_second"] > 0
        assert 0 < figures["cpu"]["p50_ms"] <= figures["cpu"]["p99_ms"]
        calls = figures["dynamodb_calls_per_request"]
        assert calls["dynamodb.GetItem"] >= 2 and calls["dynamodb.BatchGetItem"] >= 1
        assert figures["clients_created_per_request"] > 0
        assert 0 < figures["seconds_in_calls"]["mean_ms"] < figures["mean_ms"]
    assert all(ratio > 0 for ratio in matching["http_over_in_process"].values())
    assert matching["matches_shown_mean"] == 10
    assert isinstance(matching["server_disables_nagle"], bool)
    assert matching["load_average_before"] >= 0

    # and every event of every batch was accepted onto the stream, one PutRecords a batch
    events = results["events"]
    for mode in PATHS:
        figures = events["paths"][mode]
        assert figures["accepted"] == figures["events"] == BATCHES * events["batch_size"]
        assert figures["statuses"] == {"200": BATCHES}
        assert figures["events_per_second_median"] > 0
        latency = figures["batch_latency"]
        assert 0 < latency["p50_ms"] <= latency["p99_ms"]
        assert figures["batch_cpu"]["mean_ms"] > 0
        assert figures["calls_per_batch"] == {"kinesis.PutRecords": 1.0}

    # and the files hold what was returned; the environment is as it was
    (json_file,) = tmp_path.glob("api-*.json")
    assert json.loads(json_file.read_text()) == results
    markdown = (tmp_path / "api-latest.md").read_text()
    assert markdown == render_markdown(results)
    assert "| matching |" in markdown and "| HTTP, local server on loopback |" in markdown
    assert os.environ.get(FIRMS.env_var) == table_before
