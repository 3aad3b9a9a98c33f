"""The three-year status rule: every row of the table, pending, novice, founding-year edges,
and the Spark form of the rule agreeing with the Python one."""

from __future__ import annotations

import itertools

import pytest
from pyspark.sql import SparkSession

from exportintel.continuity.status import ExportStatus, Status, export_status, export_status_frame
from exportintel.contracts import get_contract
from tests.continuity.handmade import export, exporter, frame

C, D, P = Status.CONTINUING, Status.DISCONTINUED, Status.PENDING
Y = 2020

# MISSION.md, "Model 2": Y-2, Y-1, Y -> status.
TABLE = [
    ("OOO", C), ("OOX", C), ("OXO", C), ("OXX", D),
    ("XOO", C), ("XOX", D), ("XXO", D), ("XXX", D),
]  # fmt: skip


def years_of(pattern: str, year: int = Y) -> set[int]:
    """'OXO' -> the years among year-2, year-1, year marked O."""
    return {year - 2 + i for i, mark in enumerate(pattern) if mark == "O"}


@pytest.mark.parametrize(("pattern", "expected"), TABLE)
def test_every_row_of_the_table(pattern: str, expected: Status) -> None:
    # Given a firm founded long ago, observed since 2010, with a long export record before
    history = {2010, 2011, 2015} | years_of(pattern)
    # When its status for 2020 is decided
    result = export_status(history, 2000, 2010, Y)
    # Then it is the table's, and the flags are the pattern
    assert result.status == expected
    assert (result.exported_y2, result.exported_y1, result.exported_y) == tuple(
        mark == "O" for mark in pattern
    )
    assert result.first_export_year == 2010
    assert result.novice is False


def test_a_firm_founded_after_y_minus_2_is_pending() -> None:
    assert export_status({2019, 2020}, 2019, 2010, Y).status == P
    assert export_status({2019, 2020}, 2020, 2010, Y).status == P
    assert export_status({2018, 2019, 2020}, 2021, 2010, Y).status == P  # records contradict


def test_a_firm_founded_in_y_minus_2_is_decided() -> None:
    # Founded in 2018: 2018 is a year of the firm, its lack of exports an X.
    assert export_status({2019, 2020}, 2018, 2010, Y).status == C
    assert export_status({2020}, 2018, 2010, Y).status == D


def test_a_year_before_founding_is_not_an_x() -> None:
    # Exports in 2019 and 2020: continuing if 2018 were an X (XOO), but the firm did not exist.
    assert export_status({2019, 2020}, 2019, 2010, Y) == ExportStatus(
        status=P, novice=True, exported_y2=False, exported_y1=True, exported_y=True,
        first_export_year=2019,
    )  # fmt: skip


def test_fewer_than_three_observed_years_is_pending() -> None:
    assert export_status({2019, 2020}, 2000, 2019, Y).status == P  # records start in 2019
    assert export_status({2019, 2020}, 2000, 2018, Y).status == C  # records start in 2018
    assert export_status({2018, 2019}, 2000, 2010, Y, last_observed_year=2019).status == P
    assert export_status({2018, 2019}, 2000, 2010, Y, last_observed_year=2020).status == C


def test_an_unknown_founding_year_restricts_nothing() -> None:
    assert export_status({2020}, None, 2018, Y).status == D
    assert export_status({2020}, None, 2019, Y).status == P


def test_novice_first_export_in_y_minus_2_or_later() -> None:
    assert export_status({2018, 2019}, 2000, 2010, Y).novice is True
    assert export_status({2020}, 2000, 2010, Y).novice is True
    assert export_status({2017, 2020}, 2000, 2010, Y).novice is False  # first in Y-3
    # A novice may well be discontinued already.
    assert export_status({2018}, 2000, 2010, Y) == ExportStatus(D, True, True, False, False, 2018)


def test_novice_is_known_only_from_a_first_export_the_records_vouch_for() -> None:
    # Records start in 2018 with an export: the firm may have exported before 2018.
    assert export_status({2018, 2019, 2020}, 2000, 2018, Y).novice is False
    # ... unless it was founded in 2018, the year of that export.
    assert export_status({2018, 2019, 2020}, 2018, 2018, Y).novice is True
    # An X observed in 2018, then the first export in 2019: a novice.
    assert export_status({2019, 2020}, 2000, 2018, Y).novice is True


def test_the_first_export_is_as_known_in_y() -> None:
    later = export_status({2022}, 2000, 2010, Y)
    assert later.first_export_year is None
    assert later.novice is False
    assert later.status == D


# ------------------------------------------------------------------------- Spark agrees

FIRST, LAST = 2015, 2020
FOUNDINGS = (None, 2005, 2015, 2016, 2017, 2018, 2019, 2020)


def test_spark_applies_the_same_rule_to_every_history(spark: SparkSession) -> None:
    # Given every export history over 2015-2020 for each founding year (and none)
    histories = [
        {FIRST + i for i, bit in enumerate(bits) if bit}
        for bits in itertools.product((0, 1), repeat=LAST - FIRST + 1)
    ]
    firms = {}
    records, agency = [], []
    for n, (history, founded) in enumerate(itertools.product(histories, FOUNDINGS)):
        firm = f"EXP{n:06d}"
        firms[firm] = (history, founded)
        records += [export(firm, y, "850440", "USA", 10.0) for y in history]
        records.append(export(firm, FIRST, "850450", "USA", 0.0))  # zero value: no export
        if founded is not None:
            agency.append(exporter(firm, "Seoul", founded))
    records.append(export("EXP999999", LAST, "850440", "USA", 1.0))  # fixes the window
    # When the Spark rule runs on them
    result = export_status_frame(
        frame(spark, "export_history", records), frame(spark, "exporters", agency)
    )
    rows = {(r["firm_id"], r["year"]): r.asDict() for r in result.collect()}
    # Then every firm has every year, and each row is the Python rule's
    assert len(rows) == (len(firms) + 1) * (LAST - FIRST + 1)
    mismatches = []
    for (firm, year), row in rows.items():
        history, founded = firms.get(firm, ({LAST}, None))
        expected = export_status(history, founded, FIRST, year, last_observed_year=LAST)
        flags = (row["exported_y2"], row["exported_y1"], row["exported_y"])
        got = ExportStatus(Status(row["status"]), row["novice"], *flags, row["first_export_year"])
        if got != expected:
            mismatches.append((firm, year, history, founded, got, expected))
    assert not mismatches, mismatches[:5]
    assert list(result.columns) == [f for f in get_contract("export_status").field_names]
