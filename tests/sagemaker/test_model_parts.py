"""The generic parts under the jobs: metrics, bootstrap, the year split, feature kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from exportintel.models.estimators import Calibrator, sigmoid
from exportintel.models.metrics import binary_metrics, bootstrap_metrics
from exportintel.models.reasons import load_catalogue
from exportintel.models.tabular import (
    MISSING,
    OTHER,
    DataError,
    check_labels,
    infer_schema,
    prepare,
    split_years,
)


@pytest.fixture
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p = np.round(rng.random(2000), 2)  # rounded: plenty of ties
    y = (rng.random(2000) < p).astype(float)
    return y, p


def test_metrics_agree_with_scikit_learn(scores: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scores
    m = binary_metrics(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["ks"] == pytest.approx(np.max(tpr - fpr))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(y[bins == b].mean() - p[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())  # fmt: skip
    assert m["ece"] == pytest.approx(ece)
    assert m["ece"] < 0.05  # the draw is calibrated by construction


def test_weights_are_repeated_rows(scores: tuple[np.ndarray, np.ndarray]) -> None:
    from exportintel.models.metrics import _Prepared

    y, p = scores
    w = np.random.default_rng(4).integers(0, 4, len(y)).astype(float)
    repeated = binary_metrics(np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int)))
    weighted = _Prepared(y, p).metrics(w)
    for key, value in repeated.items():
        assert weighted[key] == pytest.approx(value), key


def test_bootstrap_intervals_hold_the_estimate_and_are_reproducible(
    scores: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = scores
    firms = np.arange(len(y)) // 2
    first = bootstrap_metrics(y, {"m": p, "flat": np.full_like(p, y.mean())}, firms,
                              resamples=200, seed=11)  # fmt: skip
    again = bootstrap_metrics(y, {"m": p, "flat": np.full_like(p, y.mean())}, firms,
                              resamples=200, seed=11)  # fmt: skip
    assert first == again
    for intervals in first.values():
        for interval in intervals.values():
            assert interval.lo <= interval.value <= interval.hi
    assert first["flat"]["auc"].value == 0.5
    assert first["m"]["auc"].lo > 0.7


def test_the_split_holds_out_the_last_years() -> None:
    split = split_years([2019, 2016, 2017, 2018, 2020, 2021, 2020], test_years=2,
                        validation_years=1)  # fmt: skip
    assert (split.train, split.validation, split.test) == ((2016, 2017, 2018), (2019,),
                                                           (2020, 2021))  # fmt: skip
    with pytest.raises(DataError, match="no held-out years left"):
        split_years([2016, 2017, 2018], test_years=2, validation_years=1)
    with pytest.raises(DataError, match="at least 1"):
        split_years(range(2010, 2020), test_years=0, validation_years=1)


def test_feature_kinds_come_from_the_column_types() -> None:
    frame = pd.DataFrame(
        {
            "firm_id": ["a", "b", "c", "d"],
            "year": [2020] * 4,
            "label": [1, 0, None, 1],
            "staff": [1, 2, 3, 4],
            "ratio": [0.1, None, 0.3, 0.4],
            "certified": [True, False, True, True],
            "grade": pd.Categorical(["A", "B", "A", None]),
            "sector": ["food", "food", "machinery", None],
            "empty": [None, None, None, None],
        }
    )
    schema, dropped = infer_schema(frame, exclude=("firm_id", "year", "label"), max_categories=1)
    kinds = {f.name: f.kind for f in schema.features}
    assert kinds == {"staff": "numeric", "ratio": "numeric", "certified": "numeric",
                     "grade": "categorical", "sector": "categorical"}  # fmt: skip
    assert dropped == ["empty (no value in the training years)"]
    sector = next(f for f in schema.features if f.name == "sector")
    assert sector.categories == ("food", OTHER, MISSING)  # capped at the most frequent
    new = frame.assign(sector=["machinery", "food", "shipping", None], staff=["1", 2, 3, 4])
    prepared = prepare(new, schema)
    assert list(prepared["sector"]) == [OTHER, "food", OTHER, MISSING]
    assert prepared["staff"].dtype == np.float64
    with pytest.raises(DataError, match="missing from the input: ratio"):
        prepare(frame.drop(columns=["ratio"]), schema)


def test_labels_must_be_binary() -> None:
    assert check_labels(pd.DataFrame({"label": [True, False, None]})).tolist()[:2] == [1.0, 0.0]
    with pytest.raises(DataError, match="must be 0, 1 or null; found 2"):
        check_labels(pd.DataFrame({"label": [1, 0, 2]}))
    with pytest.raises(DataError, match="null in every row"):
        check_labels(pd.DataFrame({"label": [None, None]}))


@pytest.mark.parametrize("method", ["platt", "isotonic", "none"])
def test_calibrators_are_monotone_and_survive_json(method: str) -> None:
    rng = np.random.default_rng(5)
    margin = rng.normal(0.0, 2.0, 3000)
    label = (rng.random(3000) < sigmoid(0.5 * margin + 0.3)).astype(int)
    calibrator = Calibrator.fit(margin, label, method)  # type: ignore[arg-type]
    grid = np.linspace(-6, 6, 50)
    out = calibrator.apply(grid)
    assert np.all(np.diff(out) >= 0) and out.min() >= 0 and out.max() <= 1
    assert np.allclose(Calibrator.from_json(calibrator.to_json()).apply(grid), out)
    if method == "platt":
        assert calibrator.a == pytest.approx(0.5, abs=0.1)


def test_a_catalogue_file_extends_the_texts(tmp_path: Path) -> None:
    path = tmp_path / "reasons.json"
    path.write_text(
        '{"sector_share": {"label_ko": "점유율", "label_en": "share", "low_ko": "점유율 낮음",'
        ' "low_en": "low share", "high_ko": "점유율 높음", "high_en": "high share"}}',
        encoding="utf-8",
    )
    catalogue = load_catalogue(path)
    assert catalogue["sector_share"].low_en == "low share"
    assert catalogue["overseas_marketing_staff"].low_ko == "해외마케팅 인력 부족"
