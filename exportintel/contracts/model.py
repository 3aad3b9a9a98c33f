"""The contract model: what a dataset promises, field by field.

A contract is declared once (see `datasets.py`) and everything else is derived from it: Glue
tables in the CDK app, record validation in ETL, Arrow schemas, the local emulation's tables and
the data dictionary. Adding a data source means declaring one `Contract`; nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """Logical field types; each maps to one Glue/Athena type and one Arrow type."""

    STRING = "string"
    INT = "int"
    BIGINT = "bigint"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    STRING_ARRAY = "array<string>"


class PiiClass(StrEnum):
    """How personal a field is, as the agency's data rules define it."""

    DIRECT = "personal direct identifier"
    QUASI = "personal quasi-identifier"
    BUSINESS = "business identifier"
    FREE_TEXT = "free text"
    NONE = "none"


class Treatment(StrEnum):
    """What ingestion does to a field before the curated zone."""

    KEEP = "keep"
    PSEUDONYMISE = "pseudonymise"  # keyed hash (HMAC-SHA256), stable over time
    DROP = "drop"
    SCRUB = "scrub"  # phone numbers and e-mail addresses removed from the text
    # Cookie ids: kept (pseudonymised) only when the user consented, dropped otherwise.
    DROP_WITHOUT_CONSENT = "drop without consent"


_DEFAULT_TREATMENT = {
    PiiClass.DIRECT: Treatment.PSEUDONYMISE,
    PiiClass.QUASI: Treatment.KEEP,
    PiiClass.BUSINESS: Treatment.KEEP,
    PiiClass.FREE_TEXT: Treatment.SCRUB,
    PiiClass.NONE: Treatment.KEEP,
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class Field:
    """One column of a dataset and everything a record's value must satisfy."""

    name: str
    type: FieldType
    description: str
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[Any, ...] | None = None
    format: str | None = None  # a name from `formats.FORMATS`, applied to strings or array items
    unit: str | None = None
    pii: PiiClass = PiiClass.NONE
    treatment: Treatment | None = None  # None: the default for the PII class

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"field name {self.name!r} must be snake_case")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"field {self.name}: minimum {self.minimum} > maximum {self.maximum}")
        if self.format is not None:
            from exportintel.contracts.formats import FORMATS

            if self.format not in FORMATS:
                raise ValueError(f"field {self.name}: unknown format {self.format!r}")

    @property
    def effective_treatment(self) -> Treatment:
        return self.treatment or _DEFAULT_TREATMENT[self.pii]


@dataclass(frozen=True, kw_only=True)
class Contract:
    """A dataset: its fields, its key, how it lands in raw and how it is partitioned in curated."""

    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    origin: str  # "agency extract", "external feed", "clickstream" or "derived"
    # Curated partition column, derived from `partition_source` (a date/timestamp or year field).
    partition_key: str | None = None
    partition_source: str | None = None
    partition_granularity: str = "year"  # "year" (int), "month" (yyyy-MM) or "day" (yyyy-MM-dd)
    owner: str = "data platform"
    zone: str = "curated"  # the bucket the analysts' table reads: "curated" or "quarantine"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"contract name {self.name!r} must be snake_case")
        names = [f.name for f in self.fields]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ValueError(f"contract {self.name}: duplicated fields {sorted(duplicated)}")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"contract {self.name}: primary key fields {missing} not declared")
        if self.zone not in ("curated", "quarantine"):
            raise ValueError(f"contract {self.name}: zone must be 'curated' or 'quarantine'")
        if (self.partition_key is None) != (self.partition_source is None):
            raise ValueError(
                f"contract {self.name}: set partition_key and partition_source together"
            )
        if self.partition_source is not None:
            source = self.field(self.partition_source)
            if source.type not in (FieldType.DATE, FieldType.TIMESTAMP, FieldType.INT):
                raise ValueError(f"contract {self.name}: cannot partition by a {source.type} field")
            if self.partition_key in names:
                raise ValueError(f"contract {self.name}: partition key clashes with a field")
            if self.partition_granularity not in ("year", "month", "day"):
                raise ValueError(f"contract {self.name}: granularity must be year, month or day")
            if self.partition_granularity != "year" and source.type == FieldType.INT:
                raise ValueError(f"contract {self.name}: a year field cannot give a day partition")

    @property
    def lands_in_raw(self) -> bool:
        """Sources land in raw and get a raw table; derived datasets are written by jobs."""
        return self.origin != "derived"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"contract {self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def personal_fields(self) -> Sequence[Field]:
        return [f for f in self.fields if f.pii in (PiiClass.DIRECT, PiiClass.QUASI)]
