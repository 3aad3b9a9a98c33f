"""The target: the status of T + 2 for a firm that exported in T, and its shortcut."""

from __future__ import annotations

import itertools

import pytest
from pyspark.sql import SparkSession

from exportintel.continuity.status import export_status_frame
from exportintel.continuity.target import HORIZON, label, label_shortcut, with_label
from tests.continuity.handmade import export, exporter, frame

FIRST, LAST = 2016, 2025


def definition(history: set[int], year: int, founded: int | None = 2000) -> int | None:
    return label(history, year, founding_year=founded, first_observed_year=FIRST,
                 last_observed_year=LAST)  # fmt: skip


@pytest.mark.parametrize(
    ("history", "year", "expected"),
    [
        ({2018, 2019}, 2018, 1),  # exports again the next year
        ({2018, 2020}, 2018, 1),  # pauses a year, comes back
        ({2018, 2021}, 2018, 0),  # two years without exports: discontinued in 2020
        ({2018}, 2018, 0),
        ({2016, 2017, 2018}, 2018, 0),  # a long record does not save the label
        ({2022, 2023}, 2022, 1),
        ({2023}, 2023, 0),  # 2025 is the last observed year: T = 2023 is labelled
        ({2024, 2025}, 2024, None),  # T + 2 = 2026 is not observed: scored only
        ({2025}, 2025, None),
    ],
)
def test_label_on_hand_made_histories(history: set[int], year: int, expected: int | None) -> None:
    assert definition(history, year) == expected
    assert label_shortcut(history, year, last_observed_year=LAST) == expected


def test_the_definition_and_the_shortcut_agree_on_every_history() -> None:
    # Every history over 2016-2025, every founding year up to T, every year T with exports.
    for bits in itertools.product((0, 1), repeat=LAST - FIRST + 1):
        history = {FIRST + i for i, bit in enumerate(bits) if bit}
        for year in history:
            for founded in (None, 1990, FIRST, year - 1, year):
                assert definition(history, year, founded) == label_shortcut(
                    history, year, last_observed_year=LAST
                ), (history, year, founded)


def test_no_label_for_a_year_without_exports() -> None:
    with pytest.raises(ValueError, match="did not export in 2019"):
        definition({2018}, 2019)
    with pytest.raises(ValueError, match="did not export in 2019"):
        label_shortcut({2018}, 2019, last_observed_year=LAST)


def test_the_horizon_is_two_years() -> None:
    assert HORIZON == 2


def test_with_label_reads_the_status_of_t_plus_2(spark: SparkSession) -> None:
    # Given firms with hand-made histories over 2016-2025 and their status table
    histories = {
        "EXP000001": {2016, 2017, 2019, 2024, 2025},
        "EXP000002": {2020, 2023},
        "EXP000003": {2016, 2025},
    }
    records = [export(f, y, "850440", "USA", 5.0) for f, ys in histories.items() for y in ys]
    status = export_status_frame(
        frame(spark, "export_history", records),
        frame(spark, "exporters", [exporter(f, "Seoul", 2001) for f in histories]),
    )
    rows = spark.createDataFrame(
        [(f, y) for f, ys in histories.items() for y in ys], "firm_id string, year int"
    )
    # When the label is added
    labelled = {(r["firm_id"], r["year"]): r["label"] for r in with_label(rows, status).collect()}
    # Then it is the definition's, row by row
    assert labelled == {(f, y): definition(ys, y, 2001) for f, ys in histories.items() for y in ys}
    assert labelled[("EXP000001", 2017)] == 1
    assert labelled[("EXP000001", 2019)] == 0
    assert labelled[("EXP000002", 2020)] == 0
    assert labelled[("EXP000001", 2024)] is None
