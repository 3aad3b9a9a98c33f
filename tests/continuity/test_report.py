"""The continuity report from a real small model.

Given a panel with the `continuity_features` columns whose label is logistic in three known
features, when the models are trained and evaluated (`fit_and_evaluate`), every firm-year is
scored (`scoring.score_frame`) and the report is written, then the HTML shows the figures of
metrics.json, references charts that exist and are real PNGs, escapes whatever it is given, and
is byte-identical from run to run.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exportintel.continuity.charts import key_features, reliability, roc_curve
from exportintel.continuity.groups import FEATURES, group_profile
from exportintel.continuity.index import index_table
from exportintel.continuity.report import CHART_FILES, REPORT_FILE, ReportInputs, write_report
from exportintel.contracts.continuity import CONTINUITY_INDEX
from exportintel.contracts.validation import validate_record
from exportintel.models.metrics import METRICS, binary_metrics
from exportintel.models.reasons import load_catalogue
from exportintel.models.scoring import load_model, score_frame
from exportintel.models.tabular import DataError
from exportintel.models.training import TrainingOptions, fit_and_evaluate, write_model

FIRST_YEAR, YEARS, FIRMS = 2015, 8, 300
# The panel's true model: logit = 0.3 + sum coefficient * feature.
TRUTH = {"overseas_marketing_staff": 1.2, "crisis_level_mean": -1.0, "exported_prev_year": 1.5}
HOSTILE = '<script>alert("x")</script>'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def contract_panel(seed: int = 5) -> pd.DataFrame:
    """Every firm in every year with every continuity feature; the last two years unlabelled
    (T + 2 not observed yet), as the features table has them."""
    rng = np.random.default_rng(seed)
    n = FIRMS * YEARS
    frame = pd.DataFrame(
        {
            "firm_id": np.repeat([f"EXP{i:06d}" for i in range(FIRMS)], YEARS),
            "year": np.tile(np.arange(FIRST_YEAR, FIRST_YEAR + YEARS), FIRMS),
            "region": rng.choice(["Seoul", "Busan", "Gyeonggi", "Incheon"], n),
            "hs_chapter": rng.choice(["33", "84", "85"], n),
        }
    )
    for name in FEATURES:
        frame[name] = rng.normal(0.0, 1.0, n)
    frame["employees"] = np.round(np.exp(rng.normal(3.5, 1.2, n)))
    frame["crisis_level_mean"] = rng.uniform(0.0, 3.0, n)
    frame["novice"] = (rng.random(n) < 0.2).astype(float)
    frame["exported_prev_year"] = (rng.random(n) < 0.7).astype(float)
    frame.loc[rng.random(n) < 0.1, "firm_age"] = np.nan  # firms without an agency record
    logit = 0.3 + sum(c * frame[name].to_numpy() for name, c in TRUTH.items())
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    frame["label"] = np.where(frame["year"] >= FIRST_YEAR + YEARS - 2, np.nan, label)
    return frame


@dataclass(frozen=True)
class Written:
    inputs: ReportInputs
    out_dir: Path
    html_path: Path

    @property
    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> ReportInputs:
    """Trained, written and scored as the pipeline does; inputs read back as the CLI reads them."""
    base = tmp_path_factory.mktemp("continuity-model")
    panel = contract_panel()
    result = fit_and_evaluate(panel, TrainingOptions(bootstrap_resamples=30, seed=3))
    write_model(result, base / "model")
    result.test_predictions.to_parquet(base / "test_predictions.parquet", index=False)
    model = load_model(base / "model")
    scored = score_frame(panel.drop(columns=["label"]), model, load_catalogue())
    index = pd.DataFrame(index_table(scored, panel).to_pylist())
    for record in (
        index.head(50).astype(object).where(index.head(50).notna(), None).to_dict("records")
    ):
        record["year"] = int(record["year"])
        assert validate_record(CONTINUITY_INDEX, record).ok
    return ReportInputs(
        features=panel,
        index=index,
        metrics=json.loads((base / "model" / "metrics.json").read_text(encoding="utf-8")),
        test_predictions=pd.read_parquet(base / "test_predictions.parquet"),
        threshold=model.threshold,
    )


@pytest.fixture(scope="module")
def written(inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> Written:
    out_dir = tmp_path_factory.mktemp("report")
    return Written(inputs, out_dir, write_report(inputs, out_dir))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path.name
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_report_references_every_chart_and_each_is_a_real_png(written: Written) -> None:
    assert written.html_path == written.out_dir / REPORT_FILE
    sources = re.findall(r'<img src="([^"]+)"', written.html)
    assert sorted(sources) == sorted(CHART_FILES.values())
    for source in sources:
        chart = written.out_dir / source
        assert chart.is_file(), source
        width, height = png_size(chart)
        assert width >= 500 and height >= 350, (source, width, height)
        assert chart.stat().st_size > 15_000, source  # drawn, not a blank canvas
        import matplotlib.image

        pixels = matplotlib.image.imread(chart)  # decodes the whole file
        assert pixels.shape[:2] == (height, width)
        assert pixels[..., :3].std() > 0.05, source
    # Readable offline: nothing fetched, nothing run.
    assert "http://" not in written.html and "https://" not in written.html
    assert "<script" not in written.html.lower()


def test_the_report_shows_the_figures_of_metrics_json(written: Written) -> None:
    metrics = written.inputs.metrics
    html = written.html
    assert metrics["model_version"] in html
    for name, entry in metrics["models"].items():
        for metric in METRICS:
            interval = entry[metric]
            figure = f"{interval['value']:.3f} [{interval['lo']:.3f}, {interval['hi']:.3f}]"
            assert figure in html, (name, metric, figure)
    # The figures are the test predictions' own: the curves drawn agree with the table.
    predictions = written.inputs.test_predictions
    auc = binary_metrics(predictions["label"], predictions["p_lr"])["auc"]
    assert f"{auc:.3f}" in html
    assert "위험군 / Risk group" in html and "지속 기업 / Continuing firms" in html


def test_the_report_profiles_the_latest_scored_year(written: Written) -> None:
    index = written.inputs.index
    latest = int(index["year"].max())
    profile = group_profile(written.inputs.features, index)
    current = index[index["year"] == latest]
    risk = int(current["risk_group"].sum())
    assert f"{risk:,} ({100 * risk / len(current):.1f}%)" in written.html
    assert f"n = {risk:,}" in written.html and f"n = {len(current) - risk:,}" in written.html
    row = profile[
        (profile["year"] == latest)
        & (profile["group_name"] == "risk")
        & (profile["variable"] == "overseas_marketing_staff")
    ].iloc[0]
    assert abs(row["mean"]) < 1000
    assert f"<td>{row['mean']:.3g}</td>" in written.html


def test_the_groups_differ_where_the_truth_says(inputs: ReportInputs) -> None:
    """The profile and the risk factors find the panel's true drivers."""
    latest = int(inputs.index["year"].max())
    profile = group_profile(inputs.features, inputs.index)
    # The two continuous drivers separate the groups most; the flag is described as a category.
    key = key_features(profile[profile["year"] == latest], count=2)
    assert set(key) == {"overseas_marketing_staff", "crisis_level_mean"}
    mean = profile.set_index(["year", "group_name", "variable"])["mean"]
    assert (
        mean[latest, "risk", "overseas_marketing_staff"]
        < mean[latest, "continuing", "overseas_marketing_staff"]
    )
    assert (
        mean[latest, "risk", "crisis_level_mean"] > mean[latest, "continuing", "crisis_level_mean"]
    )


