"""The analyst report of the latest pipeline run (`exportintel report`): one HTML file with
PNG charts beside it.

1. Lake reconciliation: the latest ETL run summary of each dataset
   (`s3://<artifacts>/etl-runs/<run-id>/<dataset>.json`), with read = written + quarantined +
   duplicates checked row by row.
2. Quarantine by dataset and reason code: the counts of those summaries, beside the rows the
   `quarantine` table holds over every run and one readable reason per code.
3. Matching: the held-out evaluation of the serving version (`models/matching/current.json`,
   its `output/metrics.json`): NDCG, recall, coverage and Gini with their 95% intervals for the
   popular, content, cf and hybrid models in both directions; and the exposure curve of the
   served lists. metrics.json keeps the Gini, not the curve, so the curve is drawn from the
   `recommendations` table: how often each firm of the other side is listed (rank within the
   shown count, and the fair-exploration draw, `shown_rank`), over every eligible firm.
4. Continuity: ROC and calibration of the serving version's held-out predictions
   (`output/test_predictions.parquet`) and the risk group against continuing firms
   (`continuity_group_profile` of that version, computed from the index when the table has
   no rows of it yet).

A part whose inputs are missing (no matching model yet, for instance) is rendered as "not
available yet" with the command that makes it: a report of what exists is more use to an
analyst than none. Only a lake with nothing to report (no ETL run, no model) raises `NotReady`
(the CLI exits 2). The folder is self-contained: relative image paths, no script, no external
asset; every text placed in the HTML is escaped. The HTML helpers, the chart style and the
ROC, calibration and feature charts are the continuity report's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.continuity.charts import (
    chart_style,
    draw_calibration,
    draw_feature_distributions,
    draw_roc,
    key_features,
)
from exportintel.continuity.groups import GROUPS, PROFILE_COLUMNS, RISK
from exportintel.continuity.report import (
    _CSS,
    _both,
    _e,
    _figure,
    _metrics_section,
    _profile_tables,
    _table,
    model_names,
)
from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.matching.exploration import coverage, gini
from exportintel.models.tabular import DataError
from exportintel.reports.charts import (
    MATCHING_MODELS,
    draw_exposure,
    draw_matching_evaluation,
    draw_quarantine,
    draw_reconciliation,
)
from exportintel.settings import EnvironmentSettings

REPORT_FILE = "index.html"
CHART_FILES = {
    "reconciliation": "reconciliation.png",
    "quarantine": "quarantine.png",
    "matching": "matching-evaluation.png",
    "exposure": "exposure-curve.png",
    "roc": "continuity-roc.png",
    "calibration": "continuity-calibration.png",
    "groups": "risk-group-features.png",
}
ETL_RUNS_PREFIX = "etl-runs/"  # exportintel.etl.local_runner.SUMMARY_PREFIX, infra/etl.py
COUNTS = ("read", "written", "quarantined", "duplicates")
# direction of the recommendations table -> (the column of the firms listed, chart title)
LISTED = {
    "buyers_for_exporter": ("buyer_id", "Buyers listed for exporters"),
    "exporters_for_buyer": ("exporter_id", "Exporters listed for buyers"),
}
DIRECTION_LABELS = {
    "buyers for each exporter": ("수출기업별 추천 바이어", "Buyers for each exporter"),
    "exporters for each buyer": ("바이어별 추천 수출기업", "Exporters for each buyer"),
}
MATCHING_LABELS = {
    "popular": ("인기 기준", "popular"),
    "content": ("내용 기반", "content"),
    "cf": ("협업 필터링", "cf"),
    "hybrid": ("하이브리드 (운영 모형)", "hybrid"),
}
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MatchingPart:
    """The serving matching version: its metrics.json and, per direction (chart title), how
    often each eligible firm of the other side is listed, per list kind."""

    version: str
    metrics: dict[str, Any]
    exposure: dict[str, dict[str, FloatArray]] = field(default_factory=dict)
    exposure_note: str | None = None


@dataclass(frozen=True)
class ContinuityPart:
    """The serving continuity version: metrics.json and test_predictions.parquet of its
    training run; the group profile and the scored features (index + features) of its latest
    scoring, None with a note when it has not scored yet."""

    version: str
    metrics: dict[str, Any]
    test_predictions: pd.DataFrame
    threshold: float
    profile: pd.DataFrame | None = None
    scored: pd.DataFrame | None = None
    comparison_note: str | None = None


@dataclass(frozen=True)
class AnalystInputs:
    """What the report is made of. `etl_runs`: the RunSummary JSON of each dataset's latest
    run; `quarantine_stored`: rows of the `quarantine` table per (dataset, reason_code), with
    `records` and one `reason`; a part left None is shown as not available, with
    `missing[part]` saying why."""

    etl_runs: list[dict[str, Any]]
    quarantine_stored: pd.DataFrame | None = None
    matching: MatchingPart | None = None
    continuity: ContinuityPart | None = None
    missing: dict[str, str] = field(default_factory=dict)


# --- reading the lake ---------------------------------------------------------------------


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def latest_etl_runs(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The latest run summary of each dataset: the one written last (run ids are names a
    caller may choose, so their order says nothing), by dataset name."""
    latest: dict[str, tuple[Any, str, str]] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ETL_RUNS_PREFIX)
    for page in pages:
        for item in page.get("Contents", []):
            key = item["Key"]
            parts = key.removeprefix(ETL_RUNS_PREFIX).split("/")
            if len(parts) != 2 or not parts[1].endswith(".json"):
                continue
            dataset = parts[1].removesuffix(".json")
            candidate = (item["LastModified"], parts[0], key)
            if dataset not in latest or candidate[:2] > latest[dataset][:2]:
                latest[dataset] = candidate
    runs = []
    for dataset in sorted(latest):
        summary = _json(s3, bucket, latest[dataset][2])
        if summary is not None:
            runs.append(summary)
    return runs


