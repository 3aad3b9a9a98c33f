"""The analyst report's own charts: lake reconciliation, quarantine by reason, the matching
evaluation and the exposure curve.

Drawn in the continuity charts' style (`exportintel.continuity.charts.chart_style`, a Figure
without pyplot, English chart texts since the default font has no Hangul), so that both reports
look alike and draw the same bytes from the same inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.figure import Figure

from exportintel.continuity.charts import _save
from exportintel.continuity.labels import MODEL_COLOURS

FloatArray = npt.NDArray[np.float64]
OUTCOME_COLOURS = {"written": "#2ca02c", "quarantined": "#c0392b", "duplicates": "#7f7f7f"}
REASONS_CHARTED = 20
MATCHING_MODELS = ("popular", "content", "cf", "hybrid")


def _empty(figure: Figure, text: str, path: Path) -> None:
    ax = figure.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    _save(figure, path)


def draw_reconciliation(runs: pd.DataFrame, path: Path) -> None:
    """Per dataset, what became of each record read: written, quarantined or a duplicate, as
    shares of the records read (datasets differ by orders of magnitude), the count beside."""
    figure = Figure(figsize=(9.0, 0.45 * max(len(runs), 4) + 1.5))
    if len(runs) == 0 or int(runs["read"].sum()) == 0:
        _empty(figure, "No records read by the latest ETL runs", path)
        return
    ax = figure.add_subplot()
    shown = runs.iloc[::-1]  # barh draws bottom-up; the table reads top-down
    positions = np.arange(len(shown))
    read = shown["read"].to_numpy(dtype=np.float64)
    left = np.zeros(len(shown))
    for outcome, colour in OUTCOME_COLOURS.items():
        share = np.divide(
            100.0 * shown[outcome].to_numpy(dtype=np.float64), read,
            out=np.zeros(len(shown)), where=read > 0,
        )  # fmt: skip
        ax.barh(positions, share, left=left, color=colour, label=outcome)
        left += share
    for y, (count, ok) in enumerate(zip(shown["read"], shown["reconciled"], strict=True)):
        mark = "" if ok else "  NOT RECONCILED"
        ax.text(101.0, y, f"{int(count):,} read{mark}", va="center", fontsize=8)
    ax.set_yticks(positions, [str(d) for d in shown["dataset"]])
    ax.set(xlim=(0, 125), xlabel="Share of the records read (%)")
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_title("Latest ETL run per dataset: read = written + quarantined + duplicates")
    # Under the axis: beside the bars it would hide the counts.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8)
    _save(figure, path)


def draw_quarantine(reasons: pd.DataFrame, path: Path) -> None:
    """The most frequent (dataset, reason code) pairs of the latest runs, one colour a dataset."""
    top = reasons.head(REASONS_CHARTED)
    figure = Figure(figsize=(9.0, 0.35 * max(len(top), 6) + 1.5))
    if len(top) == 0:
        _empty(figure, "No record quarantined by the latest ETL runs", path)
        return
    ax = figure.add_subplot()
    shown = top.iloc[::-1]
    datasets = sorted(set(shown["dataset"]))
    palette = {d: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, d in enumerate(datasets)}
    positions = np.arange(len(shown))
    ax.barh(positions, shown["records"], color=[palette[d] for d in shown["dataset"]])
    for y, count in enumerate(shown["records"]):
        ax.text(float(count), y, f" {int(count):,}", va="center", fontsize=8)
    ax.set_yticks(positions, [f"{d}: {r}" for d, r in zip(shown["dataset"], shown["reason_code"],
                                                          strict=True)])  # fmt: skip
    ax.set_xlim(0, float(shown["records"].max()) * 1.15)
    ax.set_xlabel("Records quarantined")
    more = f" (top {REASONS_CHARTED} of {len(reasons)})" if len(reasons) > len(top) else ""
    ax.set_title(f"Quarantine by dataset and reason code, latest runs{more}")
    _save(figure, path)


def _interval(entry: Mapping[str, Any]) -> tuple[float, float, float]:
    def number(key: str) -> float:
        value = entry.get(key)
        return float("nan") if value is None else float(value)

    return number("value"), number("lo"), number("hi")


def draw_matching_evaluation(metrics: Mapping[str, Any], path: Path) -> None:
    """NDCG@k and Recall@k of each model per direction, with their 95% bootstrap intervals."""
    directions = list(metrics["directions"].values())
    k = metrics.get("k", "k")
    figure = Figure(figsize=(10.0, 4.0))
    axes = figure.subplots(1, len(directions), squeeze=False)[0]
    width = 0.2
    for ax, result in zip(axes, directions, strict=True):
        models = result["slices"]["all"]["models"]
        for j, name in enumerate(MATCHING_MODELS):
            if name not in models:
                continue
            cells = [_interval(models[name][m]) for m in ("ndcg", "recall")]
            values = np.array([c[0] for c in cells])
            errors = np.array([[c[0] - c[1] for c in cells], [c[2] - c[0] for c in cells]])
            ax.bar(np.arange(2) + (j - 1.5) * width, values, width, yerr=np.nan_to_num(errors),
                   capsize=3, color=MODEL_COLOURS[j % len(MODEL_COLOURS)], label=name)  # fmt: skip
        ax.set_xticks(np.arange(2), [f"NDCG@{k}", f"Recall@{k}"])
        ax.set_ylabel("Mean over held-out query firms")
        ax.set_title(str(result["direction"]))
        # Head room for the legend, above the bars and their intervals.
        ax.set_ylim(0.0, ax.get_ylim()[1] * 1.25)
        ax.legend(loc="upper center", ncols=4, fontsize=8)
    figure.suptitle(f"Held-out ranking quality after {str(metrics.get('cutoff', '?'))[:10]}, "
                    "95% intervals")  # fmt: skip
    _save(figure, path)


def lorenz(counts: Sequence[float] | FloatArray) -> tuple[FloatArray, FloatArray]:
    """The Lorenz curve of exposure: the share of firms (least shown first) against the share
    of all showings they get, from (0, 0) to (1, 1); its Gini is the one of `exploration.gini`."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    total = values.sum()
    firms = np.linspace(0.0, 1.0, len(values) + 1)
    if total <= 0:
        return firms, np.zeros(len(values) + 1)
    return firms, np.r_[0.0, np.cumsum(values) / total]


def draw_exposure(curves: Mapping[str, Mapping[str, FloatArray]], path: Path) -> None:
    """Per direction, the Lorenz curve of how often each firm of the other side is listed:
    the plain top of the stored lists by score against the draw with fair exploration."""
    from exportintel.matching.exploration import gini

    figure = Figure(figsize=(10.0, 4.5))
    axes = figure.subplots(1, max(len(curves), 1), squeeze=False)[0]
    for ax, (title, by_list) in zip(axes, curves.items(), strict=False):
        ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle=":", label="equal exposure")
        for colour, (label, counts) in zip(MODEL_COLOURS, by_list.items(), strict=False):
            x, y = lorenz(counts)
            ax.plot(x, y, color=colour, label=f"{label}: Gini {gini(counts):.3f}")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Share of firms, least shown first",
               ylabel="Share of all showings")  # fmt: skip
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
    figure.suptitle("Exposure of the served lists (Lorenz curves)")
    _save(figure, path)