def test_the_report_is_the_same_byte_for_byte(
    written: Written, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = tmp_path_factory.mktemp("report-again")
    write_report(written.inputs, again)
    for name in (REPORT_FILE, *CHART_FILES.values()):
        assert (again / name).read_bytes() == (written.out_dir / name).read_bytes(), name


def test_a_hostile_firm_id_is_escaped(inputs: ReportInputs, tmp_path: Path) -> None:
    target = "EXP000001"
    rename: dict[str, Any] = {target: HOSTILE}
    hostile = replace(
        inputs,
        features=inputs.features.assign(firm_id=inputs.features["firm_id"].replace(rename)),
        index=inputs.index.assign(firm_id=inputs.index["firm_id"].replace(rename)),
        history_sample=FIRMS,  # every firm is listed, the hostile one too
    )
    html = write_report(hostile, tmp_path).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_roc_and_reliability_on_hand_made_scores() -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    fpr, tpr = roc_curve(y, p)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert np.trapezoid(tpr, fpr) == pytest.approx(binary_metrics(y, p)["auc"]) == 0.75
    # Tied scores make one step.
    fpr, tpr = roc_curve(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    assert (fpr.tolist(), tpr.tolist()) == ([0.0, 1.0], [0.0, 1.0])

    table = reliability(y, p, bins=2)  # bins [0, 0.5) and [0.5, 1]
    assert table["bin"].tolist() == [0, 1]
    assert table["n"].tolist() == [1, 3]
    assert table["predicted"].tolist() == pytest.approx([0.1, 0.8])
    assert table["observed"].tolist() == pytest.approx([0.0, 2 / 3])


def test_bad_inputs_fail_with_a_clear_message(inputs: ReportInputs, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no rows"):
        write_report(replace(inputs, index=inputs.index.iloc[0:0]), tmp_path)
    with pytest.raises(DataError, match=r"lacks column\(s\) risk_factors"):
        write_report(replace(inputs, index=inputs.index.drop(columns="risk_factors")), tmp_path)
    with pytest.raises(DataError, match="p_xgboost"):
        predictions = inputs.test_predictions.drop(columns="p_xgboost")
        write_report(replace(inputs, test_predictions=predictions), tmp_path)
    with pytest.raises(DataError, match="different training runs"):
        shuffled = inputs.test_predictions.assign(
            p_lr=inputs.test_predictions["p_lr"].sample(frac=1.0, random_state=1).to_numpy()
        )
        write_report(replace(inputs, test_predictions=shuffled), tmp_path)
    with pytest.raises(DataError, match="no 'models'"):
        write_report(replace(inputs, metrics={"model_version": "x"}), tmp_path)
    with pytest.raises(DataError, match="no row scored by model 'other'"):
        write_report(
            replace(inputs, metrics={**inputs.metrics, "model_version": "other"}), tmp_path
        )
    with pytest.raises(DataError, match="another threshold"):
        write_report(replace(inputs, threshold=0.3), tmp_path)
    with pytest.raises(ValueError, match="between 0 and 1"):
        write_report(replace(inputs, threshold=1.5), tmp_path)
    assert not (tmp_path / REPORT_FILE).exists()


def test_a_year_without_a_risk_group_still_gives_a_report(
    inputs: ReportInputs, tmp_path: Path
) -> None:
    threshold = float(inputs.index["continuity_index"].min())  # no index lies below it
    index = inputs.index.assign(risk_group=inputs.index["continuity_index"] < threshold)
    html = write_report(replace(inputs, index=index, threshold=threshold), tmp_path).read_text(
        encoding="utf-8"
    )
    assert "위험군 / Risk group (n = 0)" in html
    assert f"지속 기업 / Continuing firms (n = {FIRMS:,})" in html
    for file in CHART_FILES.values():
        assert png_size(tmp_path / file)[0] >= 500