def _stored_quarantine(lake: LocalLake) -> pd.DataFrame | None:
    """Rows of the `quarantine` table (its own bucket) per dataset and reason code."""
    from exportintel.etl.staging import Mirror, pull

    mirror = Mirror(
        lake.resources.quarantine_bucket,
        "quarantine/",
        lake.workdir / "reports" / "analyst" / "quarantine",
    )
    pull(_s3(), mirror)
    if not has_data(mirror.folder):
        return None
    rows = pd.read_parquet(
        mirror.folder, columns=["dataset", "reason_code", "reason"], partitioning=None
    )
    return quarantine_counts(rows)


def quarantine_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, reason_code): the rows held and the first readable reason (by text)."""
    if len(rows) == 0:
        return pd.DataFrame(columns=["dataset", "reason_code", "records", "reason"])
    grouped = rows.groupby(["dataset", "reason_code"], sort=True)
    return grouped.agg(records=("reason", "size"), reason=("reason", "min")).reset_index()


def _serving(s3: Any, bucket: str, model: str) -> str | None:
    from exportintel.pipeline import versions

    current = versions.current(s3, bucket, model)
    return None if current is None else str(current["model_version"])


def _table_frame(lake: LocalLake, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
    folder = lake.pull(table)
    if not has_data(folder):
        return None
    return pd.read_parquet(folder, columns=list(columns), partitioning=None)


def exposure_counts(
    recommendations: pd.DataFrame,
    shown: int,
    eligible: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, dict[str, FloatArray]]:
    """Per direction (chart title), how often each firm of the other side is listed: in the
    plain top `shown` by score (`rank`) and in the draw served with fair exploration
    (`shown_rank` set). `eligible` (per listed column) adds the firms never listed at all, as
    zeros: the curve is over every firm that could have been shown."""
    curves: dict[str, dict[str, FloatArray]] = {}
    for direction, (column, title) in LISTED.items():
        rows = recommendations[recommendations["direction"] == direction]
        if len(rows) == 0:
            continue
        firms = set(rows[column].astype(str))
        if eligible is not None and column in eligible:
            firms |= {str(f) for f in eligible[column]}
        universe = sorted(firms)

        def counts(listed: pd.Series, universe: list[str] = universe) -> FloatArray:
            tally = listed.astype(str).value_counts()
            return tally.reindex(universe, fill_value=0).to_numpy(dtype=np.float64)

        curves[title] = {
            f"top {shown} by score": counts(rows.loc[rows["rank"] <= shown, column]),
            "served draw (fair exploration)": counts(rows.loc[rows["shown_rank"].notna(), column]),
        }
    return curves


def _matching(lake: LocalLake, settings: EnvironmentSettings, s3: Any) -> MatchingPart | str:
    from exportintel.pipeline import versions

    bucket = lake.resources.artifacts_bucket
    version = _serving(s3, bucket, "matching")
    if version is None:
        return "no matching model serves yet: run `exportintel train matching`"
    key = f"{versions.version_prefix('matching', version)}/output/metrics.json"
    metrics = _json(s3, bucket, key)
    if metrics is None:
        return f"the serving matching version {version} has no metrics.json (s3://{bucket}/{key})"
    recommendations = _table_frame(
        lake,
        "recommendations",
        ("direction", "exporter_id", "buyer_id", "rank", "shown_rank", "model_version"),
    )
    if recommendations is None:
        note = "no recommendations table yet: run `exportintel score matching`"
        return MatchingPart(version, metrics, exposure_note=note)
    recommendations = recommendations[recommendations["model_version"].astype(str) == version]
    if len(recommendations) == 0:
        note = f"the recommendations table holds no list of {version}: run `exportintel score " \
            "matching`"  # fmt: skip
        return MatchingPart(version, metrics, exposure_note=note)
    eligible: dict[str, list[str]] = {}
    buyers = _table_frame(lake, "matching_buyers", ("buyer_id", "bad_credit"))
    if buyers is not None:
        # Bad-credit buyers are never recommended: they are outside the curve, not zeros in it.
        eligible["buyer_id"] = list(buyers.loc[~buyers["bad_credit"].fillna(False), "buyer_id"])
    exporters = _table_frame(lake, "matching_exporters", ("exporter_id",))
    if exporters is not None:
        eligible["exporter_id"] = list(exporters["exporter_id"])
    curves = exposure_counts(recommendations, settings.matching_shown, eligible)
    return MatchingPart(version, metrics, curves)


def _continuity(lake: LocalLake, settings: EnvironmentSettings, s3: Any) -> ContinuityPart | str:
    from exportintel.continuity.groups import group_profile, scored_features
    from exportintel.models.tabular import read_features
    from exportintel.pipeline import versions

    bucket = lake.resources.artifacts_bucket
    version = _serving(s3, bucket, "continuity")
    if version is None:
        return "no continuity model serves yet: run `exportintel train continuity`"
    prefix = f"{versions.version_prefix('continuity', version)}/output"
    folder = lake.workdir / "reports" / "analyst" / "continuity" / version
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("metrics.json", "test_predictions.parquet"):
        try:
            s3.download_file(bucket, f"{prefix}/{name}", str(folder / name))
        except Exception as error:  # botocore's ClientError of a missing key, mostly
            return f"the serving continuity version {version} has no {name}: {error}"
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    predictions = pd.read_parquet(folder / "test_predictions.parquet")
    threshold = settings.continuity_risk_threshold
    part = ContinuityPart(version, metrics, predictions, threshold)
    index_folder, features_folder = lake.pull("continuity_index"), lake.pull("continuity_features")
    if not (has_data(index_folder) and has_data(features_folder)):
        note = "no continuity_index table yet: run `exportintel score continuity`"
        return replace(part, comparison_note=note)
    index = pd.read_parquet(index_folder, partitioning=None)
    index = index[index["model_version"].astype(str) == version]
    if len(index) == 0:
        note = f"the continuity_index holds no row of {version}: run `exportintel score continuity`"
        return replace(part, comparison_note=note)
    features = read_features(features_folder)
    profile = _table_frame(lake, "continuity_group_profile", PROFILE_COLUMNS)
    if profile is not None:
        profile = profile[profile["model_version"].astype(str) == version]
    if profile is None or len(profile) == 0:
        # `exportintel report continuity` stores the table; the same function, not stored here.
        profile = group_profile(features, index)
    return ContinuityPart(
        version, metrics, predictions, threshold, profile, scored_features(features, index)
    )


def collect(lake: LocalLake, settings: EnvironmentSettings) -> AnalystInputs:
    """Everything the report shows, from the (emulated) lake; `NotReady` when there is
    nothing at all to report."""
    s3 = _s3()
    runs = latest_etl_runs(s3, lake.resources.artifacts_bucket)
    missing: dict[str, str] = {}
    if not runs:
        missing["etl"] = "no ETL run summary yet: run `exportintel etl`"
    matching = _matching(lake, settings, s3)
    continuity = _continuity(lake, settings, s3)
    if isinstance(matching, str):
        missing["matching"] = matching
    if isinstance(continuity, str):
        missing["continuity"] = continuity
    if len(missing) == 3:
        raise NotReady("nothing to report yet: " + "; ".join(missing.values()))
    return AnalystInputs(
        etl_runs=runs,
        quarantine_stored=_stored_quarantine(lake) if runs else None,
        matching=None if isinstance(matching, str) else matching,
        continuity=None if isinstance(continuity, str) else continuity,
        missing=missing,
    )


def write_analyst_report(lake: LocalLake, settings: EnvironmentSettings, out_dir: Path) -> Path:
    """Write `out_dir/index.html` and its PNG charts from the lake; returns the HTML's path."""
    return write_report(collect(lake, settings), out_dir)


