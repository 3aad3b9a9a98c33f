"""The continuity report's charts: PNG files drawn with matplotlib's object API (no pyplot, no
display, no global backend change).

Chart texts are in English only: matplotlib's default font (DejaVu Sans) has no Hangul glyphs,
and a Korean font would have to ship with every deployment. The same inputs draw the same
bytes (no timestamps in the PNG metadata).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.style
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from exportintel.continuity.groups import (
    CONTINUING,
    CONTINUOUS_FEATURES,
    GROUPS,
    INDEX,
    OBSERVED,
    RISK,
)
from exportintel.continuity.labels import (
    GROUP_COLOURS,
    GROUP_LABELS,
    MODEL_COLOURS,
    MODEL_LABELS,
    interval_text,
    test_years_text,
    variable_labels,
)
from exportintel.models.metrics import ECE_BINS

KEY_FEATURE_COUNT = 4
FACTORS_CHARTED = 10


@contextmanager
def chart_style() -> Iterator[None]:
    # matplotlib's defaults, whatever the local matplotlibrc says, so that the charts are the
    # same on every machine; math text off, so a `$` in a name is just a character.
    with (
        matplotlib.style.context("default"),
        matplotlib.rc_context(
            {"text.parse_math": False, "figure.dpi": 100, "savefig.dpi": 100, "font.size": 9}
        ),
    ):
        yield


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    # A Figure made without pyplot draws with the Agg canvas: no display, no global backend.
    figure.savefig(path, format="png")


def roc_curve(
    y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """False and true positive rates of 'continuing' at every distinct score, from (0, 0)."""
    order = np.argsort(-p, kind="stable")
    y_sorted, p_sorted = y[order], p[order]
    last_of_tie = np.r_[np.diff(p_sorted) != 0, True]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = np.cumsum(1.0 - y_sorted)[last_of_tie]
    return np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]]


def reliability(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64], bins: int) -> pd.DataFrame:
    """Mean predicted and observed rate per equal-width bin, the bins of the ECE."""
    which = np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(np.int64), bins - 1)
    frame = pd.DataFrame({"bin": which, "p": p, "y": y})
    table = frame.groupby("bin").agg(
        predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size")
    )
    return table.reset_index()


def draw_roc(
    predictions: pd.DataFrame, metrics: dict[str, Any], names: Sequence[str], path: Path
) -> None:
    y = predictions["label"].to_numpy(dtype=np.float64)
    figure = Figure(figsize=(6.0, 5.0))
    ax = figure.add_subplot()
    for colour, name in zip(MODEL_COLOURS, names, strict=False):
        fpr, tpr = roc_curve(y, predictions[f"p_{name}"].to_numpy(dtype=np.float64))
        label = f"{MODEL_LABELS.get(name, (name, name))[1]}: AUC "
        ax.plot(fpr, tpr, color=colour, label=label + interval_text(metrics["models"][name]["auc"]))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle=":", label="chance")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False positive rate (stopped firms scored high)",
           ylabel="True positive rate (continuing firms scored high)")  # fmt: skip
    ax.set_title(f"ROC, held-out years {test_years_text(metrics)} (n = {len(y)}), 95% intervals")
    ax.legend(loc="lower right")
    _save(figure, path)


def draw_calibration(
    predictions: pd.DataFrame, metrics: dict[str, Any], names: Sequence[str], path: Path
) -> None:
    bins = int(metrics.get("ece_bins", ECE_BINS))
    y = predictions["label"].to_numpy(dtype=np.float64)
    figure = Figure(figsize=(6.0, 6.0))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], color="#bbbbbb", linestyle=":", label="perfect calibration")
    edges = np.linspace(0.0, 1.0, bins + 1)
    for colour, name in zip(MODEL_COLOURS, names, strict=False):
        p = predictions[f"p_{name}"].to_numpy(dtype=np.float64)
        table = reliability(y, p, bins)
        ece = interval_text(metrics["models"][name]["ece"])
        label = f"{MODEL_LABELS.get(name, (name, name))[1]}: ECE {ece}"
        top.plot(table["predicted"], table["observed"], marker="o", color=colour, label=label)
        bottom.hist(p, bins=edges, histtype="step", color=colour)
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel="Observed share continuing")
    top.set_title(
        f"Calibration, held-out years {test_years_text(metrics)}, {bins} equal-width bins"
    )
    top.legend(loc="upper left")
    bottom.set(xlabel="Predicted probability of continuing (the index)", ylabel="Firm-years")
    _save(figure, path)


def _hist_by(ax: Axes, series: dict[str, npt.NDArray[np.float64]], colours: dict[str, str]) -> None:
    edges = np.linspace(0.0, 1.0, 21).tolist()
    for label, values in series.items():
        ax.hist(
            values, bins=edges, alpha=0.55, color=colours[label], label=f"{label} ({len(values)})"
        )


def draw_index_distribution(
    scored: pd.DataFrame, latest_year: int, threshold: float, path: Path
) -> None:
    figure = Figure(figsize=(10.0, 4.0))
    left, right = figure.subplots(1, 2)
    latest = scored[scored["year"] == latest_year]
    by_group = {
        GROUP_LABELS[g][1]: latest.loc[latest["group_name"] == g, INDEX].to_numpy(np.float64)
        for g in GROUPS
    }
    _hist_by(left, by_group, {GROUP_LABELS[g][1]: GROUP_COLOURS[g] for g in GROUPS})
    left.set_title(f"Index by group, {latest_year}")
    labelled = scored[scored[OBSERVED].notna()]
    outcomes = pd.to_numeric(labelled[OBSERVED], errors="coerce")
    by_outcome = {
        "continued (label 1)": labelled.loc[outcomes == 1, INDEX].to_numpy(np.float64),
        "stopped (label 0)": labelled.loc[outcomes == 0, INDEX].to_numpy(np.float64),
    }
    colours = {"continued (label 1)": GROUP_COLOURS[CONTINUING],
               "stopped (label 0)": GROUP_COLOURS[RISK]}  # fmt: skip
    if len(labelled):
        _hist_by(right, by_outcome, colours)
        years = sorted(int(y) for y in labelled["year"].unique())
        right.set_title(f"Index by observed outcome, {years[0]}-{years[-1]}")
    else:
        right.text(0.5, 0.5, "No observed outcomes yet", ha="center", va="center")
        right.set_title("Index by observed outcome")
    for ax in (left, right):
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:g}")
        ax.set(xlim=(0, 1), xlabel="Continuity index", ylabel="Firms")
        ax.legend(loc="upper left")
    _save(figure, path)


def key_features(profile: pd.DataFrame, count: int = KEY_FEATURE_COUNT) -> list[str]:
    """The continuous features that separate the groups most: absolute difference of the group
    means over the pooled standard deviation, largest first (ties by name)."""
    rows = profile[
        (profile["kind"] == "continuous") & profile["variable"].isin(CONTINUOUS_FEATURES)
    ]
    risk = rows[rows["group_name"] == RISK].set_index("variable")
    continuing = rows[rows["group_name"] == CONTINUING].set_index("variable")
    pooled = np.sqrt((risk["std"] ** 2 + continuing["std"] ** 2) / 2.0)
    separation = ((risk["mean"] - continuing["mean"]).abs() / pooled).dropna()
    separation = separation[np.isfinite(separation)]
    ordered = sorted(separation.items(), key=lambda item: (-item[1], item[0]))
    return [str(name) for name, _ in ordered[:count]]


def draw_feature_distributions(
    scored: pd.DataFrame, latest_year: int, features: Sequence[str], path: Path
) -> None:
    figure = Figure(figsize=(10.0, 6.0))
    latest = scored[scored["year"] == latest_year]
    if not features:
        ax = figure.add_subplot()
        ax.text(0.5, 0.5, "Too few firms in a group to compare distributions", ha="center")
        ax.set_axis_off()
        _save(figure, path)
        return
    axes = figure.subplots(2, 2).ravel()
    for ax, name in zip(axes, features, strict=False):
        values = [latest.loc[latest["group_name"] == g, name].dropna().to_numpy() for g in GROUPS]
        boxes = ax.boxplot(values, tick_labels=[GROUP_LABELS[g][1] for g in GROUPS],
                           showfliers=False, patch_artist=True)  # fmt: skip
        for patch, group in zip(boxes["boxes"], GROUPS, strict=True):
            patch.set_facecolor(GROUP_COLOURS[group])
            patch.set_alpha(0.5)
        ax.set_title(f"{variable_labels(name)[1]} ({name})")
    for ax in axes[len(features) :]:
        ax.set_axis_off()
    figure.suptitle(f"Features that separate the groups most, {latest_year} (outliers not shown)")
    _save(figure, path)


def draw_histories(histories: pd.DataFrame, threshold: float, path: Path) -> None:
    figure = Figure(figsize=(8.0, 4.5))
    ax = figure.add_subplot()
    shown: set[str] = set()
    # Firm ids stay out of the chart: the table under it names the firms.
    for _, firm in histories.groupby("firm_id", sort=True):
        group = str(firm["latest_group"].iloc[0])
        label = None if group in shown else f"{GROUP_LABELS[group][1]} in its latest year"
        shown.add(group)
        ax.plot(firm["year"], firm[INDEX], marker="o", color=GROUP_COLOURS[group], alpha=0.7,
                label=label)  # fmt: skip
    ax.axhline(threshold, color="black", linestyle="--", label=f"risk threshold {threshold:g}")
    years = sorted(int(y) for y in histories["year"].unique())
    ax.set_xticks(years)
    ax.set(ylim=(0, 1), xlabel="Year", ylabel="Continuity index")
    ax.set_title(f"Index over time, a sample of {histories['firm_id'].nunique()} firms")
    ax.legend(loc="best")
    _save(figure, path)


def factor_table(shares: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per factor, its share in each group in `year`, most frequent in the risk group first."""
    rows = shares[shares["year"] == year]
    if len(rows) == 0:
        return pd.DataFrame({g: pd.Series(dtype="float64") for g in (*GROUPS, "difference")})
    table = rows.pivot(index="factor", columns="group_name", values="share")
    # Every factor of the year has a row in both groups; a share is NaN only in an empty group.
    table = table.reindex(columns=list(GROUPS))
    table["difference"] = table[RISK] - table[CONTINUING]
    risk = table[RISK].fillna(0.0)
    order = sorted(table.index, key=lambda f: (-risk[f], str(f)))
    return table.loc[order]


def draw_risk_factors(factors: pd.DataFrame, year: int, path: Path) -> None:
    figure = Figure(figsize=(8.0, 5.0))
    ax = figure.add_subplot()
    shown = factors.head(FACTORS_CHARTED).iloc[::-1]  # barh draws bottom-up
    if len(shown) == 0:
        ax.text(0.5, 0.5, "No risk factors in this year", ha="center", va="center")
        ax.set_axis_off()
        _save(figure, path)
        return
    positions = np.arange(len(shown))
    for offset, group in zip((0.2, -0.2), GROUPS, strict=True):
        widths = 100.0 * shown[group].fillna(0.0)
        ax.barh(positions + offset, widths, height=0.4, color=GROUP_COLOURS[group],
                label=GROUP_LABELS[group][1])  # fmt: skip
    ax.set_yticks(positions, [variable_labels(str(f))[1] for f in shown.index])
    ax.set(xlim=(0, 100), xlabel="Share of the group's firms with the factor among their top 3 (%)")
    ax.set_title(f"Risk factors, risk group against continuing firms, {year}")
    ax.legend(loc="lower right")
    _save(figure, path)


# --- HTML ---------------------------------------------------------------------------------
