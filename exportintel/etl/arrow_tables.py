"""Derived tables made in pandas (model outputs, group profiles), written as their contracts say.

The Spark jobs write their tables with `continuity.tables.write_table`; results computed in
pandas take this path instead, to the same layout: the contract's columns and types, Hive
partition folders `<key>=<value>/`, one file per partition, the table replaced whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exportintel.contracts.model import Contract
from exportintel.contracts.schemas import arrow_schema


def to_arrow(frame: pd.DataFrame, contract: Contract) -> pa.Table:
    """The frame's contract columns cast to the contract's types, the partition key derived.

    A missing required column is an error; a missing optional one becomes nulls.
    """
    schema = arrow_schema(contract)
    missing = [f.name for f in contract.fields if f.required and f.name not in frame.columns]
    if missing:
        raise ValueError(f"{contract.name}: columns missing: {', '.join(missing)}")
    frame = frame.copy()
    if contract.partition_key is not None:
        frame[contract.partition_key] = frame[str(contract.partition_source)]
    columns = {}
    for field in schema:
        values = frame[field.name] if field.name in frame.columns else [None] * len(frame)
        column = pd.Series(values, index=frame.index)
        # pandas' NaN in an object or float column is a missing value, not a number.
        column = column.astype(object).where(column.notna(), None)
        columns[field.name] = pa.array(column.tolist(), type=field.type)
    return pa.table(columns, schema=schema)


def write_partitioned(table: pa.Table, contract: Contract, folder: Path) -> list[Path]:
    """Replace the table in `folder`; returns the files written."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    key = contract.partition_key
    if key is None:
        path = folder / "part-00000.parquet"
        pq.write_table(table, path, compression="snappy")
        return [path]
    written = []
    for value in sorted(set(table.column(key).to_pylist())):
        part = table.filter(pc.equal(table.column(key), value)).drop_columns([key])
        path = folder / f"{key}={value}" / "part-00000.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(part, path, compression="snappy")
        written.append(path)
    return written
