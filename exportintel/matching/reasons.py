"""Why a pair is recommended: the features that lift its score most, in Korean and English.

The reciprocal model gives each feature its first-order effect on ln(score)
(`DirectionModel.contributions`, from the rankers' tree SHAP values). The effect of
`content_score`, a sum, goes to what it sums (HS levels, same categories, price and volume
fit) in proportion to each part's share of the pair's score. Features that say the same thing
are summed into one reason code (`price_fit` and `price_gap` are both the price; `cf_score`
and its gap to the best candidate are both "firms like this one engaged"), then the codes with
the largest positive sums are the reasons, each rendered with the pair's value: "HS 850440
matches", "price within the buyer's range", "KRW down 6% against USD over the past year".
Codes of side columns the catalogue does not know render as the column's name, so any side
table works; the exporter's stability and capability columns reuse the continuity
catalogue's texts (`exportintel.models.reasons`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.matching.features import SIDE_PREFIX, Snapshot
from exportintel.models.reasons import CONTINUITY_CATALOGUE, ReasonText
from exportintel.models.tabular import MISSING, OTHER

FloatArray = npt.NDArray[np.float64]
TOP_REASONS = 3

# Features that are one reason: feature name -> reason code.
_GROUPED = {
    "cf_score": "similar_partners",
    "cf_score_gap": "similar_partners",
    "embedding_similarity": "taste_fit",
    "embedding_similarity_gap": "taste_fit",
    "content_score": "content_fit",
    "content_score_gap": "content_fit",
    "price_fit": "price_fit",
    "price_gap": "price_fit",
    "volume_fit": "volume_fit",
    "volume_ratio": "volume_fit",
    "fx_change": "currency_move",
}

# Fixed texts: code -> (English, Korean).
_FIXED = {
    "similar_partners": (
        "firms with similar partners engaged with this one",
        "유사한 거래 이력을 가진 기업들이 관심을 보임",
    ),
    "taste_fit": (
        "their products meet in what similar firms choose",
        "유사 기업들의 선택 패턴상 제품이 잘 맞음",
    ),
    "content_fit": ("products, price and volume fit overall", "품목·가격·물량 전반이 잘 맞음"),
    "exporter_activity": ("exporter active on the platform", "플랫폼 활동이 활발한 수출기업"),
    "exporter_outgoing": (
        "exporter reaches out to buyers",
        "바이어에게 적극적으로 연락하는 수출기업",
    ),
    "exporter_incoming": ("buyers seek this exporter", "바이어의 관심이 많은 수출기업"),
    "exporter_partners": ("exporter with many buyer contacts", "교류 바이어가 많은 수출기업"),
    "buyer_activity": ("buyer active on the platform", "플랫폼 활동이 활발한 바이어"),
    "buyer_outgoing": ("buyer reaches out to exporters", "수출기업에 적극적으로 연락하는 바이어"),
    "buyer_incoming": ("exporters seek this buyer", "수출기업의 관심이 많은 바이어"),
    "buyer_partners": ("buyer with many exporter contacts", "교류 수출기업이 많은 바이어"),
}

# Labels of columns, for the codes that name one: column -> (English, Korean).
LABELS = {
    "hs_codes": ("HS", "HS"),
    "hs_codes_wanted": ("HS", "HS"),
    "hs_chapters": ("HS chapter", "HS류"),
    "hs_chapters_wanted": ("HS chapter", "HS류"),
    "main_hs_chapter": ("main HS chapter", "주력 HS류"),
    "country_code": ("country", "국가"),
    "currency": ("currency", "통화"),
    "fx_currency": ("currency", "통화"),
    "region": ("region", "지역"),
    "raw_material": ("raw material", "원자재"),
}


def _entry(label: tuple[str, str], low: tuple[str, str], high: tuple[str, str]) -> ReasonText:
    """(Korean, English) pairs of a side column's label and its low and high texts."""
    return ReasonText(label[0], label[1], low[0], low[1], high[0], high[1])


