"""The continuity Glue entry points as Glue runs them, over the small lake's curated tables.

`export_status.py` then `continuity_features.py`, each a process with Glue-style arguments;
the status agrees row by row with the pure Python rule, the features with the contract and
the label with the target's definition, and the screening report is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from exportintel.continuity.features import FEATURES
from exportintel.continuity.screening import screen, write_report
from exportintel.continuity.status import ExportStatus, Status, export_status
from exportintel.continuity.tables import read_table
from exportintel.continuity.target import label
from exportintel.contracts import get_contract
from exportintel.contracts.tables import curated_table
from exportintel.contracts.validation import validate_record
from tests.lake import SmallLake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GLUE_ARGUMENTS = ["--job-bookmark-option", "job-bookmark-disable", "--enable-metrics", "true"]
CURATED_INPUTS = ("export_history", "exporters", "firm_financials", "credit_evaluations",
                  "fx_rates", "commodity_prices", "country_risk", "trade_flows")  # fmt: skip


@dataclass(frozen=True)
class Run:
    out: Path
    curated: Path
    summary: dict[str, Any]


def _run(script: str, arguments: dict[str, str]) -> None:
    command = [sys.executable, str(ROOT / "glue_scripts" / script), "--JOB_NAME", script,
               *GLUE_ARGUMENTS]  # fmt: skip
    for name, value in arguments.items():
        command += [f"--{name}", value]
    done = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def status_run(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("continuity")
    curated = small_lake.workdir / "curated"
    _run("export_status.py", {
        "export-history-path": str(curated / "export_history"),
        "exporters-path": str(curated / "exporters"),
        "export-status-path": str(out / "export_status"),
        "summary-path": str(out / "export_status.json"),
    })  # fmt: skip
    return Run(out, curated, json.loads((out / "export_status.json").read_text()))


@pytest.fixture(scope="module")
def features_run(status_run: Run) -> Run:
    out, curated = status_run.out, status_run.curated
    paths = {f"{t.replace('_', '-')}-path": str(curated / t) for t in CURATED_INPUTS}
    _run("continuity_features.py", {
        **paths,
        "export-status-path": str(out / "export_status"),
        "continuity-features-path": str(out / "continuity_features"),
        "summary-path": str(out / "continuity_features.json"),
    })  # fmt: skip
    return Run(out, curated, json.loads((out / "continuity_features.json").read_text()))


@dataclass(frozen=True)
class History:
    exported: dict[str, set[int]]
    founding: dict[str, int | None]
    first: int
    last: int


def _history(spark: SparkSession, curated: Path) -> History:
    exports = read_table(spark, "export_history", str(curated / "export_history")).collect()
    exported: dict[str, set[int]] = {}
    for row in exports:
        firm_years = exported.setdefault(row["firm_id"], set())  # a 0-value record names a firm
        if row["export_value_usd"] > 0:
            firm_years.add(row["year"])
    agency = read_table(spark, "exporters", str(curated / "exporters")).collect()
    founding: dict[str, int | None] = {r["firm_id"]: r["founding_year"] for r in agency}
    for firm in exported:
        founding.setdefault(firm, None)
    years = [r["year"] for r in exports]
    return History(exported, founding, min(years), max(years))


def test_export_status_agrees_with_the_python_rule_on_every_firm_year(
    status_run: Run, spark: SparkSession
) -> None:
    # Given the small lake's curated exports and exporters, and the job's output
    history = _history(spark, status_run.curated)
    table = read_table(spark, "export_status", str(status_run.out / "export_status")).collect()
    rows = {(r["firm_id"], r["year"]): r for r in table}
    # Then every firm has a row for every observed year ...
    years = range(history.first, history.last + 1)
    assert set(rows) == {(f, y) for f in history.founding for y in years}
    assert status_run.summary["rows"] == len(rows)
    # ... and each row is what the pure function says
    mismatches = []
    for (firm, year), row in rows.items():
        expected = export_status(history.exported.get(firm, set()), history.founding[firm],
                                 history.first, year, last_observed_year=history.last)  # fmt: skip
        flags = (row["exported_y2"], row["exported_y1"], row["exported_y"])
        got = ExportStatus(Status(row["status"]), row["novice"], *flags, row["first_export_year"])
        if got != expected:
            mismatches.append((firm, year, got, expected))
    assert not mismatches, mismatches[:5]
    # The generated world has all three statuses and novices (not a vacuous comparison).
    assert {r["status"] for r in table} == {s.value for s in Status}
    assert any(r["novice"] for r in table)
    assert all(row["year_partition"] == row["year"] for row in table)
    contract = get_contract("export_status")
    assert not [v for r in table if (v := validate_record(contract, r.asDict()).violations)]


def test_continuity_features_match_the_contract_and_the_target(
    features_run: Run, spark: SparkSession
) -> None:
    history = _history(spark, features_run.curated)
    frame = read_table(spark, "continuity_features", str(features_run.out / "continuity_features"))
    table = curated_table(get_contract("continuity_features"))
    assert frame.columns == [c.name for c in (*table.columns, *table.partition_keys)]
    rows = {(r["firm_id"], r["year"]): r for r in frame.collect()}
    contract = get_contract("continuity_features")
    assert not [v for r in rows.values() if (v := validate_record(contract, r.asDict()).violations)]
    # One row per firm-year with exports
    assert set(rows) == {(f, y) for f, ys in history.exported.items() for y in ys}
    assert features_run.summary["rows"] == len(rows)
    # The label is the target's definition, and absent for the last two observed years
    for (firm, year), row in rows.items():
        assert row["label"] == label(history.exported[firm], year,
                                     founding_year=history.founding[firm],
                                     first_observed_year=history.first,
                                     last_observed_year=history.last), (firm, year)  # fmt: skip
    assert {y for (_, y), r in rows.items() if r["label"] is None} == {
        history.last - 1,
        history.last,
    }
    # Required features are always known; market features known from the second year on
    for name in FEATURES:
        field = get_contract("continuity_features").field(name)
        if field.required:
            assert all(r[name] is not None for r in rows.values()), name
    for name in ("fx_change", "oil_change", "raw_material_change", "crisis_level_mean",
                 "trade_flow_growth"):  # fmt: skip
        known = sum(r[name] is not None for r in rows.values())
        assert known >= 0.95 * len(rows), name


def test_the_screening_report_of_the_generated_features(
    features_run: Run, spark: SparkSession
) -> None:
    frame = read_table(spark, "continuity_features", str(features_run.out / "continuity_features"))
    report = screen(frame)
    json_uri, md_uri = write_report(report, f"{features_run.out}/screening/")
    assert json.loads(Path(json_uri).read_text())["kept"] == report.kept
    assert Path(md_uri).read_text().startswith("# Pearson screening")
    dropped = {d.feature for d in report.dropped}
    assert set(report.kept) | dropped == set(FEATURES) and not set(report.kept) & dropped
    for drop in report.dropped:
        if drop.reason == "near-duplicate":
            assert drop.r is not None and abs(drop.r) >= report.threshold
            assert drop.kept_instead in report.kept or drop.kept_instead in dropped
    # No two kept features are near-duplicates
    for i, a in enumerate(report.kept):
        for b in report.kept[i + 1 :]:
            assert abs(report.matrix[a][b] or 0.0) < report.threshold, (a, b)


@pytest.mark.parametrize(
    ("script", "missing"),
    [("export_status.py", "--exporters-path"), ("continuity_features.py", "--exporters-path")],
)
def test_a_missing_argument_is_a_clear_error(script: str, missing: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "glue_scripts" / script), "--export-history-path", "x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"the following arguments are required: {missing}" in done.stderr
