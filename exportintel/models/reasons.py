"""Reason codes: the features that pull a firm's index down most, in Korean and in English.

A reason is rendered from the feature's catalogue entry and the side the firm is on: "low" or
"high" against the training mean for numeric features (which side is risky is the model's
finding, not the catalogue's), the category itself for categorical features, "missing" when the
value is absent. Features not in the catalogue render as their own name, so any feature set
works; a deployment can extend or override the catalogue with a JSON file of the same shape:

    {"feature_name": {"label_ko": "...", "label_en": "...",
                      "low_ko": "...", "low_en": "...", "high_ko": "...", "high_en": "..."}}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.models.tabular import MISSING, Feature, Schema


@dataclass(frozen=True)
class ReasonText:
    label_ko: str
    label_en: str
    low_ko: str
    low_en: str
    high_ko: str
    high_en: str


def _entry(label: tuple[str, str], low: tuple[str, str], high: tuple[str, str]) -> ReasonText:
    return ReasonText(label[0], label[1], low[0], low[1], high[0], high[1])


def _category(label_ko: str, label_en: str) -> ReasonText:
    """A categorical feature: its reason is "label: category", so only the label is needed."""
    return ReasonText(label_ko, label_en, label_ko, label_en, label_ko, label_en)


def _aliases(entry: ReasonText, *names: str) -> dict[str, ReasonText]:
    return dict.fromkeys(names, entry)


# The continuity model's features (MISSION.md "Model 2": export capability, stability, export
# record, external change), keyed by the columns of the `continuity_features` contract; the
# synthetic generator's names for the same quantities are aliases.
CONTINUITY_CATALOGUE: dict[str, ReasonText] = {
    "region": _category("본사 소재지", "head-office region"),
    "hs_chapter": _category("주력 HS 류", "main HS chapter"),
    "target_language_staff": _entry(
        ("현지어 가능 인력", "target-language staff"),
        ("현지어 가능 인력 부족", "few target-language staff"),
        ("현지어 가능 인력 많음", "many target-language staff"),
    ),
    "overseas_marketing_staff": _entry(
        ("해외마케팅 인력", "overseas-marketing staff"),
        ("해외마케팅 인력 부족", "few overseas-marketing staff"),
        ("해외마케팅 인력 많음", "many overseas-marketing staff"),
    ),
    "exhibitions": _entry(
        ("해외전시회 참가", "trade-fair participation"),
        ("해외전시회 참가 실적 부족", "few trade fairs attended"),
        ("해외전시회 참가 많음", "many trade fairs attended"),
    ),
    "certifications": _entry(
        ("해외인증", "certifications"),
        ("해외인증 부족", "few certifications"),
        ("해외인증 많음", "many certifications"),
    ),
    "firm_age": _entry(
        ("업력", "firm age"),
        ("업력이 짧음", "young firm"),
        ("업력이 김", "long-established firm"),
    ),
    **_aliases(
        _entry(
            ("당기순이익", "net income"),
            ("당기순이익 저조", "low or negative net income"),
            ("당기순이익 높음", "high net income"),
        ),
        "net_income_krw_mn",
        "net_income",
    ),
    "employees": _entry(
        ("종업원 수", "employees"),
        ("종업원 수 적음", "few employees"),
        ("종업원 수 많음", "many employees"),
    ),
    **_aliases(
        _entry(
            ("매출 증가율", "revenue growth"),
            ("매출 감소 또는 정체", "falling or flat revenue"),
            ("매출 증가", "growing revenue"),
        ),
        "revenue_growth_pct",
        "revenue_growth",
    ),
    "years_exported": _entry(
        ("수출 경험 연수", "years with exports"),
        ("수출 경험 연수 짧음", "few years of exporting"),
        ("수출 경험 연수 많음", "many years of exporting"),
    ),
    "years_since_first_export": _entry(
        ("첫 수출 이후 경과 연수", "years since the first export"),
        ("첫 수출 이후 기간 짧음", "recent first export"),
        ("수출 경력 김", "long export record"),
    ),
    "novice": _entry(
        ("신규 수출기업 여부", "novice exporter"),
        ("신규 수출기업 아님", "not a novice exporter"),
        ("신규 수출기업", "novice exporter"),
    ),
    **_aliases(
        _entry(
            ("전년도 수출 실적", "exports in the previous year"),
            ("전년도 수출 실적 없음", "no exports in the previous year"),
            ("전년도 수출 실적 있음", "exported in the previous year"),
        ),
        "exported_prev_year",
        "exported_last_year",
    ),
    "export_value_log": _entry(
        ("수출액", "export value"),
        ("수출 규모 작음", "small export value"),
        ("수출 규모 큼", "large export value"),
    ),
    "export_value_growth": _entry(
        ("수출액 증가율", "export growth"),
        ("수출액 감소", "falling exports"),
        ("수출액 증가", "growing exports"),
    ),
    "export_value_slope": _entry(
        ("최근 3년 수출 추세", "three-year export trend"),
        ("최근 수출 감소 추세", "declining export trend"),
        ("최근 수출 증가 추세", "rising export trend"),
    ),
    "destinations": _entry(
        ("수출 대상국 수", "destination countries"),
        ("수출 대상국 수 적음", "few destination countries"),
        ("수출 대상국 다변화", "many destination countries"),
    ),
    "hs_codes": _entry(
        ("수출 품목 수", "products exported"),
        ("수출 품목 수 적음", "few products exported"),
        ("수출 품목 다양", "many products exported"),
    ),
    "fx_change": _entry(
        ("환율 변동", "exchange-rate change"),
        ("원화 강세(가격 경쟁력 약화)", "stronger won (less price-competitive)"),
        ("원화 약세", "weaker won"),
    ),
    "oil_change": _entry(
        ("유가 변동", "oil-price change"),
        ("유가 하락", "falling oil price"),
        ("유가 상승", "rising oil price"),
    ),
    "raw_material_change": _entry(
        ("원자재 가격 변동", "raw-material price change"),
        ("원자재 가격 하락", "falling raw-material prices"),
        ("원자재 가격 상승", "rising raw-material prices"),
    ),
    **_aliases(
        _entry(
            ("수출 대상국 위기 수준", "crisis level of destination countries"),
            ("수출 대상국 위기 수준 낮음", "low crisis level in destination countries"),
            ("수출 대상국 위기 수준 높음", "high crisis level in destination countries"),
        ),
        "crisis_level_mean",
        "crisis_level",
    ),
    "crisis_level_max": _entry(
        ("수출 대상국 최고 위기 수준", "highest crisis level among destinations"),
        ("수출 대상국 최고 위기 수준 낮음", "no destination in crisis"),
        ("위기 수준 높은 수출 대상국 있음", "a destination at a high crisis level"),
    ),
    # Grade index 0 (AAA) .. 9 (D): a high value is a weak grade.
    "credit_grade": _entry(
        ("신용등급", "credit grade"),
        ("신용등급 우수", "strong credit grade"),
        ("신용등급 낮음", "weak credit grade"),
    ),
    **_aliases(
        _entry(
            ("주력 품목 교역 동향", "trade-flow trend of the main products"),
            ("주력 품목의 대상국 교역 감소", "falling trade in the main products to destinations"),
            ("주력 품목의 대상국 교역 증가", "rising trade in the main products to destinations"),
        ),
        "trade_flow_growth",
        "trade_change",
    ),
}


def load_catalogue(path: str | Path | None = None) -> dict[str, ReasonText]:
    """The continuity catalogue, extended or overridden by a JSON file when one is given."""
    catalogue = dict(CONTINUITY_CATALOGUE)
    if path is None:
        return catalogue
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for name, entry in data.items():
        catalogue[str(name)] = ReasonText(
            **{f.name: str(entry[f.name]) for f in fields(ReasonText)}
        )
    return catalogue


@dataclass(frozen=True)
class Reason:
    """One reason code of one firm-year."""

    rank: int
    feature: str
    contribution: float  # log-odds, negative: it lowers the index
    value: str | None
    direction: str  # low | high | category | missing
    reason_ko: str
    reason_en: str


def _render(feature: Feature, value: Any, catalogue: Mapping[str, ReasonText]) -> Reason:
    text = catalogue.get(feature.name)
    label_ko = text.label_ko if text else feature.name
    label_en = text.label_en if text else feature.name
    if feature.kind == "categorical":
        if value == MISSING:
            return Reason(0, feature.name, 0.0, None, "missing",
                          f"{label_ko} 정보 없음", f"{label_en} unknown")  # fmt: skip
        return Reason(0, feature.name, 0.0, str(value), "category",
                      f"{label_ko}: {value}", f"{label_en}: {value}")  # fmt: skip
    number = float(value)
    if math.isnan(number):
        return Reason(0, feature.name, 0.0, None, "missing",
                      f"{label_ko} 정보 없음", f"{label_en} unknown")  # fmt: skip
    low = feature.reference is not None and number < feature.reference
    shown = f"{number:.6g}"
    if text is None:  # unknown feature: its name is the reason
        return Reason(0, feature.name, 0.0, shown, "low" if low else "high",
                      feature.name, feature.name)  # fmt: skip
    if low:
        return Reason(0, feature.name, 0.0, shown, "low", text.low_ko, text.low_en)
    return Reason(0, feature.name, 0.0, shown, "high", text.high_ko, text.high_en)


def top_reasons(
    contributions: npt.NDArray[np.float64],
    features: pd.DataFrame,
    schema: Schema,
    catalogue: Mapping[str, ReasonText],
    *,
    top: int = 3,
) -> list[list[dict[str, Any]]]:
    """Per row, up to `top` features with the most negative contributions, most negative first.

    Rows whose every contribution is zero or positive get no reason: nothing pulls them down.
    """
    order = np.argsort(contributions, axis=1, kind="stable")[:, :top]
    columns = [features[f.name].tolist() for f in schema.features]
    result: list[list[dict[str, Any]]] = []
    for row, picks in enumerate(order):
        reasons: list[dict[str, Any]] = []
        for j in picks:
            contribution = float(contributions[row, j])
            if not contribution < 0.0:
                break
            reason = _render(schema.features[j], columns[j][row], catalogue)
            record = asdict(reason)
            record.update(rank=len(reasons) + 1, contribution=contribution)
            reasons.append(record)
        result.append(reasons)
    return result
