"""Athena SQL, run locally: sqlglot transpiles it to DuckDB, tables resolve through Glue.

The analysts' SQL is written once, in Athena's dialect. Offline, each table it names is looked
up in the (emulated) Glue catalog, opened as a lazy Arrow dataset at the table's S3 location
(pyarrow's S3 filesystem honours `AWS_ENDPOINT_URL`), and scanned by DuckDB with projection and
partition pruning. `--athena` sends the same text to a real Athena workgroup instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from exportintel.contracts.model import Contract
from exportintel.contracts.registry import get_contract
from exportintel.contracts.schemas import arrow_type
from exportintel.contracts.tables import curated_table

if TYPE_CHECKING:
    import duckdb

    from exportintel.resources import Resources


class QueryError(ValueError):
    """The query cannot run: bad SQL, an unknown table, or Athena SQL DuckDB cannot express."""


@dataclass(frozen=True)
class TableLocation:
    name: str
    location: str  # s3://bucket/prefix/ or a local folder
    schema: pa.Schema  # data columns
    partitions: pa.Schema  # hive partition keys


def transpile(sql: str) -> str:
    """Athena (Trino) SQL to DuckDB SQL, refusing what would silently change meaning."""
    try:
        statements = sqlglot.transpile(
            sql, read="athena", write="duckdb", unsupported_level=ErrorLevel.RAISE
        )
    except ParseError as error:
        raise QueryError(f"the SQL does not parse: {error}") from None
    except UnsupportedError as error:
        raise QueryError(f"this Athena SQL has no DuckDB equivalent: {error}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one statement, got {len(statements)}")
    return statements[0]


def referenced_tables(sql: str) -> set[str]:
    """Names of the catalog tables a query reads (CTE names excluded)."""
    tree = sqlglot.parse_one(sql, read="athena")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def glue_resolver(database: str) -> Callable[[str], TableLocation]:
    """Resolve tables through the Glue catalog (emulated or real)."""
    import boto3

    glue = boto3.client("glue")

    def resolve(name: str) -> TableLocation:
        try:
            table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            known = sorted(
                t["Name"]
                for page in glue.get_paginator("get_tables").paginate(DatabaseName=database)
                for t in page["TableList"]
            )
            raise QueryError(
                f"unknown table {name!r} in {database}; known: {', '.join(known)}"
            ) from None
        columns = table["StorageDescriptor"]["Columns"]
        partitions = table.get("PartitionKeys", [])
        return TableLocation(
            name=name,
            location=table["StorageDescriptor"]["Location"],
            schema=pa.schema([(c["Name"], arrow_type(c["Type"])) for c in columns]),
            partitions=pa.schema([(c["Name"], arrow_type(c["Type"])) for c in partitions]),
        )

    return resolve


def _filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(location)
    if parsed.scheme != "s3":
        return pafs.LocalFileSystem(), location
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {"region": os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-2")}
    if endpoint:
        endpoint_url = urlparse(endpoint)
        options |= {
            "endpoint_override": endpoint_url.netloc,
            "scheme": endpoint_url.scheme,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        }
    return pafs.S3FileSystem(**options), f"{parsed.netloc}{parsed.path}".rstrip("/")


def open_table(table: TableLocation) -> ds.Dataset:
    """A lazy Arrow dataset over the table's Parquet files (empty when none are written yet)."""
    filesystem, path = _filesystem(table.location)
    full_schema = pa.schema([*table.schema, *table.partitions])
    if filesystem.get_file_info(path).type == pafs.FileType.NotFound:
        return ds.dataset(full_schema.empty_table())
    return ds.dataset(
        path,
        filesystem=filesystem,
        format="parquet",
        schema=full_schema,
        partitioning=ds.partitioning(table.partitions, flavor="hive")
        if len(table.partitions)
        else None,
        exclude_invalid_files=False,
    )


def run_local(
    sql: str,
    resolve: Callable[[str], TableLocation],
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Run Athena SQL on DuckDB over the tables `resolve` finds; returns an Arrow table."""
    import duckdb

    duck_sql = transpile(sql)
    con = connection or duckdb.connect()
    for name in sorted(referenced_tables(sql)):
        con.register(name, open_table(resolve(name)))
    try:
        return con.execute(duck_sql).to_arrow_table()
    except duckdb.Error as error:
        raise QueryError(f"the query failed: {error}") from None


def run_athena(sql: str, resources: Resources) -> pa.Table:
    """Run the same SQL on a real Athena workgroup (results encrypted by the workgroup)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        import awswrangler as wr

    frame = wr.athena.read_sql_query(
        sql,
        database=resources.curated_database,
        workgroup=resources.athena_workgroup,
        ctas_approach=False,
    )
    return pa.Table.from_pandas(frame, preserve_index=False)


def render(table: pa.Table, *, limit: int = 20) -> str:
    """A plain-text table for the terminal."""
    rows = table.slice(0, limit).to_pylist()
    names = table.column_names
    cells = [[_cell(row[n]) for n in names] for row in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    if table.num_rows > limit:
        lines.append(f"... {table.num_rows - limit} more rows")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return "" if value is None else str(value)


def contract_location(contract: Contract, location: str) -> TableLocation:
    """A curated table at a given folder, typed by its contract (benchmarks, tests)."""
    table = curated_table(contract)
    return TableLocation(
        name=contract.name,
        location=location,
        schema=pa.schema([(c.name, arrow_type(c.type)) for c in table.columns]),
        partitions=pa.schema([(c.name, arrow_type(c.type)) for c in table.partition_keys]),
    )


def folder_resolver(root: str) -> Callable[[str], TableLocation]:
    """Resolve curated tables from `<root>/<table>/` folders, typed by their contracts."""

    def resolve(name: str) -> TableLocation:
        try:
            contract = get_contract(name)
        except KeyError as error:
            raise QueryError(str(error.args[0])) from None
        return contract_location(contract, f"{root.rstrip('/')}/{name}")

    return resolve
