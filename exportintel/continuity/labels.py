"""Labels of the continuity report in Korean and English: (Korean, English) pairs.

Tables show both; charts show the English one (see `charts`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from exportintel.continuity.groups import CONTINUING, INDEX, OBSERVED, RISK
from exportintel.models.reasons import CONTINUITY_CATALOGUE

MODEL_LABELS = {
    "lr": ("로지스틱 회귀", "Logistic regression"),
    "xgboost": ("XGBoost", "XGBoost"),
    "baseline": ("기준 모형 (전년도 수출 여부)", "Baseline (exported in T-1)"),
}
METRIC_LABELS = {
    "auc": ("AUC", "AUC"),
    "ks": ("KS", "KS"),
    "brier": ("브라이어 점수", "Brier score"),
    "ece": ("기대 보정 오차", "ECE"),
}
GROUP_LABELS = {RISK: ("위험군", "Risk group"), CONTINUING: ("지속 기업", "Continuing firms")}
GROUP_COLOURS = {RISK: "#c0392b", CONTINUING: "#2471a3"}
VARIABLE_LABELS = {
    INDEX: ("수출 지속성 지수", "continuity index"),
    "size_band": ("기업 규모", "size band"),
    OBSERVED: ("관측된 결과 (1 지속)", "observed outcome (1 continued)"),
}
MODEL_COLOURS = ("#1f77b4", "#ff7f0e", "#7f7f7f", "#2ca02c", "#9467bd")


def variable_labels(name: str) -> tuple[str, str]:
    """Korean and English names of a variable: the reason catalogue's, else the name itself."""
    if name in VARIABLE_LABELS:
        return VARIABLE_LABELS[name]
    entry = CONTINUITY_CATALOGUE.get(name)
    return (entry.label_ko, entry.label_en) if entry else (name, name)


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fixed(value: Any, digits: int = 3) -> str:
    return "–" if missing(value) else f"{float(value):.{digits}f}"


def interval_text(entry: dict[str, Any]) -> str:
    return f"{fixed(entry.get('value'))} [{fixed(entry.get('lo'))}, {fixed(entry.get('hi'))}]"


def test_years_text(metrics: dict[str, Any]) -> str:
    years = metrics.get("years", {}).get("test", [])
    return ", ".join(str(y) for y in years) or "?"
