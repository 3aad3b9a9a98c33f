"""Feature tables for the model tests: a real dataset under made-up keys, and a synthetic panel
whose true model is a logistic regression in known features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIRST_YEAR = 2016
YEARS = 8

# The synthetic panel's true model: logit = INTERCEPT + sum coefficient * feature + sector.
INTERCEPT = 0.4
COEFFICIENTS = {
    "overseas_marketing_staff": 1.0,
    "crisis_level": -0.8,
    "net_income": 0.5,
    "exported_prev_year": 1.5,
    "noise": 0.0,
}
SECTOR_EFFECT = {"cosmetics": 0.0, "machinery": 0.6, "food": -0.6}


def breast_cancer_features(seed: int = 0) -> pd.DataFrame:
    """scikit-learn's breast-cancer table (label 1 = benign stands in for "continuing") with
    firm_id and year made up over eight years and a made-up categorical column."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns={"target": "label"})
    rng = np.random.default_rng(seed)
    n = len(frame)
    frame.insert(0, "year", FIRST_YEAR + np.arange(n) % YEARS)
    frame.insert(0, "firm_id", [f"F{i // YEARS:04d}" for i in range(n)])
    frame["region"] = rng.choice(["seoul", "busan", "gyeonggi", "daegu"], n)
    return frame


def logistic_panel(firms: int = 3000, seed: int = 1) -> pd.DataFrame:
    """Every firm in every year; the label drawn from the known logistic model."""
    rng = np.random.default_rng(seed)
    n = firms * YEARS
    frame = pd.DataFrame(
        {
            "firm_id": np.repeat([f"S{i:05d}" for i in range(firms)], YEARS),
            "year": np.tile(np.arange(FIRST_YEAR, FIRST_YEAR + YEARS), firms),
            "overseas_marketing_staff": rng.normal(0.0, 1.0, n),
            "crisis_level": rng.normal(1.0, 0.6, n),
            "net_income": rng.normal(0.0, 1.0, n),
            "exported_prev_year": (rng.random(n) < 0.7).astype("int64"),
            "noise": rng.normal(0.0, 1.0, n),
            "sector": rng.choice(list(SECTOR_EFFECT), n),
        }
    )
    logit = INTERCEPT + frame["sector"].map(SECTOR_EFFECT).to_numpy()
    for name, coefficient in COEFFICIENTS.items():
        logit = logit + coefficient * frame[name].to_numpy(dtype=float)
    frame["label"] = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    return frame


def write_channel(frame: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "features.parquet", index=False)
    return folder
