"""The continuity report: how good the index is, and how the risk group differs.

One HTML file with PNG charts next to it (MISSION.md step 5): the held-out quality of the
models (ROC, calibration, the metrics with their 95% intervals), the index by group and by
observed outcome, the risk group against continuing firms (the `continuity_group_profile`
rows of the latest scored year), the risk factors of each group, and a sample of firms' index
over time. Readable offline: no script, no network, images by relative path.

Korean staff read it, so headings and table labels are in Korean and English. Chart texts are
in English only: matplotlib's default font (DejaVu Sans) has no Hangul glyphs, and a Korean
font would have to ship with every deployment. Everything placed in the HTML is escaped; the
same inputs give byte-identical files (no timestamps, no random draws without the seed).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exportintel.continuity.charts import (
    chart_style,
    draw_calibration,
    draw_feature_distributions,
    draw_histories,
    draw_index_distribution,
    draw_risk_factors,
    draw_roc,
    factor_table,
    key_features,
)
from exportintel.continuity.groups import (
    CONTINUING,
    GROUPS,
    INDEX,
    INDEX_COLUMNS,
    RISK,
    firm_histories,
    group_profile,
    require_columns,
    risk_factor_shares,
    scored_features,
)
from exportintel.continuity.labels import (
    GROUP_LABELS,
    METRIC_LABELS,
    MODEL_LABELS,
    fixed,
    interval_text,
    missing,
    test_years_text,
    variable_labels,
)
from exportintel.models.metrics import METRICS, binary_metrics
from exportintel.models.tabular import DataError

REPORT_FILE = "continuity-report.html"
CHART_FILES = {
    "roc": "roc.png",
    "calibration": "calibration.png",
    "index": "index-distribution.png",
    "features": "feature-distributions.png",
    "histories": "firm-histories.png",
    "factors": "risk-factors.png",
}


@dataclass(frozen=True)
class ReportInputs:
    """What the report is made of.

    features: `continuity_features` rows; index: `continuity_index` rows; metrics: the training
    job's metrics.json; test_predictions: its test_predictions.parquet (firm_id, year, label,
    p_<model> per model of metrics.json); threshold: the risk threshold the index was scored
    with (the settings' `continuity_risk_threshold`).
    """

    features: pd.DataFrame
    index: pd.DataFrame
    metrics: dict[str, Any]
    test_predictions: pd.DataFrame
    threshold: float
    history_sample: int = 12
    seed: int = 7


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _both(labels: tuple[str, str]) -> str:
    """'위험군 / Risk group', escaped; one text when both languages say the same."""
    ko, en = labels
    return _e(ko) if ko == en else f"{_e(ko)} / {_e(en)}"


def _number(value: Any) -> str:
    """A statistic as staff read it: three significant digits, whole numbers from 1,000 on."""
    if missing(value):
        return "–"
    x = float(value)
    return f"{x:,.0f}" if abs(x) >= 999.5 else f"{x:.3g}"


def _percent(value: Any) -> str:
    return "–" if missing(value) else f"{100.0 * float(value):.1f}%"


# --- inputs -------------------------------------------------------------------------------


def model_names(metrics: dict[str, Any], test_predictions: pd.DataFrame) -> list[str]:
    """The models of metrics.json, each with its held-out probabilities and its four metrics."""
    models = metrics.get("models")
    if not isinstance(models, dict) or not models:
        raise DataError("metrics.json has no 'models' section: is it the training job's?")
    for name, entry in models.items():
        absent = [m for m in METRICS if not isinstance(entry, dict) or m not in entry]
        if absent:
            raise DataError(f"metrics.json: model {name!r} lacks {', '.join(absent)}")
    columns = ["label", *(f"p_{name}" for name in models)]
    require_columns(test_predictions, columns, "test predictions (test_predictions.parquet)")
    labels = set(pd.to_numeric(test_predictions["label"], errors="coerce").unique())
    if labels != {0, 1}:
        raise DataError(
            f"the test predictions need labels 0 and 1 both (a ROC needs both); found {labels}"
        )
    return [str(name) for name in models]


def _check_agreement(metrics: dict[str, Any], test_predictions: pd.DataFrame) -> None:
    """The predictions must be the ones the metrics were computed from: the report would
    otherwise show curves that contradict the figures next to them."""
    y = test_predictions["label"].to_numpy(dtype=np.float64)
    for name, entry in metrics["models"].items():
        stated = entry["auc"].get("value") if isinstance(entry["auc"], dict) else None
        if stated is None:
            continue
        computed = binary_metrics(y, test_predictions[f"p_{name}"].to_numpy(dtype=np.float64))
        if abs(computed["auc"] - float(stated)) > 1e-6:
            raise DataError(
                f"metrics.json gives {name} an AUC of {float(stated):.6f} but the test "
                f"predictions give {computed['auc']:.6f}: they come from different training runs"
            )


def report_version(index: pd.DataFrame, metrics: dict[str, Any]) -> str:
    """The model version the report describes: metrics.json's, which must have scored rows in
    the index; without one in metrics.json, the index's only version."""
    require_columns(index, INDEX_COLUMNS, "index (continuity_index)")
    versions = sorted({str(v) for v in index["model_version"].dropna()})
    wanted = metrics.get("model_version")
    if wanted is not None:
        if str(wanted) not in versions:
            raise DataError(
                f"the index holds no row scored by model {wanted!r} (metrics.json); it holds "
                f"{', '.join(versions) or 'none'}"
            )
        return str(wanted)
    if len(versions) != 1:
        raise DataError(
            "metrics.json names no model_version and the index holds "
            f"{len(versions)} versions ({', '.join(versions)}): cannot tell which to describe"
        )
    return versions[0]


def _check_threshold(index: pd.DataFrame, threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"the risk threshold must lie between 0 and 1, got {threshold}")
    below = pd.to_numeric(index[INDEX], errors="coerce") < threshold
    disagree = below != index["risk_group"].astype(bool)
    if disagree.any():
        raise DataError(
            f"{int(disagree.sum())} index row(s) are in the risk group against the threshold "
            f"{threshold}: the index was scored with another threshold"
        )


# --- charts -------------------------------------------------------------------------------


_CSS = """
body { font-family: "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo", sans-serif;
       margin: 2em auto; max-width: 72em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
.risk { color: #c0392b; font-weight: bold; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
p.note { font-size: 0.85em; color: #555; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    """A table from already-escaped cells; the first `text_columns` columns align left."""

    def cells(values: Sequence[str], tag: str) -> str:
        return "".join(
            f'<{tag} class="text">{v}</{tag}>' if i < text_columns else f"<{tag}>{v}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "\n".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    head = f"<thead><tr>{cells(header, 'th')}</tr></thead>"
    return f"<table>\n{head}\n<tbody>\n{body}\n</tbody>\n</table>"


def _figure(file: str, alt: str, caption: tuple[str, str]) -> str:
    return (
        f'<figure><img src="{_e(file)}" alt="{_e(alt)}">'
        f"<figcaption>{_both(caption)}</figcaption></figure>"
    )


def _summary(
    version: str, metrics: dict[str, Any], index: pd.DataFrame, latest: int, threshold: float
) -> str:
    current = index[index["year"] == latest]
    risk = int(current["risk_group"].astype(bool).sum())
    chosen = str(metrics.get("chosen_model", "?"))
    years = sorted(int(y) for y in index["year"].unique())
    rows = [
        (_both(("모형 버전", "Model version")), _e(version)),
        (_both(("선택된 모형", "Chosen model")), _both(MODEL_LABELS.get(chosen, (chosen, chosen)))),
        (_both(("위험 임계값", "Risk threshold")), _e(f"{threshold:g}")),
        (_both(("평가 연도", "Held-out test years")), _e(test_years_text(metrics))),
        (_both(("점수 산출 연도", "Scored years")), _e(", ".join(map(str, years)))),
        (_both(("최근 연도 기업 수", f"Firms scored in {latest}")), _e(f"{len(current):,}")),
        (
            _both(("위험군 기업", f"Risk group in {latest}")),
            _e(f"{risk:,} ({_percent(risk / len(current) if len(current) else None)})"),
        ),
    ]
    return _table([_both(("항목", "Item")), _both(("값", "Value"))], rows, text_columns=2)


def _metrics_section(metrics: dict[str, Any], names: Sequence[str]) -> str:
    chosen = metrics.get("chosen_model")
    header = [_both(("모형", "Model")), *(_both(METRIC_LABELS[m]) for m in METRICS)]
    rows = []
    for name in names:
        label = _both(MODEL_LABELS.get(name, (name, name)))
        if name == chosen:
            label += " ✔"
        rows.append([label, *(_e(interval_text(metrics["models"][name][m])) for m in METRICS)])
    parts = [_table(header, rows)]
    boot = metrics.get("bootstrap", {})
    parts.append(
        '<p class="note">'
        + _e(
            f"괄호: 95% 구간, 기업 단위 부트스트랩 {boot.get('resamples', '?')}회 / Brackets: 95% "
            f"intervals from {boot.get('resamples', '?')} firm-clustered bootstrap resamples. "
            f"n = {metrics.get('n', '?')}, continuing = {metrics.get('positives', '?')}. "
            "✔ = 선택된 모형 / chosen model."
        )
        + "</p>"
    )
    definition = metrics["models"].get("baseline", {}).get("definition")
    if definition:
        parts.append(f'<p class="note">{_both(("기준 모형", "Baseline"))}: {_e(definition)}</p>')
    groups = metrics.get("risk_group")
    if isinstance(groups, dict) and groups:
        cut = metrics.get("threshold", "?")
        header = [
            _both(("모형", "Model")),
            _both(("위험군 비율", "Share flagged")),
            _both(("중단 기업 포착률", "Stopped firms caught")),
            _both(("위험군 중 실제 중단", "Flagged that stopped")),
        ]
        rows = [
            [
                _both(MODEL_LABELS.get(name, (name, name))),
                _e(_percent(entry.get("share_flagged"))),
                _e(_percent(entry.get("discontinued_caught"))),
                _e(_percent(entry.get("flagged_discontinued"))),
            ]
            for name, entry in groups.items()
            if isinstance(entry, dict)
        ]
        parts.append(
            f"<h3>{_both(('평가 연도의 위험군', 'The risk group on the held-out years'))} "
            f"({_e(f'index < {cut}')})</h3>"
        )
        parts.append(_table(header, rows))
    return "\n".join(parts)


def _profile_tables(profile: pd.DataFrame, year: int) -> str:
    rows = profile[profile["year"] == year]
    by = {g: rows[rows["group_name"] == g].set_index("variable") for g in GROUPS}
    firms = {g: int(by[g]["firms"].iloc[0]) if len(by[g]) else 0 for g in GROUPS}
    group_heads = [f"{_both(GROUP_LABELS[g])} (n = {firms[g]:,})" for g in GROUPS]
    continuous = [v for v in by[RISK].index if by[RISK].loc[v, "kind"] == "continuous"]
    header = [_both(("변수", "Variable"))]
    for head in group_heads:
        header += [
            f"{head}<br>{_both(('값 있음', 'known'))}",
            _both(("평균", "mean")),
            _both(("표준편차", "std")),
            _both(("중앙값", "median")),
            _both(("사분위 범위", "p25–p75")),
        ]
    body = []
    for variable in continuous:
        cells = [f"{_both(variable_labels(variable))}<br><code>{_e(variable)}</code>"]
        for g in GROUPS:
            r = by[g].loc[variable]
            cells += [
                _e(f"{int(r['known']):,}"),
                _e(_number(r["mean"])),
                _e(_number(r["std"])),
                _e(_number(r["median"])),
                _e(f"{_number(r['p25'])} – {_number(r['p75'])}"),
            ]
        body.append(cells)
    parts = [
        f"<h3>{_both(('연속형 변수: 기술 통계', 'Continuous variables: descriptive statistics'))}"
        "</h3>",
        _table(header, body),
    ]
    categorical = [v for v in by[RISK].index if by[RISK].loc[v, "kind"] == "categorical"]
    header = [_both(("변수", "Variable"))]
    for head in group_heads:
        header += [
            f"{head}<br>{_both(('최빈 범주', 'top category'))}",
            _both(("비율", "share")),
            _both(("값 있음", "known")),
        ]
    body = []
    for variable in categorical:
        cells = [f"{_both(variable_labels(variable))}<br><code>{_e(variable)}</code>"]
        for g in GROUPS:
            r = by[g].loc[variable]
            top = "–" if missing(r["top_category"]) else str(r["top_category"])
            cells += [_e(top), _e(_percent(r["top_share"])), _e(f"{int(r['known']):,}")]
        body.append(cells)
    parts += [
        "<h3>"
        + _both(("범주형 변수: 최빈 범주와 비율", "Categorical variables: top category and share"))
        + "</h3>",
        _table(header, body, text_columns=2),
    ]
    return "\n".join(parts)


def _factors_table(factors: pd.DataFrame) -> str:
    header = [
        _both(("위험 요인", "Risk factor")),
        _both(GROUP_LABELS[RISK]),
        _both(GROUP_LABELS[CONTINUING]),
        _both(("차이 (%p)", "Difference (points)")),
    ]
    rows = [
        [
            f"{_both(variable_labels(str(factor)))}<br><code>{_e(factor)}</code>",
            _e(_percent(r[RISK])),
            _e(_percent(r[CONTINUING])),
            _e("–" if missing(r["difference"]) else f"{100.0 * r['difference']:+.1f}"),
        ]
        for factor, r in factors.iterrows()
    ]
    if not rows:
        return f"<p>{_both(('위험 요인 없음', 'No risk factors in this year'))}</p>"
    return _table(header, rows)


def _histories_table(histories: pd.DataFrame) -> str:
    years = sorted(int(y) for y in histories["year"].unique())
    header = [_both(("기업", "Firm")), _both(("최근 연도 그룹", "Group in its latest year"))]
    header += [_e(y) for y in years]
    rows = []
    for firm_id, firm in histories.groupby("firm_id", sort=False):
        by_year = firm.set_index("year")
        cells = [_e(firm_id), _both(GROUP_LABELS[str(firm["latest_group"].iloc[0])])]
        for year in years:
            if year not in by_year.index:
                cells.append("–")
                continue
            value = _e(fixed(by_year.loc[year, INDEX]))
            risky = bool(by_year.loc[year, "risk_group"])
            cells.append(f'<span class="risk">{value}</span>' if risky else value)
        rows.append(cells)
    return _table(header, rows, text_columns=2)


def write_report(inputs: ReportInputs, out_dir: Path) -> Path:
    """Write `out_dir/continuity-report.html` and its PNG charts; returns the HTML's path."""
    names = model_names(inputs.metrics, inputs.test_predictions)
    _check_agreement(inputs.metrics, inputs.test_predictions)
    version = report_version(inputs.index, inputs.metrics)
    index = inputs.index[inputs.index["model_version"].astype(str) == version]
    _check_threshold(index, inputs.threshold)
    scored = scored_features(inputs.features, index)
    profile = group_profile(inputs.features, index)
    shares = risk_factor_shares(index)
    histories = firm_histories(index, inputs.history_sample, inputs.seed)
    latest = int(scored["year"].max())
    factors = factor_table(shares, latest)
    features = key_features(profile[profile["year"] == latest])

    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {name: out_dir / file for name, file in CHART_FILES.items()}
    predictions = inputs.test_predictions
    with chart_style():
        draw_roc(predictions, inputs.metrics, names, charts["roc"])
        draw_calibration(predictions, inputs.metrics, names, charts["calibration"])
        draw_index_distribution(scored, latest, inputs.threshold, charts["index"])
        draw_feature_distributions(scored, latest, features, charts["features"])
        draw_histories(histories, inputs.threshold, charts["histories"])
        draw_risk_factors(factors, latest, charts["factors"])

    title = _both(("수출 지속성 지수 보고서", "Export continuity index report"))
    sections = [
        f"<h1>{title}</h1>",
        f"<h2>{_both(('요약', 'Summary'))}</h2>",
        _summary(version, inputs.metrics, scored, latest, inputs.threshold),
        f"<h2>{_both(('모형 성능 (평가 연도)', 'Model quality on the held-out years'))}</h2>",
        _metrics_section(inputs.metrics, names),
        _figure(CHART_FILES["roc"], "ROC curves of the models and the baseline",
                ("ROC 곡선", "ROC curves")),
        _figure(CHART_FILES["calibration"], "Reliability diagram with the ECE",
                ("보정 곡선 (예측 확률 대 실제 지속 비율)",
                 "Calibration: predicted probability against the observed share continuing")),
        f"<h2>{_both(('지수 분포', 'Distribution of the index'))}</h2>",
        _figure(CHART_FILES["index"], "Index distribution by group and by observed outcome",
                ("그룹별, 관측 결과별 지수 분포", "Index by group and by observed outcome")),
        f"<h2>{_both(('위험군과 지속 기업 비교', 'Risk group against continuing firms'))}"
        f" ({latest})</h2>",
        '<p class="note">'
        + _both(
            (
                f"위험군: 지수 {inputs.threshold:g} 미만, 지속 기업: {inputs.threshold:g} 이상 "
                "(예측 그룹이며 관측된 상태가 아님)",
                f"Risk group: index below {inputs.threshold:g}; continuing firms: at or above "
                "it (predicted groups, not observed statuses)",
            )
        )
        + "</p>",
        _profile_tables(profile, latest),
        _figure(CHART_FILES["features"], "Distributions of key features by group",
                ("그룹 간 차이가 큰 변수의 분포", "Features that separate the groups most")),
        f"<h2>{_both(('위험 요인', 'Risk factors'))} ({latest})</h2>",
        '<p class="note">'
        + _both(
            (
                "각 그룹에서 해당 요인이 상위 3개 위험 요인에 포함된 기업의 비율",
                "Share of each group's firms with the factor among their top three risk factors",
            )
        )
        + "</p>",
        _factors_table(factors),
        _figure(CHART_FILES["factors"], "Risk-factor shares by group",
                ("그룹별 위험 요인 비율", "Risk-factor shares by group")),
        f"<h2>{_both(('기업별 지수 추이', 'Index over time'))}</h2>",
        _figure(CHART_FILES["histories"], "Index over time of a sample of firms",
                ("표본 기업의 연도별 지수", "A sample of firms, index per year")),
        _histories_table(histories),
        '<p class="note">'
        + _both(("굵은 빨간 값: 위험군", "Bold red values: in the risk group that year"))
        + "</p>",
        '<p class="note">'
        + _both(
            (
                "그래프 문자는 영어로만 표시됩니다 (기본 글꼴에 한글 없음)",
                "Chart texts are in English only (the default chart font has no Hangul)",
            )
        )
        + "</p>",
    ]  # fmt: skip
    page = (
        '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    path = out_dir / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path
