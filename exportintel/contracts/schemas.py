"""Arrow and Spark schemas of a contract's curated columns (and its partition key)."""

from __future__ import annotations

import pyarrow as pa

from exportintel.contracts.model import Contract, FieldType
from exportintel.contracts.tables import curated_table

_ARROW = {
    FieldType.STRING: pa.string(),
    FieldType.INT: pa.int32(),
    FieldType.BIGINT: pa.int64(),
    FieldType.DOUBLE: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    FieldType.STRING_ARRAY: pa.list_(pa.string()),
}
_ARROW_BY_GLUE_TYPE = {str(t): a for t, a in _ARROW.items()}


def arrow_schema(contract: Contract, *, with_partition: bool = True) -> pa.Schema:
    """The curated Parquet schema: kept fields in contract order, then the partition key."""
    table = curated_table(contract)
    columns = (*table.columns, *(table.partition_keys if with_partition else ()))
    return pa.schema([pa.field(c.name, _ARROW_BY_GLUE_TYPE[c.type]) for c in columns])


def spark_ddl(schema: pa.Schema) -> str:
    """A Spark DDL string for an Arrow schema made of the types above."""

    def ddl(t: pa.DataType) -> str:
        if pa.types.is_list(t):
            return f"array<{ddl(t.value_type)}>"
        return {
            pa.string(): "string", pa.int32(): "int", pa.int64(): "bigint",
            pa.float64(): "double", pa.bool_(): "boolean", pa.date32(): "date",
        }.get(t) or ("timestamp" if pa.types.is_timestamp(t) else _unsupported(t))  # fmt: skip

    return ", ".join(f"`{f.name}` {ddl(f.type)}" for f in schema)


def _unsupported(t: pa.DataType) -> str:
    raise TypeError(f"no Spark type for {t}")


def arrow_type(glue_type: str) -> pa.DataType:
    """The Arrow type of a Glue column type this platform declares."""
    try:
        return _ARROW_BY_GLUE_TYPE[glue_type]
    except KeyError:
        raise TypeError(f"no Arrow type for the Glue type {glue_type!r}") from None