# Side columns of the buyer and the exporter's offer (the exporter's stability and capability
# columns come from the continuity catalogue).
SIDE_CATALOGUE: dict[str, ReasonText] = {
    "buyer:annual_revenue_usd": _entry(
        ("바이어 매출", "buyer revenue"),
        ("매출이 평균보다 작은 바이어", "buyer smaller than most by revenue"),
        ("매출 규모가 큰 바이어", "large buyer by revenue"),
    ),
    "buyer:firm_age": _entry(
        ("바이어 업력", "buyer age"),
        ("업력이 평균보다 짧은 바이어", "buyer younger than most"),
        ("업력이 긴 바이어", "long-established buyer"),
    ),
    "buyer:employees": _entry(
        ("바이어 종업원 수", "buyer employees"),
        ("소규모 바이어 조직", "small buyer team"),
        ("종업원이 많은 바이어", "buyer with many employees"),
    ),
    "buyer:desired_volume_units": _entry(
        ("희망 물량", "wanted volume"),
        ("소량 구매 희망", "small volume wanted"),
        ("대량 구매 희망", "large volume wanted"),
    ),
    "exporter:monthly_capacity_units": _entry(
        ("월 공급 능력", "monthly capacity"),
        ("공급 능력 작음", "small monthly capacity"),
        ("공급 능력 큼", "large monthly capacity"),
    ),
    "exporter:raw_material_change": _entry(
        ("원자재 가격 변동", "raw-material price move"),
        ("원자재 가격 하락(원가 부담 완화)", "raw-material prices down over the past year"),
        ("원자재 가격 상승", "raw-material prices up over the past year"),
    ),
}


@dataclass(frozen=True)
class Reason:
    """One reason of one recommendation."""

    code: str
    value: str | None
    contribution: float  # effect on ln(score)
    en: str
    ko: str


# Aggregates are made of other features; their parts are the reasons.
NOT_REASONS = frozenset({"content_fit"})
CONTENT_AGGREGATES = ("content_score", "content_score_gap")


def _content_parts(names: list[str]) -> list[str]:
    """The features `content_score` sums (content.ContentModel.pair_features)."""
    return [
        n
        for n in names
        if n.startswith(("code_level:", "same:"))
        or n in ("price_fit", "volume_fit")
        or (n.startswith("codes_shared:") and f"code_level:{n.partition(':')[2]}" not in names)
    ]


def split_content_score(features: pd.DataFrame, contributions: FloatArray) -> FloatArray:
    """The contributions with those of `content_score` (and its gap) handed to its parts, in
    proportion to each part's share of the pair's score: the content score is a sum, so its
    effect is the effect of what it sums. Pairs with a zero score keep it (not a reason)."""
    names = list(features.columns)
    aggregates = [names.index(n) for n in CONTENT_AGGREGATES if n in names]
    parts = _content_parts(names)
    if not aggregates or not parts:
        return contributions
    values = np.column_stack([np.nan_to_num(features[n].to_numpy(dtype=np.float64)) for n in parts])
    flat = [j for j, n in enumerate(parts) if n.startswith("codes_shared:")]
    values[:, flat] = np.minimum(values[:, flat], 1.0)
    total = values.sum(axis=1)
    share = np.divide(values, total[:, None], out=np.zeros_like(values),
                      where=total[:, None] > 0)  # fmt: skip
    moved = contributions[:, aggregates].sum(axis=1)
    out = np.array(contributions, dtype=np.float64, copy=True)
    out[:, [names.index(n) for n in parts]] += moved[:, None] * share
    out[np.ix_(total > 0, aggregates)] = 0.0
    return out


def reason_code(feature: str) -> str:
    """The reason code a feature belongs to."""
    if feature in _GROUPED:
        return _GROUPED[feature]
    kind, _, rest = feature.partition(":")
    if kind in ("code_level", "codes_shared"):
        return f"code_match:{rest}"
    if kind == "text_similarity":
        return f"text_match:{rest}"
    return feature


def _label(column: str) -> tuple[str, str]:
    return LABELS.get(column, (column, column))


