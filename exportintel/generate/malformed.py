"""Deliberately broken records, so that validation and quarantine meet the usual faults.

Each kind breaks exactly one field of a good record (or repeats the record); every broken
record is checked against the contract, so the manifest's counts equal what ETL rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exportintel.contracts.model import Contract, Field, FieldType
from exportintel.contracts.validation import validate_record

# "out_of_range" also covers values outside a field's allowed list (validator code
# "not_allowed"); "duplicate" re-emits a good record unchanged, so it passes validation.
KINDS = ("bad_type", "out_of_range", "missing_required", "bad_format", "duplicate")

_BAD_TYPE: dict[FieldType, tuple[Any, ...]] = {
    FieldType.INT: ("n/a", "12 units", "1,200"),
    FieldType.BIGINT: ("n/a", "12 units", "1,200"),
    FieldType.DOUBLE: ("n/a", "1,234.50", "12.5 USD"),
    FieldType.BOOLEAN: ("yes", "Y", "1"),
    FieldType.DATE: ("31/12/2020", "2020.05.17", "yesterday"),
    FieldType.TIMESTAMP: ("yesterday", "17/05/2020 10:00"),
    FieldType.STRING: (12345, 3.5, True),
    FieldType.STRING_ARRAY: ("330499,330410", 330499),
}
_BAD_FORMAT: dict[str, tuple[str, ...]] = {
    "iso_country": ("KOREA", "XX", "usa", "U.S.A."),
    "iso_currency": ("WON", "usd", "US$"),
    "hs6": ("3304.99", "33049", "HS330499"),
    "hs2": ("98", "7", "3a"),
    "hs_any": ("3304.99", "330"),
    "exporter_id": ("EXP12345", "exp000123", "E-000123"),
    "buyer_id": ("BUY12345", "B0001234"),
    "firm_id": ("FIRM-0001", "EXP-000123"),
    "business_reg_no": ("1234567890", "123-456-7890"),
    "email": ("kim.minjun(at)naver.com", "@naver.com", "kim minjun@naver"),
    "phone": ("call me", "010-12", "+82-10-XXXX-1234"),
    "uuid": ("not-a-uuid",),
    "identifier": ("id with spaces", "#1024"),
}


def candidates(contract: Contract, protected: Sequence[str]) -> dict[str, list[Field]]:
    """Per kind, the fields that kind can break (protected fields are never touched)."""
    fields = [f for f in contract.fields if f.name not in protected]
    return {
        "bad_type": fields,
        "out_of_range": [
            f for f in fields if f.minimum is not None or f.maximum is not None or f.allowed
        ],
        "missing_required": [f for f in fields if f.required],
        "bad_format": [f for f in fields if f.format is not None or f.type == FieldType.TIMESTAMP],
        "duplicate": fields,
    }


def applicable_kinds(contract: Contract, protected: Sequence[str]) -> tuple[str, ...]:
    by_kind = candidates(contract, protected)
    return tuple(kind for kind in KINDS if by_kind[kind])


def corrupt(
    contract: Contract,
    record: dict[str, Any],
    kind: str,
    fields: Sequence[Field],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """A copy of `record` with one field broken in the way `kind` says."""
    field = fields[int(rng.integers(len(fields)))]
    broken = dict(record)
    if kind == "bad_type":
        options = _BAD_TYPE[field.type]
        broken[field.name] = options[int(rng.integers(len(options)))]
    elif kind == "out_of_range":
        broken[field.name] = _out_of_range(field, record.get(field.name))
    elif kind == "missing_required":
        if rng.random() < 0.5:
            del broken[field.name]
        else:
            broken[field.name] = "" if field.type == FieldType.STRING else None
    elif kind == "bad_format":
        broken[field.name] = _bad_format(field, record.get(field.name), rng)
    else:
        raise ValueError(f"cannot corrupt with kind {kind!r}")
    if validate_record(contract, broken).ok:
        raise AssertionError(f"{contract.name}: {kind} on {field.name} still validates")
    return broken


def _out_of_range(field: Field, value: Any) -> Any:
    integral = field.type in (FieldType.INT, FieldType.BIGINT)
    if field.maximum is not None and field.maximum >= 2000 and integral:
        return 3000 if field.maximum < 3000 else int(field.maximum) + 1  # year 3000
    if field.minimum is not None:
        size = abs(value) if isinstance(value, int | float) and not isinstance(value, bool) else 1
        below = field.minimum - 1 - size
        return int(below) if integral else round(float(below), 2)
    if field.maximum is not None:
        return int(field.maximum) * 10 + 1 if integral else float(field.maximum) * 10 + 1
    if field.type == FieldType.DOUBLE:
        return 0.3  # between the allowed rating steps
    return "unknown"


def _bad_format(field: Field, value: Any, rng: np.random.Generator) -> Any:
    if field.format is None:  # a timestamp without its time zone
        return str(value)[:19]
    options = _BAD_FORMAT[field.format]
    bad = options[int(rng.integers(len(options)))]
    if field.format == "uuid" and isinstance(value, str) and rng.random() < 0.5:
        bad = value.upper()  # some clients send upper-case UUIDs
    if field.type == FieldType.STRING_ARRAY:
        items = list(value) if isinstance(value, list) and value else []
        return [*items[:-1], bad]
    return bad
