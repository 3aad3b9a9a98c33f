"""Pearson screening: the matrix, the label correlations and the drop rule."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from exportintel.continuity.screening import Drop, screen, select_features, write_report


def matrix_of(
    r: dict[tuple[str, str], float], names: list[str]
) -> dict[str, dict[str, float | None]]:
    m: dict[str, dict[str, float | None]] = {a: {b: 0.0 for b in names} for a in names}
    for a in names:
        m[a][a] = 1.0
    for (a, b), value in r.items():
        m[a][b] = m[b][a] = value
    return m


def test_of_a_near_duplicate_pair_the_one_closer_to_the_label_stays() -> None:
    names = ["a", "b", "c"]
    m = matrix_of({("a", "b"): 0.95, ("a", "c"): 0.2}, names)
    kept, dropped, pairs = select_features(names, m, {"a": 0.1, "b": -0.3, "c": 0.05})
    assert kept == ["b", "c"]
    assert dropped == [Drop("a", "near-duplicate", "b", 0.95)]
    assert pairs == [("a", "b", 0.95)]


def test_negative_correlation_counts_and_ties_drop_the_later_feature() -> None:
    names = ["a", "b"]
    kept, dropped, _ = select_features(names, matrix_of({("a", "b"): -0.97}, names),
                                       {"a": 0.2, "b": -0.2})  # fmt: skip
    assert (kept, [d.feature for d in dropped]) == (["a"], ["b"])


def test_pairs_go_strongest_first_and_a_dropped_feature_drops_nothing() -> None:
    # a~b 0.99 (b wins), b~c 0.92 (c wins): a and b go. a~c 0.91 is then moot.
    names = ["a", "b", "c"]
    m = matrix_of({("a", "b"): 0.99, ("b", "c"): 0.92, ("a", "c"): 0.91}, names)
    kept, dropped, pairs = select_features(names, m, {"a": 0.1, "b": 0.2, "c": 0.3})
    assert kept == ["c"]
    assert [(d.feature, d.kept_instead) for d in dropped] == [("a", "b"), ("b", "c")]
    assert [p[:2] for p in pairs] == [("a", "b"), ("b", "c"), ("a", "c")]


def test_a_constant_feature_is_dropped_and_an_undefined_label_r_counts_as_zero() -> None:
    names = ["a", "b", "k"]
    m = matrix_of({("a", "b"): 0.9}, names)
    m["k"] = {n: None for n in names}
    for n in names:
        m[n]["k"] = None
    kept, dropped, _ = select_features(names, m, {"a": None, "b": 0.01, "k": None})
    assert kept == ["b"]
    assert dropped == [Drop("k", "constant"), Drop("a", "near-duplicate", "b", 0.9)]


def test_screen_on_spark_drops_the_right_one_of_a_near_duplicate_pair(
    spark: SparkSession, tmp_path: Path
) -> None:
    # Given x, its noisy copy x2 (r ~ 0.99), an independent z, a constant k and a label that
    # follows x2 more closely than x
    rng = random.Random(5)
    rows = []
    for _ in range(400):
        x = rng.gauss(0, 1)
        x2 = x + rng.gauss(0, 0.1)
        label = int(x2 + rng.gauss(0, 0.05) > 0) if rng.random() < 0.8 else None
        rows.append((x, x2, rng.gauss(0, 1), 1.0, label))
    frame = spark.createDataFrame(rows, "x double, x2 double, z double, k double, label int")
    # When the features are screened
    report = screen(frame, ["x", "x2", "z", "k"])
    # Then x goes (x2 is closer to the label), k goes (constant), z stays
    assert report.kept == ["x2", "z"]
    assert [(d.feature, d.reason, d.kept_instead) for d in report.dropped] == [
        ("k", "constant", None), ("x", "near-duplicate", "x2"),
    ]  # fmt: skip
    assert report.matrix["x"]["x2"] == pytest.approx(0.995, abs=0.005)
    assert report.matrix["x"]["x"] == 1.0 and report.matrix["k"]["k"] is None
    assert abs(report.label_correlation["x2"] or 0) > abs(report.label_correlation["x"] or 0)
    assert report.rows == 400 and 0 < report.labelled_rows < 400
    # And the report is written as JSON and Markdown
    json_uri, md_uri = write_report(report, f"{tmp_path}/report/")
    written = json.loads(Path(json_uri).read_text())
    assert written["kept"] == ["x2", "z"]
    assert not any(
        isinstance(v, float) and math.isnan(v) for v in written["label_correlation"].values()
    )
    markdown = Path(md_uri).read_text()
    assert "- `x`: r = +0.99" in markdown  # +0.99x, three decimals
    assert "with `x2`, which is more correlated with the label" in markdown
    assert "| `x2` |" in markdown
