"""The model against a known truth: a synthetic panel whose label is logistic in known features.

Given firms whose continuation follows a logistic model, when the job trains on the early years,
then the regression finds the true signs, its probabilities are calibrated on the later years,
it beats the naive "exported last year" rule, and a firm pushed to a risky value of one feature
is told so in its reasons.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exportintel.models.reasons import load_catalogue
from exportintel.models.scoring import load_model, score_frame
from tests.sagemaker.conftest import JobRun
from tests.sagemaker.data import COEFFICIENTS, SECTOR_EFFECT


def test_the_regression_recovers_the_true_signs(panel_run: JobRun) -> None:
    coefficients = {c["column"]: c["per_unit"] for c in panel_run.description["lr"]["coefficients"]}
    for name, truth in COEFFICIENTS.items():
        if truth == 0:
            assert abs(coefficients[name]) < 0.1, name
        else:
            assert coefficients[name] * truth > 0, (name, coefficients[name], truth)
            assert coefficients[name] == pytest.approx(truth, rel=0.25), name
    ordered = sorted(SECTOR_EFFECT, key=SECTOR_EFFECT.__getitem__)
    fitted = [coefficients[f"sector={s}"] for s in ordered]
    assert fitted == sorted(fitted)


def test_probabilities_are_calibrated_on_the_held_out_years(panel_run: JobRun) -> None:
    models = panel_run.metrics["models"]
    assert panel_run.metrics["n"] == 2 * 3000
    for name in ("lr", "xgboost"):
        assert models[name]["ece"]["value"] < 0.03, (name, models[name]["ece"])
    assert models["lr"]["ece"]["hi"] < 0.05


def test_the_models_beat_the_naive_previous_year_rule(panel_run: JobRun) -> None:
    models = panel_run.metrics["models"]
    baseline = models["baseline"]
    assert "exported_prev_year" in baseline["definition"]
    assert 0.55 < baseline["auc"]["value"] < 0.7  # the rule carries some signal
    for name in ("lr", "xgboost"):
        assert models[name]["auc"]["lo"] > baseline["auc"]["hi"], name
        assert models[name]["brier"]["hi"] < baseline["brier"]["lo"], name


def test_the_risk_group_follows_the_threshold(panel_run: JobRun) -> None:
    index = panel_run.index
    assert (index["risk_group"] == (index["index"] < 0.5)).all()
    assert index["index"].between(0.0, 1.0).all()


@pytest.mark.parametrize("which", ["lr", "xgboost"])
def test_a_firm_pushed_to_a_risky_value_is_told_why(panel_run: JobRun, which: str) -> None:
    model = load_model(panel_run.model_dir, which)
    catalogue = load_catalogue()
    firms = panel_run.scored_input.reset_index(drop=True)
    # The firm with the most overseas-marketing staff: before, the feature lifts its index.
    row = int(firms["overseas_marketing_staff"].idxmax())
    firm = firms.iloc[[row]].copy()
    before = score_frame(firm, model, catalogue).iloc[0]
    assert "overseas_marketing_staff" not in {r["feature"] for r in before["reasons"]}

    firm["overseas_marketing_staff"] = firms["overseas_marketing_staff"].mean() - 6.0
    after = score_frame(firm, model, catalogue).iloc[0]
    reasons = {r["feature"]: r for r in after["reasons"]}
    assert "overseas_marketing_staff" in reasons
    reason = reasons["overseas_marketing_staff"]
    assert reason["contribution"] < 0
    assert (reason["direction"], reason["reason_ko"], reason["reason_en"]) == (
        "low", "해외마케팅 인력 부족", "few overseas-marketing staff")  # fmt: skip
    assert after["index"] < before["index"]


def test_reasons_only_ever_lower_the_index(panel_run: JobRun) -> None:
    index = panel_run.index
    flat = pd.DataFrame([r for reasons in index["reasons"] for r in reasons])
    assert (flat["contribution"] < 0).all()
    # Korean and English texts from the catalogue for the features it knows.
    crisis = flat[flat["feature"] == "crisis_level"]
    assert set(crisis["reason_ko"]) == {"수출 대상국 위기 수준 높음"}
    assert set(crisis["direction"]) == {"high"}
