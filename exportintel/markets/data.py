"""The curated tables the market model reads, and only the columns it needs.

The same reader serves the training and scoring jobs (SageMaker channels or processing inputs:
one folder per table) and the local runs (the emulated lake's table folders).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from exportintel.models.tabular import DataError

if TYPE_CHECKING:
    import pandas as pd

INPUT_TABLES = (
    "exporters",
    "buyers",
    "export_history",
    "firm_financials",
    "trade_flows",
    "fx_rates",
    "country_risk",
    "match_history",
)
COLUMNS = {
    "exporters": ("firm_id", "hs_codes", "price_min_usd", "price_max_usd", "founding_year"),
    "buyers": (
        "buyer_id", "country_code", "hs_codes_wanted", "desired_price_min_usd",
        "desired_price_max_usd", "bad_credit",
    ),
    "export_history": ("firm_id", "year", "hs_code", "destination_country", "export_value_usd"),
    "firm_financials": ("firm_id", "year", "employees"),
    "trade_flows": ("reporter_code", "partner_code", "hs_code", "year", "flow", "trade_value_usd"),
    "fx_rates": ("rate_date", "currency", "krw_per_unit"),
    "country_risk": ("country_code", "effective_date", "advisory_level"),
    "match_history": ("buyer_id", "requested_on"),
}  # fmt: skip


class MissingTable(DataError):
    """An input table is absent or empty: the job cannot score markets without it."""


@dataclass(frozen=True)
class MarketTables:
    exporters: pd.DataFrame
    buyers: pd.DataFrame
    export_history: pd.DataFrame
    firm_financials: pd.DataFrame
    trade_flows: pd.DataFrame
    fx_rates: pd.DataFrame
    country_risk: pd.DataFrame
    match_history: pd.DataFrame

    @property
    def last_year(self) -> int:
        """The last year with export records: the as-of year of a scoring."""
        return int(self.export_history["year"].max())


def read_tables(paths: Mapping[str, Path | str]) -> MarketTables:
    """Every input table from its folder (Parquet files, partition folders ignored: each
    file holds its partition column)."""
    frames = {}
    for table in INPUT_TABLES:
        if table not in paths:
            raise MissingTable(f"no path given for the {table} table")
        frames[table] = read_table(Path(paths[table]), table)
    return MarketTables(**frames)


def read_table(folder: Path, table: str) -> pd.DataFrame:
    import pandas as pd
    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    if not files:
        raise MissingTable(f"{table}: no Parquet files under {folder}")
    columns = list(COLUMNS[table])
    parts = [pq.read_table(f, columns=columns).to_pandas() for f in files]
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        raise MissingTable(f"{table}: the table under {folder} is empty")
    return frame


def frames(tables: MarketTables) -> dict[str, pd.DataFrame]:
    return {table: getattr(tables, table) for table in INPUT_TABLES}


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """`--<table>` per input table (dashes for underscores), defaulting to the SageMaker
    channel of the same name."""
    from exportintel.models.jobenv import sm_path

    tables = parser.add_argument_group("input tables (default: the SageMaker channels)")
    for table in INPUT_TABLES:
        tables.add_argument(
            f"--{table.replace('_', '-')}",
            dest=table,
            default=sm_path(f"SM_CHANNEL_{table.upper()}", f"/opt/ml/input/data/{table}"),
        )


def tables_from(args: argparse.Namespace) -> MarketTables:
    """The tables named by `add_table_arguments`' arguments."""
    return read_tables({table: Path(getattr(args, table)) for table in INPUT_TABLES})
