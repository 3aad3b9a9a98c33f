"""Pearson screening of the continuity features: report the correlations, drop near-duplicates.

Correlations are Pearson's r over the rows where both columns are known (pairwise complete),
computed by Spark in one pass over the feature table. Correlations with the label use the
labelled rows only (an unlabelled row has no label to correlate with).

The rule is `exportintel.models.screening.select_features` (the training job applies it
to its training years).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from exportintel.models.screening import THRESHOLD, Drop, Matrix, defined, select_features

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

LABEL = "label"


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
        sd = defined(row[f"_sd_{i}"])
        matrix[a][a] = 1.0 if sd else None
        for j, b in enumerate(features):
            if j > i:
                matrix[a][b] = matrix[b][a] = defined(row[f"_r_{i}_{j}"])
        label_correlation[a] = defined(row[f"_l_{i}"])
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
