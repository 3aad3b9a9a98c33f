"""Glue table definitions derived from contracts, for raw (JSON) and curated (Parquet) zones.

Plain data (no CDK import) so the CDK catalog construct and the local emulation provision
exactly the same tables from the same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exportintel.contracts.model import Contract, FieldType, Treatment

PROJECTION_FIRST_DAY = "2000-01-01"
PROJECTION_YEARS = (1990, 2100)
RAW_DATE_KEY = "dt"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class TableSpec:
    """What a Glue table needs: columns, partition keys, storage and table parameters."""

    name: str
    description: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...]
    prefix: str  # key prefix inside the zone's bucket, ending with "/"
    input_format: str
    output_format: str
    serde: str
    serde_parameters: dict[str, str]
    parameters: dict[str, str]

    def location(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.prefix}"

    def with_bucket(self, bucket: str) -> dict[str, str]:
        """Table parameters with the projection's storage template pointing at `bucket`."""
        params = dict(self.parameters)
        template = params.get("storage.location.template")
        if template is not None:
            params["storage.location.template"] = template.replace("${bucket}", bucket)
        return params

    def to_glue_input(self, bucket: str) -> dict[str, Any]:
        """The `TableInput` shape of the Glue API (boto3 `create_table`, CloudFormation)."""

        def cols(columns: tuple[Column, ...]) -> list[dict[str, str]]:
            return [{"Name": c.name, "Type": c.type, "Comment": c.comment} for c in columns]

        return {
            "Name": self.name,
            "Description": self.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": self.with_bucket(bucket),
            "PartitionKeys": cols(self.partition_keys),
            "StorageDescriptor": {
                "Columns": cols(self.columns),
                "Location": self.location(bucket),
                "InputFormat": self.input_format,
                "OutputFormat": self.output_format,
                "SerdeInfo": {
                    "SerializationLibrary": self.serde,
                    "Parameters": self.serde_parameters,
                },
            },
        }


def _comment(contract: Contract, name: str) -> str:
    field = contract.field(name)
    parts = [field.description]
    if field.unit:
        parts.append(f"unit: {field.unit}")
    if field.effective_treatment in (Treatment.PSEUDONYMISE, Treatment.DROP_WITHOUT_CONSENT):
        parts.append("pseudonymised (HMAC-SHA256)")
    elif field.effective_treatment == Treatment.SCRUB:
        parts.append("phone numbers and e-mails scrubbed")
    return "; ".join(parts)[:255]


def raw_table(contract: Contract) -> TableSpec:
    """Raw zone: JSON lines as landed, every scalar read as text (raw may be malformed)."""
    columns = tuple(
        Column(
            f.name,
            "array<string>" if f.type == FieldType.STRING_ARRAY else "string",
            f"{f.description} (raw text; contract type {f.type})"[:255],
        )
        for f in contract.fields
    )
    prefix = f"{contract.name}/"
    return TableSpec(
        name=contract.name,
        description=f"RAW, platform only. {contract.description}",
        columns=columns,
        partition_keys=(Column(RAW_DATE_KEY, "string", "Landing day, yyyy-MM-dd"),),
        prefix=prefix,
        input_format="org.apache.hadoop.mapred.TextInputFormat",
        output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serde="org.openx.data.jsonserde.JsonSerDe",
        serde_parameters={"ignore.malformed.json": "true"},
        parameters={
            "classification": "json",
            "projection.enabled": "true",
            f"projection.{RAW_DATE_KEY}.type": "date",
            f"projection.{RAW_DATE_KEY}.range": f"{PROJECTION_FIRST_DAY},NOW",
            f"projection.{RAW_DATE_KEY}.format": "yyyy-MM-dd",
            f"projection.{RAW_DATE_KEY}.interval": "1",
            f"projection.{RAW_DATE_KEY}.interval.unit": "DAYS",
            "storage.location.template": f"s3://${{bucket}}/{prefix}{RAW_DATE_KEY}=${{{RAW_DATE_KEY}}}/",
        },
    )


def curated_columns(contract: Contract) -> tuple[Column, ...]:
    """Curated columns: the contract's fields less those ingestion drops."""
    return tuple(
        Column(f.name, str(f.type), _comment(contract, f.name))
        for f in contract.fields
        if f.effective_treatment != Treatment.DROP
    )


def curated_table(contract: Contract) -> TableSpec:
    """Curated zone: validated, pseudonymised, deduplicated Parquet (snappy)."""
    prefix = f"{contract.name}/"
    partition_keys: tuple[Column, ...] = ()
    parameters = {"classification": "parquet", "parquet.compression": "SNAPPY"}
    key = contract.partition_key
    if key is not None:
        source = contract.partition_source
        if contract.partition_granularity == "year":
            partition_keys = (Column(key, "int", f"Year of {source}"),)
            first, last = PROJECTION_YEARS
            projection = {
                f"projection.{key}.type": "integer",
                f"projection.{key}.range": f"{first},{last}",
            }
        else:
            day = contract.partition_granularity == "day"
            partition_keys = (Column(key, "string", f"{'Day' if day else 'Month'} of {source}"),)
            projection = {
                f"projection.{key}.type": "date",
                f"projection.{key}.range": (
                    f"{PROJECTION_FIRST_DAY},NOW" if day else f"{PROJECTION_FIRST_DAY[:7]},NOW"
                ),
                f"projection.{key}.format": "yyyy-MM-dd" if day else "yyyy-MM",
                f"projection.{key}.interval": "1",
                f"projection.{key}.interval.unit": "DAYS" if day else "MONTHS",
            }
        parameters |= {
            "projection.enabled": "true",
            **projection,
            "storage.location.template": f"s3://${{bucket}}/{prefix}{key}=${{{key}}}/",
        }
    return TableSpec(
        name=contract.name,
        description=contract.description,
        columns=curated_columns(contract),
        partition_keys=partition_keys,
        prefix=prefix,
        input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        serde="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        serde_parameters={"serialization.format": "1"},
        parameters=parameters,
    )


@dataclass(frozen=True)
class CatalogEntry:
    """One Glue table: which database ("raw" or "curated") and which zone's bucket it reads."""

    database: str
    bucket_zone: str
    table: TableSpec


def catalog_entries(contracts: Sequence[Contract]) -> list[CatalogEntry]:
    """The catalog the CDK app and the emulation both build: sources get a raw table, every
    contract a table in the analysts' database over its zone's bucket."""
    entries = []
    for contract in contracts:
        if contract.lands_in_raw:
            entries.append(CatalogEntry("raw", "raw", raw_table(contract)))
        entries.append(CatalogEntry("curated", contract.zone, curated_table(contract)))
    return entries
