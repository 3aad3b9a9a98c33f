"""Export status of a firm in an analysis year Y: the three-year rule, stated once.

The firm is **continuing** when it exported in more of the years Y-2, Y-1 and Y than not,
otherwise **discontinued** (O = exported, X = not):

    Y-2 Y-1 Y    status          Y-2 Y-1 Y    status
    O   O   O    continuing      X   O   O    continuing
    O   O   X    continuing      X   O   X    discontinued
    O   X   O    continuing      X   X   O    discontinued
    O   X   X    discontinued    X   X   X    discontinued

It is **pending** instead when the firm was founded after Y-2, or when fewer than three of
those years are observed. Definitions:

- *exported in a year*: the firm has export records with a positive value that year;
- *observed year*: inside the export records' window (from the first observed data year to
  the last, when known) and not before the firm's founding year. A year without an export
  record counts as X only when observed: before the first observed data year nothing is known,
  and before its founding a firm cannot stop exporting;
- *first export year*: the first year up to Y with an export record, as known at Y (null when
  none);
- *novice*: the first export year is Y-2 or later, and it is a true first export: the firm was
  founded that year, or the year before it is observed (and so known to be an X). A firm
  whose records begin with an export in the first observed data year may have exported
  before the records begin; it is not called a novice.

A founding year that is unknown (a firm with export records but no agency record) restricts
nothing: only the observation window applies.

`export_status` is the rule for one firm; `export_status_frame` applies the same rule with
Spark column expressions to every firm and year (the `export_status` Glue job). Tests hold
the two in agreement on generated data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


class Status(StrEnum):
    CONTINUING = "continuing"
    DISCONTINUED = "discontinued"
    PENDING = "pending"


# Y-2, Y-1, Y: the years the rule compares, oldest first.
WINDOW = 3


@dataclass(frozen=True)
class ExportStatus:
    """A firm's status in one analysis year, with the facts it was decided on."""

    status: Status
    novice: bool
    exported_y2: bool
    exported_y1: bool
    exported_y: bool
    first_export_year: int | None


def three_year_rule(exported_y2: bool, exported_y1: bool, exported_y: bool) -> Status:
    """The table: continuing when the firm exported in more of the three years than not."""
    exported = int(exported_y2) + int(exported_y1) + int(exported_y)
    return Status.CONTINUING if exported * 2 > WINDOW else Status.DISCONTINUED


def is_observed(
    year: int,
    *,
    founding_year: int | None,
    first_observed_year: int,
    last_observed_year: int | None = None,
) -> bool:
    """Whether a year without an export record is known to be an X for this firm."""
    if year < first_observed_year:
        return False
    if last_observed_year is not None and year > last_observed_year:
        return False
    return founding_year is None or year >= founding_year


def export_status(
    years_exported: Iterable[int],
    founding_year: int | None,
    first_observed_year: int,
    year: int,
    *,
    last_observed_year: int | None = None,
) -> ExportStatus:
    """The status of one firm in analysis year `year` (see the module's definitions)."""
    exported = set(years_exported)
    years = range(year - WINDOW + 1, year + 1)
    y2, y1, y = (y_ in exported for y_ in years)

    def observed(y_: int) -> bool:
        return is_observed(
            y_,
            founding_year=founding_year,
            first_observed_year=first_observed_year,
            last_observed_year=last_observed_year,
        )

    founded_late = founding_year is not None and founding_year > years[0]
    if founded_late or sum(observed(y_) for y_ in years) < WINDOW:
        status = Status.PENDING
    else:
        status = three_year_rule(y2, y1, y)

    earlier = [e for e in exported if e <= year]
    first = min(earlier) if earlier else None
    novice = (
        first is not None
        and first >= years[0]
        and ((founding_year is not None and founding_year >= first) or observed(first - 1))
    )
    return ExportStatus(status, novice, y2, y1, y, first)


# ------------------------------------------------------------------------------ at scale


