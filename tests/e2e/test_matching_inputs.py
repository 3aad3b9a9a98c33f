"""The matching inputs Glue entry point as Glue runs it, over the small lake's curated tables.

`matching_inputs.py` as a process with Glue-style arguments: the interactions agree row by row
with the pure Python rule over the same curated tables, staff and anonymous events are left
out, every row of the three tables is valid against its contract and none holds a personal
field, and the summary counts what the tables hold.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from exportintel.continuity.tables import read_table
from exportintel.contracts import PiiClass, get_contract
from exportintel.contracts.tables import curated_table
from exportintel.contracts.validation import validate_record
from exportintel.matching.interactions import interactions
from tests.lake import SmallLake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "glue_scripts" / "matching_inputs.py"
GLUE_ARGUMENTS = ["--job-bookmark-option", "job-bookmark-disable", "--enable-metrics", "true"]
INPUTS = ("web_events", "match_history", "exporters", "buyers", "firm_financials",
          "credit_evaluations", "fx_rates", "commodity_prices")  # fmt: skip
OUTPUTS = ("interactions", "matching_exporters", "matching_buyers")


def _option(table: str) -> str:
    return f"--{table.replace('_', '-')}-path"


@dataclass(frozen=True)
class Run:
    out: Path
    curated: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def run(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("matching")
    curated = small_lake.workdir / "curated"
    command = [sys.executable, str(SCRIPT), "--JOB_NAME", "matching_inputs", *GLUE_ARGUMENTS]
    for table in INPUTS:
        command += [_option(table), str(curated / table)]
    for table in OUTPUTS:
        command += [_option(table), str(out / table)]
    command += ["--summary-path", str(out / "summary.json")]
    done = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(done.stdout[done.stdout.index("{") :]) == summary  # printed as well
    return Run(out, curated, summary)


def _records(frame: DataFrame) -> list[dict[str, Any]]:
    """Rows as records with aware UTC timestamps (Spark hands back naive local time)."""
    return [
        {
            k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v
            for k, v in row.asDict().items()
        }
        for row in frame.collect()
    ]


def _as_json(record: dict[str, Any]) -> dict[str, Any]:
    """Dates and timestamps as the ISO text `validate_record` reads."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()}


def _table(spark: SparkSession, run: Run, name: str) -> DataFrame:
    return read_table(spark, name, str(run.out / name))


def test_the_interactions_are_the_python_rule_s_on_every_row(run: Run, spark: SparkSession) -> None:
    # Given the small lake's curated web events and match history, and the job's output
    events = _records(read_table(spark, "web_events", str(run.curated / "web_events")))
    matches = _records(read_table(spark, "match_history", str(run.curated / "match_history")))
    table = _records(_table(spark, run, "interactions"))
    # Then the table is what the pure function says, row for row
    columns = get_contract("interactions").field_names
    expected = Counter(
        tuple(i.as_record()[c] for c in columns) for i in interactions(events, matches)
    )
    assert Counter(tuple(r[c] for c in columns) for r in table) == expected
    # ... one row per event id, partitioned by the Seoul year of the moment
    assert len({r["event_id"] for r in table}) == len(table) == run.summary["interactions"]["rows"]
    assert all(r["year_partition"] == r["year"] for r in table)
    # ... with no staff or anonymous event
    left_out = {e["event_id"] for e in events if e["actor_type"] in ("staff", "anonymous")}
    assert left_out and not left_out & {r["event_id"] for r in table}
    # ... and the summary's counts are the table's
    counts = Counter(f"{r['source']}/{r['event_type']}/{r['actor']}" for r in table)
    assert run.summary["interactions"]["by_source_event_type_actor"] == dict(counts)
    assert run.summary["interactions"]["web_events_read"] == len(events)


@pytest.mark.parametrize("name", OUTPUTS)
def test_every_row_is_valid_and_none_holds_a_personal_field(
    name: str, run: Run, spark: SparkSession
) -> None:
    contract = get_contract(name)
    frame = _table(spark, run, name)
    table = curated_table(contract)
    assert frame.columns == [c.name for c in (*table.columns, *table.partition_keys)]
    rows = _records(frame)
    assert rows
    invalid = [v for r in rows if (v := validate_record(contract, _as_json(r)).violations)]
    assert not invalid, invalid[:3]
    personal = {
        f.name
        for source in ("exporters", "buyers", "web_events", "match_history")
        for f in get_contract(source).fields
        if f.pii in (PiiClass.DIRECT, PiiClass.QUASI)
    }
    assert not contract.personal_fields() and not personal & set(frame.columns)


def test_the_sides_cover_the_firms_as_of_the_last_rate(run: Run, spark: SparkSession) -> None:
    as_of = dt.date.fromisoformat(run.summary["as_of"])
    rates = read_table(spark, "fx_rates", str(run.curated / "fx_rates"))
    assert max(r["rate_date"] for r in rates.select("rate_date").collect()) == as_of
    for side, source, key, side_key in (
        ("matching_exporters", "exporters", "firm_id", "exporter_id"),
        ("matching_buyers", "buyers", "buyer_id", "buyer_id"),
    ):
        firms = read_table(spark, source, str(run.curated / source))
        founded = {r[key] for r in firms.collect() if r["founding_year"] <= as_of.year}
        rows = _records(_table(spark, run, side))
        assert {r[side_key] for r in rows} == founded
        assert run.summary[side]["rows"] == len(rows)
        assert {r["as_of"] for r in rows} == {as_of}
    exporters = _records(_table(spark, run, "matching_exporters"))
    buyers = _records(_table(spark, run, "matching_buyers"))
    # The generated world has figures, grades, prices and rates for (nearly) every firm
    for name in ("figures_year", "credit_grade", "raw_material_change"):
        assert sum(r[name] is not None for r in exporters) >= 0.9 * len(exporters), name
    assert sum(r["fx_change"] is not None for r in buyers) >= 0.9 * len(buyers)
    assert any(r["bad_credit"] for r in buyers)


def test_a_missing_argument_is_a_clear_error() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--web-events-path", "x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "the following arguments are required: --match-history-path" in done.stderr
