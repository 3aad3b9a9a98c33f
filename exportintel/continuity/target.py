"""The target of the export continuity index, stated once.

For a firm that exported in year T:

    label(firm, T) = 1  when its status for analysis year T + 2 is continuing,
                     0  when it is discontinued.

Because T is an O, the status of T + 2 (over T, T+1, T+2) is continuing exactly when the firm
exported in T + 1 or T + 2: a firm that exports this year keeps the label 1 if it exports
again within two years. Years T with T + 2 after the last observed year have no label yet:
their rows are scored only. A pending status of T + 2 (possible only with records that
contradict the founding year) gives no label either.

`label` and `label_shortcut` are the two readings for one firm (tests hold them equal);
`with_label` adds the label to firm-year rows from the `export_status` table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from exportintel.continuity.status import Status, export_status

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# Years between the features' year T and the analysis year whose status is the label.
HORIZON = 2


def label_from_status(status: Status | str) -> int | None:
    """1 continuing, 0 discontinued, None pending."""
    return {Status.CONTINUING: 1, Status.DISCONTINUED: 0}.get(Status(status))


def label(
    years_exported: Iterable[int],
    year: int,
    *,
    founding_year: int | None,
    first_observed_year: int,
    last_observed_year: int,
) -> int | None:
    """The label of a firm that exported in `year`, by the definition: status of year + 2."""
    exported = set(years_exported)
    if year not in exported:
        raise ValueError(f"no label: the firm did not export in {year}")
    if year + HORIZON > last_observed_year:
        return None
    later = export_status(
        exported,
        founding_year,
        first_observed_year,
        year + HORIZON,
        last_observed_year=last_observed_year,
    )
    return label_from_status(later.status)


def label_shortcut(
    years_exported: Iterable[int], year: int, *, last_observed_year: int
) -> int | None:
    """The same label for a firm that exported in `year`: did it export again within two years?"""
    exported = set(years_exported)
    if year not in exported:
        raise ValueError(f"no label: the firm did not export in {year}")
    if year + HORIZON > last_observed_year:
        return None
    return int(any(year + k in exported for k in range(1, HORIZON + 1)))


def label_column(status: Column) -> Column:
    """The label from a status column: 1, 0, or null (pending or no status)."""
    from pyspark.sql import functions as F

    return (
        F.when(status == Status.CONTINUING.value, F.lit(1))
        .when(status == Status.DISCONTINUED.value, F.lit(0))
        .otherwise(F.lit(None).cast("int"))
    )


def with_label(rows: DataFrame, export_status: DataFrame) -> DataFrame:
    """`rows` keyed by (firm_id, year = T) with `label`, the status of (firm_id, T + 2).

    No status row for T + 2 (after the last observed year) leaves the label null.
    """
    from pyspark.sql import functions as F

    later = export_status.select(
        "firm_id",
        (F.col("year") - HORIZON).cast("int").alias("year"),
        label_column(F.col("status")).alias("label"),
    )
    return rows.join(later, ["firm_id", "year"], "left")