def _observed(
    year: Column, founding: Column, first_observed_year: int, last_observed_year: int
) -> Column:
    from pyspark.sql import functions as F

    return (
        (year >= F.lit(first_observed_year))
        & (year <= F.lit(last_observed_year))
        & (founding.isNull() | (year >= founding))
    )


def observation_window(export_history: DataFrame) -> tuple[int, int]:
    """First and last observed data years: the span of the export records."""
    from pyspark.sql import functions as F

    row = export_history.agg(F.min("year").alias("first"), F.max("year").alias("last")).first()
    if row is None or row["first"] is None:
        raise ValueError("export_history is empty: no observation window")
    return int(row["first"]), int(row["last"])


def exported_years(export_history: DataFrame) -> DataFrame:
    """(firm_id, years): the sorted years in which each firm exported (a positive value)."""
    from pyspark.sql import functions as F

    return (
        export_history.where(F.col("export_value_usd") > 0)
        .groupBy("firm_id")
        .agg(F.array_sort(F.collect_set(F.col("year").cast("int"))).alias("years"))
    )


def export_status_frame(
    export_history: DataFrame,
    exporters: DataFrame,
    *,
    first_observed_year: int | None = None,
    last_observed_year: int | None = None,
) -> DataFrame:
    """The status of every firm in every analysis year of the observation window.

    Firms are those of `exporters` and those with export records; the window defaults to the
    span of `export_history`. Returns the `export_status` contract's columns (not yet cast;
    see `tables.conform`).
    """
    from pyspark.sql import functions as F

    if first_observed_year is None or last_observed_year is None:
        first, last = observation_window(export_history)
        first_observed_year = first if first_observed_year is None else first_observed_year
        last_observed_year = last if last_observed_year is None else last_observed_year
    if first_observed_year > last_observed_year:
        raise ValueError(f"empty window {first_observed_year}..{last_observed_year}")

    founding = exporters.select("firm_id", F.col("founding_year").cast("int")).dropDuplicates(
        ["firm_id"]
    )
    recorded = export_history.select("firm_id").distinct()
    firms = (
        founding.join(recorded, "firm_id", "full_outer")
        .join(exported_years(export_history), "firm_id", "left")
        .select(
            "firm_id",
            "founding_year",
            F.coalesce("years", F.array().cast("array<int>")).alias("years"),
        )
    )
    spark = export_history.sparkSession
    years = spark.range(first_observed_year, last_observed_year + 1).select(
        F.col("id").cast("int").alias("year")
    )
    grid = firms.crossJoin(years)

    year, found, exported = F.col("year"), F.col("founding_year"), F.col("years")
    window = (first_observed_year, last_observed_year)
    flags = [F.array_contains(exported, year - k) for k in (2, 1, 0)]
    observed = sum(
        (F.when(_observed(year - k, found, *window), 1).otherwise(0) for k in (2, 1, 0)),
        F.lit(0),
    )
    founded_late = found.isNotNull() & (found > year - (WINDOW - 1))
    count = sum((F.when(flag, 1).otherwise(0) for flag in flags), F.lit(0))
    status = (
        F.when(founded_late | (observed < WINDOW), F.lit(Status.PENDING.value))
        .when(count * 2 > WINDOW, F.lit(Status.CONTINUING.value))
        .otherwise(F.lit(Status.DISCONTINUED.value))
    )
    first_export = F.array_min(F.filter(exported, lambda e: e <= year))
    novice = (
        first_export.isNotNull()
        & (first_export >= year - (WINDOW - 1))
        & (
            (found.isNotNull() & (found >= first_export))
            | _observed(first_export - 1, found, *window)
        )
    )
    return grid.select(
        "firm_id",
        year.alias("year"),
        status.alias("status"),
        F.coalesce(novice, F.lit(False)).alias("novice"),
        flags[0].alias("exported_y2"),
        flags[1].alias("exported_y1"),
        flags[2].alias("exported_y"),
        first_export.alias("first_export_year"),
    )
