"""The analyst report (`exportintel report`): on hand-made inputs, part by part, and over the
shared small lake with both models trained and scored (slow)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from moto import mock_aws
from PIL import Image

from exportintel.continuity.groups import group_profile, scored_features
from exportintel.continuity.index import index_table
from exportintel.local.lake import LocalLake, NotReady
from exportintel.matching.exploration import gini
from exportintel.models.reasons import load_catalogue
from exportintel.models.scoring import load_model, score_frame
from exportintel.models.training import TrainingOptions, fit_and_evaluate, write_model
from exportintel.reports.analyst import (
    CHART_FILES,
    REPORT_FILE,
    AnalystInputs,
    ContinuityPart,
    MatchingPart,
    exposure_counts,
    latest_etl_runs,
    quarantine_counts,
    write_analyst_report,
    write_report,
)
from exportintel.reports.charts import lorenz
from exportintel.settings import LOCAL
from tests.continuity.test_report import contract_panel

HOSTILE = '<script>alert("x")</script>'
MIN_PNG_BYTES = 5_000


def interval(value: float, spread: float = 0.01) -> dict[str, float]:
    return {"value": value, "lo": value - spread, "hi": value + spread}


def matching_metrics() -> dict[str, Any]:
    """metrics.json of a matching training run, with distinct figures per cell."""
    directions = {}
    for d, (direction, base) in enumerate(
        (("buyers for each exporter", 0.1), ("exporters for each buyer", 0.2))
    ):
        models = {
            name: {
                "recall": interval(base + 0.0111 * (j + 1)),
                "ndcg": interval(base + 0.0213 * (j + 1)),
                "map": interval(base),
            }
            for j, name in enumerate(("popular", "content", "cf", "hybrid", "one_sided"))
        }
        exposure = {
            name: {"coverage": interval(0.3 + 0.0517 * j), "gini": interval(0.9 - 0.0419 * j)}
            for j, name in enumerate(models)
        }
        directions["exporter" if d == 0 else "buyer"] = {
            "direction": direction,
            "ranked_queries": 40,
            "slices": {"all": {"queries": 37 + d, "relevant_pairs": 120 + d, "models": models}},
            "exposure": exposure,
            "exploration": {},
        }
    return {
        "model_version": "matching-handmade",
        "cutoff": "2024-01-01T00:00:00",
        "k": 10,
        "bootstrap": {"resamples": 200},
        "directions": directions,
    }


def etl_runs() -> list[dict[str, Any]]:
    return [
        {
            "dataset": "exporters", "run_id": "20250101T000000Z", "read": 1_234,
            "written": 1_200, "quarantined": 30, "duplicates": 4,
            "quarantined_by_reason": {"founded_year: range": 20, "region: format": 10},
        },
        {
            "dataset": "web_events", "run_id": "20250101T000000Z", "read": 56_789,
            "written": 56_000, "quarantined": 700, "duplicates": 89,
            "quarantined_by_reason": {"ts: format": 699, HOSTILE: 1},
        },
    ]  # fmt: skip


def recommendations() -> pd.DataFrame:
    """Stored lists of 3 exporters over buyers B0..B5, and of 2 buyers over the exporters."""
    rows = []
    for e in range(3):
        for rank, b in enumerate((0, 1, 2, e + 3), start=1):
            shown = rank if rank <= 2 else None
            rows.append(("buyers_for_exporter", f"E{e}", f"B{b}", rank, shown))
    for b in range(2):
        for rank, e in enumerate((0, 1, 2), start=1):
            rows.append(("exporters_for_buyer", f"E{e}", f"B{b}", rank, rank))
    return pd.DataFrame(
        rows, columns=["direction", "exporter_id", "buyer_id", "rank", "shown_rank"]
    ).astype({"shown_rank": "Int64"})


@pytest.fixture(scope="module")
def continuity(tmp_path_factory: pytest.TempPathFactory) -> ContinuityPart:
    """A trained, written and scored continuity model, as the training job leaves it."""
    base = tmp_path_factory.mktemp("continuity-model")
    panel = contract_panel()
    result = fit_and_evaluate(panel, TrainingOptions(bootstrap_resamples=30, seed=3))
    write_model(result, base / "model")
    model = load_model(base / "model")
    scored = score_frame(panel.drop(columns=["label"]), model, load_catalogue())
    index = pd.DataFrame(index_table(scored, panel).to_pylist())
    metrics = json.loads((base / "model" / "metrics.json").read_text(encoding="utf-8"))
    return ContinuityPart(
        version=str(index["model_version"].iloc[0]),
        metrics=metrics,
        test_predictions=result.test_predictions,
        threshold=model.threshold,
        profile=group_profile(panel, index),
        scored=scored_features(panel, index),
    )


@pytest.fixture(scope="module")
def full(continuity: ContinuityPart, tmp_path_factory: pytest.TempPathFactory) -> Path:
    stored = quarantine_counts(
        pd.DataFrame({"dataset": ["exporters"] * 3, "reason_code": ["founded_year: range"] * 3,
                      "reason": ["founded_year: out of range"] * 3})
    )  # fmt: skip
    inputs = AnalystInputs(
        etl_runs=etl_runs(),
        quarantine_stored=stored,
        matching=MatchingPart(
            "matching-handmade", matching_metrics(), exposure_counts(recommendations(), 2)
        ),
        continuity=continuity,
    )
    return write_report(inputs, tmp_path_factory.mktemp("analyst"))


def image_references(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def assert_real_png(path: Path) -> None:
    assert path.stat().st_size > MIN_PNG_BYTES, path.name
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= 400 and height >= 300, path.name
        # Not a blank canvas: a chart has many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 10, path.name


def test_every_chart_is_written_referenced_relatively_and_a_real_image(full: Path) -> None:
    html = full.read_text(encoding="utf-8")
    assert full.name == REPORT_FILE
    assert sorted(image_references(html)) == sorted(CHART_FILES.values())
    for file in CHART_FILES.values():
        assert_real_png(full.parent / file)
    # Self-contained: no script, no remote asset.
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_the_reconciliation_shows_each_count_and_its_check(full: Path) -> None:
    html = full.read_text(encoding="utf-8")
    for run in etl_runs():
        for name in ("read", "written", "quarantined", "duplicates"):
            assert f"<td>{run[name]:,}</td>" in html, (run["dataset"], name)
        total = run["written"] + run["quarantined"] + run["duplicates"]
        assert f"{run['read']:,} = {total:,}" in html
    assert "58,023 = 58,023" in html  # the totals row
    assert "Every dataset reconciles" in html


def test_a_run_that_does_not_reconcile_is_flagged(tmp_path: Path) -> None:
    runs = etl_runs()
    runs[0]["written"] -= 1
    html = write_report(AnalystInputs(etl_runs=runs), tmp_path).read_text(encoding="utf-8")
    assert "1,234 ≠ 1,233" in html and '<span class="bad">✘</span>' in html
    assert "Does not reconcile</span>: exporters" in html or "Does not reconcile: exporters" in html


def test_quarantine_by_reason_lists_each_code_escaped(full: Path) -> None:
    html = full.read_text(encoding="utf-8")
    for code, count in (("founded_year: range", 20), ("region: format", 10), ("ts: format", 699)):
        assert f"<code>{code}</code></td><td>{count:,}</td>" in html
    # Held in the quarantine table over every run, with a readable reason.
    assert '<td>3</td><td><span class="text">founded_year: out of range</span></td>' in html
    assert HOSTILE not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_matching_table_shows_the_figures_of_metrics_json(full: Path) -> None:
    html = full.read_text(encoding="utf-8")
    metrics = matching_metrics()
    for result in metrics["directions"].values():
        everything = result["slices"]["all"]
        for name in ("popular", "content", "cf", "hybrid"):
            for metric in ("ndcg", "recall"):
                cell = everything["models"][name][metric]
                text = f"{cell['value']:.4f} [{cell['lo']:.4f}, {cell['hi']:.4f}]"
                assert text in html, (result["direction"], name, metric)
            for metric in ("coverage", "gini"):
                cell = result["exposure"][name][metric]
                assert f"{cell['value']:.4f} [{cell['lo']:.4f}, {cell['hi']:.4f}]" in html
        assert f"{everything['queries']:,} query firms" in html
    # one_sided is not one of the four compared.
    one_sided = metrics["directions"]["exporter"]["slices"]["all"]["models"]["one_sided"]
    assert f"{one_sided['ndcg']['value']:.4f} [" not in html


def test_the_continuity_part_shows_its_metrics_and_the_group_comparison(
    full: Path, continuity: ContinuityPart
) -> None:
    html = full.read_text(encoding="utf-8")
    auc = continuity.metrics["models"][continuity.metrics["chosen_model"]]["auc"]["value"]
    assert f"{auc:.3f}" in html
    assert "위험군 / Risk group" in html and "지속 기업 / Continuing firms" in html
    assert "Continuous variables: descriptive statistics" in html
    assert continuity.version in html


def test_headings_are_korean_first_then_english(full: Path) -> None:
    html = full.read_text(encoding="utf-8")
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert len(headings) == 4
    for heading in headings:
        assert re.search(r"[\uac00-\ud7a3].* / [A-Za-z]", heading), heading
    assert '<html lang="ko">' in html


def test_missing_parts_render_as_not_available_with_the_command(tmp_path: Path) -> None:
    (tmp_path / CHART_FILES["roc"]).write_bytes(b"stale")  # of an earlier report
    inputs = AnalystInputs(
        etl_runs=etl_runs(),
        missing={
            "matching": "no matching model serves yet: run `exportintel train matching`",
            "continuity": "no continuity model serves yet: run `exportintel train continuity`",
        },
    )
    html = write_report(inputs, tmp_path).read_text(encoding="utf-8")
    assert html.count("아직 없음 / Not available yet") == 2
    assert "run `exportintel train matching`" in html
    assert sorted(image_references(html)) == [CHART_FILES["quarantine"],
                                              CHART_FILES["reconciliation"]]  # fmt: skip
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(image_references(html))


def test_a_matching_model_without_scored_lists_shows_its_table_and_notes_the_curve(
    tmp_path: Path,
) -> None:
    part = MatchingPart("m1", matching_metrics(), exposure_note="no recommendations table yet")
    html = write_report(AnalystInputs(etl_runs=[], matching=part), tmp_path).read_text("utf-8")
    assert "Not available yet</span>" in html or "Not available yet:" in html
    assert "no recommendations table yet" in html
    assert CHART_FILES["matching"] in image_references(html)
    assert CHART_FILES["exposure"] not in image_references(html)


def test_exposure_counts_cover_every_eligible_firm_and_the_lorenz_curve_matches_gini() -> None:
    curves = exposure_counts(recommendations(), 2, {"buyer_id": ["B0", "B9"]})
    buyers = curves["Buyers listed for exporters"]
    # B0..B5 listed somewhere, B9 eligible but never listed: seven firms.
    top, drawn = buyers["top 2 by score"], buyers["served draw (fair exploration)"]
    assert len(top) == len(drawn) == 7
    assert sorted(top.tolist()) == [0, 0, 0, 0, 0, 3, 3]
    x, y = lorenz(top)
    assert x[0] == y[0] == 0.0 and x[-1] == y[-1] == 1.0
    # The Gini is twice the area between the diagonal and the curve.
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))
    assert gini(top) == pytest.approx(1.0 - 2.0 * area)
    exporters = curves["Exporters listed for buyers"]
    assert sorted(exporters["top 2 by score"].tolist()) == [0, 2, 2]


def test_the_latest_summary_of_each_dataset_is_the_one_written_last() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="ap-northeast-2")
        bucket = "artifacts"
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"},
        )

        def put(run: str, dataset: str, read: int) -> None:
            body = json.dumps({"dataset": dataset, "run_id": run, "read": read})
            s3.put_object(Bucket=bucket, Key=f"etl-runs/{run}/{dataset}.json", Body=body)

        put("z-old", "exporters", 1)
        put("z-old", "buyers", 2)
        s3.put_object(Bucket=bucket, Key="etl-runs/readme.txt", Body=b"not a summary")
        time.sleep(1.1)  # S3 times objects to the second
        put("a-new", "exporters", 3)
        runs = latest_etl_runs(s3, bucket)
    assert [(r["dataset"], r["run_id"], r["read"]) for r in runs] == [
        ("buyers", "z-old", 2),
        ("exporters", "a-new", 3),
    ]


# --- over the shared small lake ----------------------------------------------------------


@pytest.mark.slow
def test_the_report_of_the_small_lake(small_lake: Any, tmp_path: Path) -> None:
    lake = LocalLake(small_lake.resources, small_lake.workdir)
    with small_lake.aws_environment():
        path = write_analyst_report(lake, LOCAL, tmp_path / "analyst")
        # The latest run of each dataset: other tests of the session (the pipeline's) curate
        # the shared lake again after it was built.
        runs = latest_etl_runs(boto3.client("s3"), small_lake.resources.artifacts_bucket)
    html = path.read_text(encoding="utf-8")
    assert "Not available yet" not in html
    assert sorted(image_references(html)) == sorted(CHART_FILES.values())
    for file in CHART_FILES.values():
        assert_real_png(path.parent / file)
    assert {run["dataset"] for run in runs} == set(small_lake.summaries)
    for run in runs:
        if run["read"]:
            total = run["written"] + run["quarantined"] + run["duplicates"]
            assert f"{run['read']:,} = {total:,}" in html, run["dataset"]
            assert f"<td>{run['written']:,}</td>" in html
        for code, count in run["quarantined_by_reason"].items():
            assert f"<code>{code}</code></td><td>{count:,}</td>" in html
    metrics = small_lake.matching_model.metrics
    assert small_lake.matching_model.version in html
    for result in metrics["directions"].values():
        for name in ("popular", "content", "cf", "hybrid"):
            cell = result["slices"]["all"]["models"][name]["ndcg"]
            assert f"{cell['value']:.4f} [{cell['lo']:.4f}, {cell['hi']:.4f}]" in html
            gini_cell = result["exposure"][name]["gini"]
            assert f"{gini_cell['value']:.4f} [" in html
    assert small_lake.continuity_model.version in html
    assert "Continuous variables: descriptive statistics" in html


@pytest.mark.slow
def test_a_lake_without_a_matching_model_still_gets_its_report(
    emulation: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = emulation.environment("analyst-partial")
    for name, value in aws.environ().items():
        monkeypatch.setenv(name, value)
    lake = LocalLake(aws.resources, tmp_path / "work")
    with pytest.raises(NotReady, match="nothing to report yet"):
        write_analyst_report(lake, LOCAL, tmp_path / "empty")
    boto3.client("s3").put_object(
        Bucket=aws.resources.artifacts_bucket,
        Key="etl-runs/only/exporters.json",
        Body=json.dumps(etl_runs()[0]).encode(),
    )
    html = write_analyst_report(lake, LOCAL, tmp_path / "partial").read_text(encoding="utf-8")
    assert "run `exportintel train matching`" in html
    assert "run `exportintel train continuity`" in html
    assert "1,234 = 1,234" in html
    assert sorted(image_references(html)) == [CHART_FILES["quarantine"],
                                              CHART_FILES["reconciliation"]]  # fmt: skip


def test_the_cli_writes_the_analyst_report_without_a_model_and_continuity_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import exportintel.continuity.local as continuity_local
    import exportintel.reports.analyst as analyst
    from exportintel.cli import main, target
    from exportintel.cli import models as cli_models

    calls: list[tuple[str, Path]] = []

    def fake(kind: str) -> Any:
        def write(lake: Any, settings: Any, out: Path) -> Path:
            calls.append((kind, out))
            if kind == "analyst" and out.name == "nothing":
                raise NotReady("nothing to report yet: run `exportintel etl`")
            return out / "index.html"

        return write

    monkeypatch.setattr(cli_models, "_lake", lambda args: object())
    monkeypatch.setattr(target, "state_dir", lambda: tmp_path)
    monkeypatch.setattr(analyst, "write_analyst_report", fake("analyst"))
    monkeypatch.setattr(continuity_local, "report", fake("continuity"))
    assert main(["report"]) == 0
    assert main(["report", "continuity"]) == 0
    assert calls == [
        ("analyst", tmp_path / "reports" / "analyst"),
        ("continuity", tmp_path / "reports" / "continuity"),
    ]
    assert main(["report", "--out", str(tmp_path / "nothing")]) == 2
    assert "nothing to report yet" in capsys.readouterr().err
