"""Screening and excluded columns in training: decided on the training years only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from exportintel.models.screening import pandas_pearson, select_features
from exportintel.models.training import TrainingOptions, fit_and_evaluate
from tests.sagemaker.data import logistic_panel

OPTIONS = TrainingOptions(bootstrap_resamples=20, lr_c_grid=(1.0,))


def _with_twin_and_slice(seed: int = 3) -> pd.DataFrame:
    frame = logistic_panel(firms=800, seed=seed)
    rng = np.random.default_rng(seed)
    numeric = [c for c in frame.columns if c not in ("firm_id", "year", "label")
               and pd.api.types.is_numeric_dtype(frame[c])]  # fmt: skip
    source = numeric[0]
    # A near-copy of a real feature (r ~ 0.99) and a column that only slices the output.
    frame["twin"] = frame[source] + rng.normal(0, 0.1 * frame[source].std(), len(frame))
    frame["office"] = rng.choice(["north", "south"], len(frame))
    return frame


def test_a_near_duplicate_is_screened_out_and_an_excluded_column_is_no_feature() -> None:
    frame = _with_twin_and_slice()
    result = fit_and_evaluate(frame, replace(OPTIONS, exclude=("office",)))
    names = result.schema.names
    screened = result.metrics["features"]["screened_out"]
    assert len(screened) == 1 and screened[0]["reason"] == "near-duplicate"
    assert {screened[0]["feature"], screened[0]["kept_instead"]} <= set(frame.columns)
    assert screened[0]["feature"] not in names and screened[0]["kept_instead"] in names
    assert "office" not in names and result.metrics["features"]["excluded"] == ["office"]


def test_screening_off_keeps_every_column() -> None:
    frame = _with_twin_and_slice()
    options = replace(OPTIONS, screening_threshold=None)
    result = fit_and_evaluate(frame, options)
    assert "twin" in result.schema.names and "office" in result.schema.names
    assert result.metrics["features"]["screened_out"] == []


def test_pandas_pearson_agrees_with_numpy_and_marks_constants() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    frame = pd.DataFrame({"a": a, "b": 2 * a + rng.normal(size=200), "c": 1.0,
                          "label": (a > 0).astype(float)})  # fmt: skip
    frame.loc[5, "b"] = np.nan  # pairwise complete: one row fewer for b
    matrix, label_r = pandas_pearson(frame, ["a", "b", "c"], "label")
    known = frame["b"].notna()
    assert np.isclose(matrix["a"]["b"], np.corrcoef(a[known], frame["b"][known])[0, 1])
    assert matrix["c"]["c"] is None and matrix["a"]["a"] == 1.0
    assert np.isclose(label_r["a"], np.corrcoef(a, frame["label"])[0, 1])
    kept, dropped, _ = select_features(["a", "b", "c"], matrix, label_r, 0.9)
    assert kept == ["a", "b"] and [d.feature for d in dropped] == ["c"]