def _pct(values: npt.ArrayLike) -> list[str]:
    return [f"{abs(float(v)) * 100:.0f}%" for v in np.asarray(values, dtype=np.float64)]


def _number(values: npt.ArrayLike, digits: str = ".3g") -> list[str | None]:
    return [
        None if not np.isfinite(v) else format(float(v), digits)
        for v in np.asarray(values, dtype=np.float64)
    ]


Rendered = tuple[list[str | None], list[str], list[str]]  # values, English, Korean


@dataclass
class Batch:
    """The pairs being explained: positions, features, and the snapshot behind them."""

    snapshot: Snapshot
    features: pd.DataFrame
    exporters: npt.NDArray[np.int64]
    buyers: npt.NDArray[np.int64]

    def column(self, name: str, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
        if name not in self.features.columns:
            return np.full(len(rows), np.nan)
        values = self.features[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return np.asarray(values.astype(object).to_numpy()[rows], dtype=object)
        return np.asarray(values.to_numpy(dtype=np.float64)[rows])

    def side(self, side: str, column: str, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
        if side == "exporter":
            return self.snapshot.side_strings("exporter", column)[self.exporters[rows]]
        return self.snapshot.side_strings("buyer", column)[self.buyers[rows]]


def _code_match(column: str, batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    codes = batch.snapshot.content.shared_codes(column, batch.exporters[rows], batch.buyers[rows])
    hs = "hs" in column.lower()
    label_en, label_ko = _label(column)
    values: list[str | None] = []
    en: list[str] = []
    ko: list[str] = []
    for code in codes:
        values.append(code)
        if code is None:
            en.append(f"{label_en} matches")
            ko.append(f"{label_ko} 일치")
        elif hs and len(code) == 2:
            en.append(f"same HS chapter {code}")
            ko.append(f"HS {code}류 일치")
        elif hs and len(code) == 4:
            en.append(f"HS {code} (heading) matches")
            ko.append(f"HS {code} 호 일치")
        elif hs:
            en.append(f"HS {code} matches")
            ko.append(f"HS {code} 품목 일치")
        else:
            en.append(f"{label_en} {code} matches")
            ko.append(f"{label_ko} {code} 일치")
    return values, en, ko


def _price(batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    fit = batch.column("price_fit", rows)
    inside = fit >= 0.999
    shares = _pct(fit)
    en = [
        "price within the buyer's range" if ok else f"price covers {p} of the buyer's range"
        for ok, p in zip(inside, shares, strict=True)
    ]
    ko = [
        "가격이 바이어 희망 범위 안에 있음" if ok else f"가격대가 바이어 희망 범위의 {p}와 겹침"
        for ok, p in zip(inside, shares, strict=True)
    ]
    return _number(fit, ".2f"), en, ko


def _volume(batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    with np.errstate(over="ignore"):
        share = np.exp(batch.column("volume_ratio", rows))
    covers = share >= 1.0
    shares = _pct(np.minimum(share, 1.0))
    en = [
        "capacity covers the buyer's volume" if ok else f"capacity covers {p} of the buyer's volume"
        for ok, p in zip(covers, shares, strict=True)
    ]
    ko = [
        "공급 능력이 바이어 희망 물량을 충족" if ok else f"공급 능력이 바이어 희망 물량의 {p}"
        for ok, p in zip(covers, shares, strict=True)
    ]
    return _number(share, ".2f"), en, ko


def _currency(batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    change = batch.column("fx_change", rows)
    currency = batch.snapshot.content.currencies(batch.buyers[rows])
    en, ko = [], []
    for c, cur in zip(change, currency, strict=True):
        name = cur or "the buyer's currency"
        name_ko = cur or "바이어 통화"
        if c >= 0:  # more KRW per unit: the won fell against the buyer's currency
            p = f"{(1.0 - np.exp(-c)) * 100:.0f}%"
            en.append(f"KRW down {p} against {name} over the past year")
            ko.append(f"지난 1년간 원화가 {name_ko} 대비 {p} 하락 (가격 경쟁력 상승)")
        else:
            p = f"{(np.exp(-c) - 1.0) * 100:.0f}%"
            en.append(f"KRW up {p} against {name} over the past year")
            ko.append(f"지난 1년간 원화가 {name_ko} 대비 {p} 상승")
    return _number(change, ".4f"), en, ko


_PARTICLE = {"수출기업": "과", "바이어": "와"}  # 과 after a consonant, 와 after a vowel


def _cross(feature: str, batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    coded, _, other = feature.partition(":")[2].partition("*")
    cross = next(c for c in batch.snapshot.crosses if c.name == feature)
    coded_side = cross.coded_side
    other_side = "buyer" if coded_side == "exporter" else "exporter"
    codes = batch.side(coded_side, coded, rows)
    values = batch.side(other_side, other, rows)
    code_en, code_ko = _label(coded)
    other_en, other_ko = _label(other)
    own_en, own_ko = ("exporters", "수출기업") if coded_side == "exporter" else ("buyers", "바이어")
    them_en, them_ko = (
        ("buyers", "바이어") if coded_side == "exporter" else ("exporters", "수출기업")
    )
    en, ko, shown = [], [], []
    for c, v in zip(codes, values, strict=True):
        c, v = c or "?", v or "?"
        shown.append(f"{c}|{v}")
        en.append(f"{own_en} of {code_en} {c} often deal with {them_en} of {other_en} {v}")
        ko.append(
            f"{code_ko} {c} {own_ko}{_PARTICLE[own_ko]} {other_ko} {v} {them_ko} 간 교류가 많음"
        )
    return list(shown), en, ko


def _interest(feature: str, batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    _, side, column = feature.split(":", 2)
    other = "buyer" if side == "exporter" else "exporter"
    values = batch.side(other, column, rows)
    label_en, label_ko = _label(column)
    who_en, who_ko = (
        ("the exporter", "수출기업이") if side == "exporter" else ("the buyer", "바이어가")
    )
    them_en, them_ko = ("buyers", "바이어") if side == "exporter" else ("exporters", "수출기업")
    en = [f"{who_en} engaged with {them_en} of {label_en} {v or '?'} before" for v in values]
    ko = [f"{who_ko} {label_ko} {v or '?'} {them_ko}와 교류한 이력이 있음" for v in values]
    if them_ko == "수출기업":
        ko = [text.replace("수출기업와", "수출기업과") for text in ko]
    return list(values), en, ko


def _side_column(feature: str, batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    side = "exporter" if feature.startswith(SIDE_PREFIX["exporter"]) else "buyer"
    column = feature[len(SIDE_PREFIX[side]) :]
    spec = next((f for f in batch.snapshot.schema.features if f.name == feature), None)
    text = SIDE_CATALOGUE.get(feature) or (
        CONTINUITY_CATALOGUE.get(column) if side == "exporter" else None
    )
    values = batch.column(feature, rows)
    if spec is not None and spec.kind == "categorical":
        label_en, label_ko = (text.label_en, text.label_ko) if text else _label(column)
        shown = [None if v is None or str(v) in (MISSING, OTHER) else str(v) for v in values]
        en = [f"{side} {label_en}: {v}" if v else f"{side} {label_en}" for v in shown]
        ko = [f"{label_ko}: {v}" if v else label_ko for v in shown]
        return shown, en, ko
    numbers = np.asarray(values, dtype=np.float64)
    if text is None:
        return _number(numbers, ".6g"), [feature] * len(rows), [feature] * len(rows)
    reference = spec.reference if spec is not None and spec.reference is not None else np.nan
    low = numbers < reference
    en = [text.low_en if is_low else text.high_en for is_low in low]
    ko = [text.low_ko if is_low else text.high_ko for is_low in low]
    return _number(numbers, ".6g"), en, ko


_RENDERERS: dict[str, Callable[[Batch, npt.NDArray[np.int64]], Rendered]] = {
    "price_fit": _price,
    "volume_fit": _volume,
    "currency_move": _currency,
}


def render(code: str, batch: Batch, rows: npt.NDArray[np.int64]) -> Rendered:
    """(values, English, Korean) of one reason code for the pairs `rows` of `batch`."""
    if code in _RENDERERS:
        return _RENDERERS[code](batch, rows)
    if code in _FIXED:
        en, ko = _FIXED[code]
        shown: list[str | None] = [None] * len(rows)
        if code in batch.features.columns:
            shown = _number(batch.column(code, rows))
        return shown, [en] * len(rows), [ko] * len(rows)
    kind, _, rest = code.partition(":")
    if kind == "code_match":
        return _code_match(rest, batch, rows)
    if kind == "text_match":
        similarity = batch.column(f"text_similarity:{rest}", rows)
        return (
            _number(similarity, ".2f"),
            ["products described alike on both sides"] * len(rows),
            ["양측 제품 설명이 유사함"] * len(rows),
        )
    if kind == "same":
        values = batch.side("exporter", rest, rows)
        label_en, label_ko = _label(rest)
        return (
            list(values),
            [f"same {label_en}: {v}" for v in values],
            [f"{label_ko} 동일: {v}" for v in values],
        )
    if kind == "cross":
        return _cross(code, batch, rows)
    if kind == "interest":
        return _interest(code, batch, rows)
    if code.startswith(SIDE_PREFIX["exporter"]) or code.startswith(SIDE_PREFIX["buyer"]):
        return _side_column(code, batch, rows)
    return [None] * len(rows), [code] * len(rows), [code] * len(rows)


@dataclass
class ReasonColumns:
    """Reasons of many pairs as flat lists and offsets (pair i owns [offsets[i],
    offsets[i+1])): what Arrow list columns are made of, without a Python list per pair."""

    offsets: npt.NDArray[np.int32]
    codes: list[str]
    values: list[str | None]
    contributions: npt.NDArray[np.float64]
    en: list[str]
    ko: list[str]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, pair: int) -> list[Reason]:
        lo, hi = int(self.offsets[pair]), int(self.offsets[pair + 1])
        return [
            Reason(
                self.codes[i], self.values[i], float(self.contributions[i]), self.en[i], self.ko[i]
            )
            for i in range(lo, hi)
        ]

    def lists(self) -> list[list[Reason]]:
        return [self.of(i) for i in range(len(self))]


def explain(
    snapshot: Snapshot,
    exporters: npt.NDArray[np.int64],
    buyers: npt.NDArray[np.int64],
    features: pd.DataFrame,
    contributions: FloatArray,
    *,
    top: int = TOP_REASONS,
) -> ReasonColumns:
    """Per pair, up to `top` reason codes with the largest positive summed contributions,
    largest first; a pair nothing lifts has no reason."""
    names = list(features.columns)
    contributions = split_content_score(features, contributions)
    codes = [reason_code(n) for n in names]
    unique = sorted(set(codes))
    index = {c: i for i, c in enumerate(unique)}
    owner = np.zeros((len(names), len(unique)))
    owner[np.arange(len(names)), [index[c] for c in codes]] = 1.0
    summed = contributions @ owner
    for code in NOT_REASONS & set(unique):
        summed[:, index[code]] = 0.0
    order = np.argsort(-summed, axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(summed, order, axis=1)
    keep = picked > 0.0  # positive, and a prefix of each row (sorted descending)
    rows, ranks = np.nonzero(keep)  # row-major: pair by pair, best reason first
    chosen = order[rows, ranks]
    offsets = np.zeros(len(features) + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    n = len(rows)
    values: list[str | None] = [None] * n
    en: list[str] = [""] * n
    ko: list[str] = [""] * n
    batch = Batch(snapshot, features, exporters, buyers)
    for j in np.unique(chosen):
        where = np.flatnonzero(chosen == j)
        shown, texts_en, texts_ko = render(unique[j], batch, rows[where])
        for position, value, text_en, text_ko in zip(where, shown, texts_en, texts_ko, strict=True):
            values[position], en[position], ko[position] = value, text_en, text_ko
    return ReasonColumns(
        offsets,
        [unique[j] for j in chosen],
        values,
        picked[rows, ranks],
        en,
        ko,
    )
