"""Pearson screening of the continuity features: report the correlations, drop near-duplicates.

Correlations are Pearson's r over the rows where both columns are known (pairwise complete),
computed by Spark in one pass over the feature table. Correlations with the label use the
labelled rows only (an unlabelled row has no label to correlate with).

The rule, applied in this order:

1. A feature that is constant, or known on fewer than two rows, has no correlation with
   anything and carries no information: it is dropped ("constant").
2. Pairs of the remaining features with |r| >= threshold (0.9 by default) are near-duplicates.
   They are taken from the strongest |r| down (ties by feature order); for each pair whose two
   features are both still kept, the one less correlated with the label (smaller |r| with the
   label; an undefined r counts as 0) is dropped, and on equal |r| the later one in the
   feature order. A feature already dropped does not drop another.

Everything else is kept, in the original feature order. The screen only removes redundancy:
a feature weakly correlated with the label stays (the model may use it with others).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

THRESHOLD = 0.9
LABEL = "label"

Matrix = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Drop:
    feature: str
    reason: str  # "constant" or "near-duplicate"
    kept_instead: str | None = None
    r: float | None = None


@dataclass
class ScreeningReport:
    threshold: float
    rows: int
    labelled_rows: int
    features: list[str]
    matrix: Matrix  # feature x feature Pearson r (None: undefined)
    label_correlation: dict[str, float | None]
    high_pairs: list[tuple[str, str, float]]  # |r| >= threshold, strongest first
    dropped: list[Drop] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_markdown(self) -> str:
        def num(value: float | None) -> str:
            return "-" if value is None else f"{value:+.2f}"

        lines = [
            "# Pearson screening of the continuity features",
            "",
            f"{self.rows} firm-years, {self.labelled_rows} labelled; near-duplicate threshold "
            f"|r| >= {self.threshold:g}. Rule: `exportintel/continuity/screening.py`.",
            "",
            f"Kept ({len(self.kept)}): {', '.join(f'`{k}`' for k in self.kept)}",
            "",
            "## Dropped",
            "",
        ]
        if not self.dropped:
            lines.append("None.")
        for drop in self.dropped:
            if drop.reason == "constant":
                lines.append(f"- `{drop.feature}`: constant or unknown")
            else:
                lines.append(
                    f"- `{drop.feature}`: r = {drop.r:+.3f} with `{drop.kept_instead}`, "
                    "which is more correlated with the label"
                )
        lines += ["", "## Pairs with |r| >= threshold", ""]
        lines += [f"- `{a}` ~ `{b}`: r = {r:+.3f}" for a, b, r in self.high_pairs] or ["None."]
        lines += ["", "## Correlation with the label", "", "| feature | r |", "|---|---|"]
        ranked = sorted(self.features, key=lambda f: -abs(self.label_correlation[f] or 0.0))
        lines += [f"| `{f}` | {num(self.label_correlation[f])} |" for f in ranked]
        lines += ["", "## Matrix", ""]
        lines.append("| | " + " | ".join(f"`{f}`" for f in self.features) + " |")
        lines.append("|---" * (len(self.features) + 1) + "|")
        for a in self.features:
            cells = " | ".join(num(self.matrix[a][b]) for b in self.features)
            lines.append(f"| `{a}` | {cells} |")
        return "\n".join(lines) + "\n"


def _defined(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def select_features(
    features: Sequence[str],
    matrix: Mapping[str, Mapping[str, float | None]],
    label_correlation: Mapping[str, float | None],
    threshold: float = THRESHOLD,
) -> tuple[list[str], list[Drop], list[tuple[str, str, float]]]:
    """The rule of the module docstring: (kept, dropped, high pairs strongest first)."""
    order = {f: i for i, f in enumerate(features)}
    dropped: list[Drop] = []
    # The diagonal says whether a feature varies: 1 when it does, None when constant.
    constant = {f for f in features if matrix[f][f] is None}
    dropped += [Drop(f, "constant") for f in features if f in constant]

    pairs = []
    for i, a in enumerate(features):
        for b in features[i + 1 :]:
            r = matrix[a][b]
            if a not in constant and b not in constant and r is not None and abs(r) >= threshold:
                pairs.append((a, b, r))
    pairs.sort(key=lambda p: (-abs(p[2]), order[p[0]], order[p[1]]))

    def strength(f: str) -> float:
        return abs(label_correlation.get(f) or 0.0)

    gone = set(constant)
    for a, b, r in pairs:
        if a in gone or b in gone:
            continue
        # Drop the weaker predictor of the label; on a tie, the later feature.
        loser, winner = (a, b) if strength(a) < strength(b) else (b, a)
        gone.add(loser)
        dropped.append(Drop(loser, "near-duplicate", winner, r))
    kept = [f for f in features if f not in gone]
    return kept, dropped, pairs


def pearson(
    frame: DataFrame, features: Sequence[str], label: str = LABEL
) -> tuple[Matrix, dict[str, float | None], int, int]:
    """Pairwise-complete Pearson r of every feature pair and of each feature with the label,
    in one Spark aggregation: (matrix, label correlations, rows, labelled rows)."""
    from pyspark.sql import functions as F

    columns = [F.count(F.lit(1)).alias("_rows"), F.count(label).alias("_labelled")]
    for i, a in enumerate(features):
        # A feature's correlation with itself: 1 when it varies, undefined when constant.
        columns.append(F.stddev(a).alias(f"_sd_{i}"))
        columns += [F.corr(a, b).alias(f"_r_{i}_{j}") for j, b in enumerate(features) if j > i]
        columns.append(F.corr(a, F.col(label).cast("double")).alias(f"_l_{i}"))
    row = frame.agg(*columns).first()
    assert row is not None  # an aggregation without grouping returns one row
    matrix: Matrix = {a: {} for a in features}
    label_correlation: dict[str, float | None] = {}
    for i, a in enumerate(features):
        sd = _defined(row[f"_sd_{i}"])
        matrix[a][a] = 1.0 if sd else None
        for j, b in enumerate(features):
            if j > i:
                matrix[a][b] = matrix[b][a] = _defined(row[f"_r_{i}_{j}"])
        label_correlation[a] = _defined(row[f"_l_{i}"])
    return matrix, label_correlation, int(row["_rows"]), int(row["_labelled"])


def screen(
    frame: DataFrame,
    features: Sequence[str] | None = None,
    *,
    threshold: float = THRESHOLD,
    label: str = LABEL,
) -> ScreeningReport:
    """Screen the features of a feature table (all of the contract's by default)."""
    if features is None:
        from exportintel.continuity.features import FEATURES

        features = FEATURES
    chosen = list(features)
    matrix, label_correlation, rows, labelled = pearson(frame, chosen, label)
    kept, dropped, pairs = select_features(chosen, matrix, label_correlation, threshold)
    return ScreeningReport(
        threshold=threshold,
        rows=rows,
        labelled_rows=labelled,
        features=chosen,
        matrix=matrix,
        label_correlation=label_correlation,
        high_pairs=pairs,
        dropped=dropped,
        kept=kept,
    )


def write_report(report: ScreeningReport, prefix: str) -> tuple[str, str]:
    """`<prefix>screening.json` and `<prefix>screening.md` (an S3 URI or a local path)."""
    from exportintel.etl.io import write_text

    json_uri, markdown_uri = f"{prefix}screening.json", f"{prefix}screening.md"
    write_text(json_uri, report.to_json())
    write_text(markdown_uri, report.to_markdown())
    return json_uri, markdown_uri


def main(argv: Sequence[str]) -> int:
    """`python -m exportintel.continuity.screening --features-path P --report-prefix R/`"""
    parser = argparse.ArgumentParser(description="Pearson screening of continuity features")
    parser.add_argument("--features-path", required=True)
    parser.add_argument("--report-prefix", required=True, help="folder or prefix, ending with /")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args, _ = parser.parse_known_args(argv)

    from exportintel.continuity.tables import read_table
    from exportintel.etl.session import spark_session

    spark = spark_session("continuity-screening")
    report = screen(
        read_table(spark, "continuity_features", args.features_path), threshold=args.threshold
    )
    write_report(report, args.report_prefix)
    print(json.dumps({"kept": report.kept, "dropped": [asdict(d) for d in report.dropped]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