# --- the page -----------------------------------------------------------------------------


_MORE_CSS = """
p.missing { background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.5em 0.8em; }
td.bad { color: #c0392b; font-weight: bold; } td.good { color: #1e8449; }
nav ol { line-height: 1.8; }
span.text { display: block; text-align: left; }
"""


def _count(value: Any) -> str:
    return _e(f"{int(value):,}")


def _cell(entry: Mapping[str, Any] | None) -> str:
    """`0.1234 [0.1000, 0.1400]`: a metric and its 95% interval, four decimals."""
    if not entry or entry.get("value") is None:
        return "–"
    text = f"{float(entry['value']):.4f}"
    if entry.get("lo") is not None and entry.get("hi") is not None:
        text += f" [{float(entry['lo']):.4f}, {float(entry['hi']):.4f}]"
    return _e(text)


def _not_available(reason: str) -> str:
    return f'<p class="missing">{_both(("아직 없음", "Not available yet"))}: {_e(reason)}</p>'


def reconciliation_frame(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per dataset's latest run, with the reconciliation recomputed (not trusted)."""
    frame = pd.DataFrame(
        [
            {"dataset": str(r.get("dataset")), "run_id": str(r.get("run_id")),
             **{c: int(r.get(c) or 0) for c in COUNTS}}
            for r in runs
        ],
        columns=["dataset", "run_id", *COUNTS],
    )  # fmt: skip
    frame["reconciled"] = (
        frame["read"] == frame["written"] + frame["quarantined"] + frame["duplicates"]
    )
    return frame


def reason_frame(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """(dataset, reason_code, records, share of the dataset's read) of the latest runs, most
    records first."""
    rows = [
        {"dataset": str(r.get("dataset")), "reason_code": str(code), "records": int(count),
         "share": int(count) / int(r["read"]) if r.get("read") else float("nan")}
        for r in runs
        for code, count in (r.get("quarantined_by_reason") or {}).items()
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["dataset", "reason_code", "records", "share"])
    return frame.sort_values(
        ["records", "dataset", "reason_code"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def _reconciliation_section(runs: pd.DataFrame) -> str:
    header = [
        _both(("데이터셋", "Dataset")),
        _both(("실행 ID", "Run id")),
        _both(("읽음", "Read")),
        _both(("저장", "Written")),
        _both(("격리", "Quarantined")),
        _both(("중복", "Duplicates")),
        _both(("검산 (읽음 = 저장 + 격리 + 중복)", "Check (read = written + quarantined + "
               "duplicates)")),
    ]  # fmt: skip
    rows = []
    for r in runs.itertuples(index=False):
        total = r.written + r.quarantined + r.duplicates
        sign = "=" if r.reconciled else "≠"
        verdict = "✔" if r.reconciled else "✘"
        rows.append([
            _e(r.dataset), _e(r.run_id), _count(r.read), _count(r.written),
            _count(r.quarantined), _count(r.duplicates),
            f"{_e(f'{r.read:,} {sign} {total:,}')} {verdict}",
        ])  # fmt: skip
    sums = {c: int(runs[c].sum()) for c in COUNTS}
    total = sums["written"] + sums["quarantined"] + sums["duplicates"]
    rows.append([
        f"<b>{_both(('합계', 'Total'))}</b>", "", *(_count(sums[c]) for c in COUNTS),
        _e(f"{sums['read']:,} {'=' if sums['read'] == total else '≠'} {total:,}"),
    ])  # fmt: skip
    table = _table(header, rows, text_columns=2)
    # The check column's class marks a broken reconciliation in colour too.
    for ok, mark in ((True, "✔"), (False, "✘")):
        table = table.replace(f" {mark}</td>", f' <span class="{"good" if ok else "bad"}">'
                              f"{mark}</span></td>")  # fmt: skip
    broken = runs.loc[~runs["reconciled"], "dataset"].tolist()
    verdict = (
        _both(("모든 데이터셋 검산 일치", "Every dataset reconciles"))
        if not broken
        else _both(("검산 불일치", "Does not reconcile")) + ": " + _e(", ".join(broken))
    )
    return "\n".join([
        table,
        f'<p class="note">{verdict}. '
        + _both((
            "중복: 같은 배치 안에서 반복되었거나 이전 실행에서 이미 저장된 레코드",
            "Duplicates: repeated within the batch or already curated by an earlier run",
        ))
        + "</p>",
        _figure(CHART_FILES["reconciliation"], "Shares of the records read written, "
                "quarantined and duplicated per dataset",
                ("데이터셋별 처리 결과 비율", "What became of the records read, per dataset")),
    ])  # fmt: skip


def _quarantine_section(reasons: pd.DataFrame, stored: pd.DataFrame | None) -> str:
    header = [
        _both(("데이터셋", "Dataset")),
        _both(("사유 코드", "Reason code")),
        _both(("격리 건수 (최근 실행)", "Quarantined (latest run)")),
        _both(("읽은 레코드 대비", "Share of the records read")),
        _both(("격리 테이블 보관 건수 (전체 실행)", "Held in the quarantine table (all runs)")),
        _both(("사유 예시", "Example reason")),
    ]
    held = (
        {}
        if stored is None
        else {(r.dataset, r.reason_code): (r.records, r.reason) for r in stored.itertuples()}
    )
    rows = []
    for r in reasons.itertuples(index=False):
        count, reason = held.get((r.dataset, r.reason_code), (None, None))
        share = "–" if pd.isna(r.share) else f"{100.0 * r.share:.2f}%"
        rows.append([
            _e(r.dataset), f"<code>{_e(r.reason_code)}</code>", _count(r.records), _e(share),
            "–" if count is None else _count(count),
            "–" if reason is None else f'<span class="text">{_e(reason)}</span>',
        ])  # fmt: skip
    parts = []
    if rows:
        parts.append(_table(header, rows, text_columns=2))
    else:
        nothing = (
            "최근 실행에서 격리된 레코드 없음",
            "No record was quarantined by the latest runs",
        )
        parts.append(f"<p>{_both(nothing)}</p>")
    if stored is None:
        parts.append(
            '<p class="note">'
            + _both(("격리 테이블이 비어 있음", "The quarantine table holds no row yet"))
            + "</p>"
        )
    parts.append(
        _figure(CHART_FILES["quarantine"], "Quarantined records by dataset and reason code",
                ("데이터셋과 사유 코드별 격리 건수", "Quarantine by dataset and reason code"))
    )  # fmt: skip
    return "\n".join(parts)


def _matching_section(part: MatchingPart) -> str:
    metrics = part.metrics
    k = metrics.get("k", "?")
    parts = [
        '<p class="note">'
        + _e(
            f"모형 버전 / Model version: {part.version}. 평가: {str(metrics.get('cutoff'))[:10]} "
            f"이후의 상호작용 / Held out: the pairs that engaged after "
            f"{str(metrics.get('cutoff'))[:10]}; lists of {k}. 괄호: 95% 부트스트랩 구간 "
            f"({metrics.get('bootstrap', {}).get('resamples', '?')}회, 조회 기업 단위) / "
            "Brackets: 95% bootstrap intervals over query firms."
        )
        + "</p>"
    ]
    header = [
        _both(("모형", "Model")),
        _e(f"NDCG@{k}"),
        _e(f"Recall@{k}"),
        _both(("커버리지", "Coverage")),
        _both(("지니 계수", "Gini")),
    ]
    for result in metrics.get("directions", {}).values():
        everything = result["slices"]["all"]
        title = DIRECTION_LABELS.get(str(result["direction"]), (result["direction"],) * 2)
        parts.append(
            f"<h3>{_both(title)}</h3>"
            + '<p class="note">'
            + _e(
                f"조회 기업 {everything['queries']:,}개, 관련 쌍 {everything['relevant_pairs']:,}"
                f"개 / {everything['queries']:,} query firms, "
                f"{everything['relevant_pairs']:,} relevant pairs"
            )
            + "</p>"
        )
        rows = []
        for name in MATCHING_MODELS:
            if name not in everything["models"]:
                continue
            ranking, exposure = everything["models"][name], result["exposure"].get(name, {})
            rows.append([
                _both(MATCHING_LABELS[name]), _cell(ranking.get("ndcg")),
                _cell(ranking.get("recall")), _cell(exposure.get("coverage")),
                _cell(exposure.get("gini")),
            ])  # fmt: skip
        parts.append(_table(header, rows))
    parts.append(
        '<p class="note">'
        + _both((
            "커버리지: 한 번 이상 추천된 상대 기업 비율, 지니: 추천 노출의 불균등 (0 균등, 1 집중)",
            "Coverage: share of the other side listed at least once; Gini: inequality of how "
            "often each is listed (0 equal, 1 one firm gets everything)",
        ))
        + "</p>"
    )  # fmt: skip
    parts.append(
        _figure(CHART_FILES["matching"], "NDCG and recall of each model with 95% intervals",
                ("모형별 NDCG와 재현율", "NDCG and recall of each model, both directions"))
    )  # fmt: skip
    parts.append(f"<h3>{_both(('노출 곡선', 'Exposure curve'))}</h3>")
    if part.exposure_note is not None or not part.exposure:
        parts.append(_not_available(part.exposure_note or "no list in the recommendations table"))
        return "\n".join(parts)
    header = [
        _both(("방향", "Direction")),
        _both(("목록", "List")),
        _both(("대상 기업", "Eligible firms")),
        _both(("한 번 이상 노출", "Listed at least once")),
        _both(("지니 계수", "Gini")),
    ]
    rows = []
    for chart_title, lists in part.exposure.items():
        for label, counts in lists.items():
            rows.append([
                _e(chart_title), _e(label), _count(len(counts)),
                _e(f"{100.0 * coverage(counts):.1f}%"), _e(f"{gini(counts):.3f}"),
            ])  # fmt: skip
    parts += [
        '<p class="note">'
        + _both((
            "운영 모형이 저장한 추천 목록 (recommendations 테이블) 기준: 점수 순 상위 목록과 "
            "공정 탐색으로 실제 제공된 목록",
            "From the lists the serving version stored (the recommendations table): the plain "
            "top of each list by score against the draw served with fair exploration; firms "
            "never listed count as zeros",
        ))
        + "</p>",
        _table(header, rows, text_columns=2),
        _figure(CHART_FILES["exposure"], "Lorenz curves of how often each firm is listed",
                ("노출 로렌츠 곡선", "Exposure: Lorenz curves of the served lists")),
    ]  # fmt: skip
    return "\n".join(parts)


def _continuity_section(part: ContinuityPart, names: Sequence[str]) -> str:
    parts = [
        '<p class="note">'
        + _e(f"모형 버전 / Model version: {part.version}")
        + "</p>",
        _metrics_section(part.metrics, names),
        _figure(CHART_FILES["roc"], "ROC curves of the continuity models",
                ("ROC 곡선 (평가 연도)", "ROC curves on the held-out years")),
        _figure(CHART_FILES["calibration"], "Reliability diagram of the continuity models",
                ("보정 곡선 (예측 확률 대 실제 지속 비율)",
                 "Calibration: predicted probability against the observed share continuing")),
    ]  # fmt: skip
    parts.append(
        f"<h3>{_both(('위험군과 지속 기업 비교', 'Risk group against continuing firms'))}</h3>"
    )
    if part.profile is None or part.scored is None:
        parts.append(_not_available(part.comparison_note or "no scored index yet"))
        return "\n".join(parts)
    latest = int(part.profile["year"].max())
    rows = part.profile[part.profile["year"] == latest]
    firms = {g: int(rows.loc[rows["group_name"] == g, "firms"].max()) for g in GROUPS}
    total = sum(firms.values())
    risk_share = f"{100.0 * firms[RISK] / total:.1f}%" if total else "–"
    parts += [
        '<p class="note">'
        + _both((
            f"{latest}년: 위험군 {firms[RISK]:,}개 기업 ({risk_share}), 지수 "
            f"{part.threshold:g} 미만 (예측 그룹이며 관측된 상태가 아님)",
            f"{latest}: {firms[RISK]:,} firms in the risk group ({risk_share}), index below "
            f"{part.threshold:g} (predicted groups, not observed statuses)",
        ))
        + "</p>",
        _profile_tables(part.profile, latest),
        _figure(CHART_FILES["groups"], "Distributions of key features by group",
                ("그룹 간 차이가 큰 변수의 분포", "Features that separate the groups most")),
    ]  # fmt: skip
    return "\n".join(parts)


def _continuity_names(part: ContinuityPart) -> list[str] | str:
    try:
        return model_names(part.metrics, part.test_predictions)
    except DataError as error:
        return f"the held-out predictions of {part.version} cannot be charted: {error}"


def write_report(inputs: AnalystInputs, out_dir: Path) -> Path:
    """Write `out_dir/index.html` and the PNG charts of the parts that exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {name: out_dir / file for name, file in CHART_FILES.items()}
    for path in charts.values():  # a chart of an earlier report must not outlive its part
        path.unlink(missing_ok=True)
    runs = reconciliation_frame(inputs.etl_runs)
    reasons = reason_frame(inputs.etl_runs)
    continuity = inputs.continuity
    names = _continuity_names(continuity) if continuity is not None else None
    with chart_style():
        if inputs.etl_runs:
            draw_reconciliation(runs, charts["reconciliation"])
            draw_quarantine(reasons, charts["quarantine"])
        if inputs.matching is not None:
            draw_matching_evaluation(inputs.matching.metrics, charts["matching"])
            if inputs.matching.exposure:
                draw_exposure(inputs.matching.exposure, charts["exposure"])
        if continuity is not None and isinstance(names, list):
            draw_roc(continuity.test_predictions, continuity.metrics, names, charts["roc"])
            draw_calibration(
                continuity.test_predictions, continuity.metrics, names, charts["calibration"]
            )
            if continuity.profile is not None and continuity.scored is not None:
                latest = int(continuity.profile["year"].max())
                profile = continuity.profile[continuity.profile["year"] == latest]
                draw_feature_distributions(
                    continuity.scored, latest, key_features(profile), charts["groups"]
                )

    title = _both(("분석 보고서: 최근 파이프라인 실행", "Analyst report: the latest pipeline run"))
    sections = [f"<h1>{title}</h1>", _contents(inputs)]
    sections.append(f'<h2 id="lake">1. {_both(("레이크 검산", "Lake reconciliation"))}</h2>')
    if inputs.etl_runs:
        sections.append(_reconciliation_section(runs))
    else:
        sections.append(_not_available(inputs.missing.get("etl", "no ETL run")))
    sections.append(
        f'<h2 id="quarantine">2. {_both(("사유별 격리 레코드", "Quarantine by reason"))}</h2>'
    )
    if inputs.etl_runs:
        sections.append(_quarantine_section(reasons, inputs.quarantine_stored))
    else:
        sections.append(_not_available(inputs.missing.get("etl", "no ETL run")))
    sections.append(f'<h2 id="matching">3. {_both(("매칭 모형 평가", "Matching evaluation"))}</h2>')
    if inputs.matching is not None:
        sections.append(_matching_section(inputs.matching))
    else:
        sections.append(_not_available(inputs.missing.get("matching", "no matching model")))
    sections.append(
        f'<h2 id="continuity">4. {_both(("수출 지속성 지수", "Export continuity index"))}</h2>'
    )
    if continuity is None:
        sections.append(_not_available(inputs.missing.get("continuity", "no continuity model")))
    elif isinstance(names, list):
        sections.append(_continuity_section(continuity, names))
    else:
        sections.append(_not_available(str(names)))
    sections.append(
        '<p class="note">'
        + _both((
            "그래프 문자는 영어로만 표시됩니다 (기본 글꼴에 한글 없음)",
            "Chart texts are in English only (the default chart font has no Hangul)",
        ))
        + "</p>"
    )  # fmt: skip
    page = (
        '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_CSS}{_MORE_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    path = out_dir / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path


def _contents(inputs: AnalystInputs) -> str:
    """What the report covers: the runs and versions it read."""
    runs = sorted({str(r.get("run_id")) for r in inputs.etl_runs})
    rows = [
        (_both(("ETL 실행", "ETL runs")), _e(", ".join(runs) or "–")),
        (_both(("매칭 모형 (운영 중)", "Matching model (serving)")),
         _e(inputs.matching.version if inputs.matching else "–")),
        (_both(("지속성 모형 (운영 중)", "Continuity model (serving)")),
         _e(inputs.continuity.version if inputs.continuity else "–")),
    ]  # fmt: skip
    links = [
        ("lake", ("레이크 검산", "Lake reconciliation")),
        ("quarantine", ("사유별 격리 레코드", "Quarantine by reason")),
        ("matching", ("매칭 모형 평가", "Matching evaluation")),
        ("continuity", ("수출 지속성 지수", "Export continuity index")),
    ]
    items = "".join(f'<li><a href="#{anchor}">{_both(label)}</a></li>' for anchor, label in links)
    return (
        _table([_both(("항목", "Item")), _both(("값", "Value"))], rows, text_columns=2)
        + f"\n<nav><ol>{items}</ol></nav>"
    )
