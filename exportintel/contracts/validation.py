"""Record validation against a contract, with a reason for every rejection.

Pure Python over one decoded JSON record, so the Glue jobs, the API and the tests share it.
A record that fails is never dropped silently: callers quarantine it with the reasons.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exportintel.contracts.formats import FORMATS
from exportintel.contracts.model import Contract, Field, FieldType, PiiClass


@dataclass(frozen=True)
class Violation:
    """Why a field broke its contract: a stable code for grouping and a readable message."""

    field: str
    code: str  # missing_required | bad_type | out_of_range | not_allowed | bad_format
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.code}: {self.message}"


@dataclass(frozen=True)
class Result:
    record: dict[str, Any]  # the parsed values (dates as date, timestamps as datetime)
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def reason(self) -> str:
        return "; ".join(str(v) for v in self.violations)


class _BadValue(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_int(value: Any) -> int:
    # bool is an int subclass in Python; a JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadValue("bad_type", f"expected an integer, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise _BadValue("bad_type", f"expected an integer, got {value!r}")
    return int(value)


def _parse_double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadValue("bad_type", f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise _BadValue("bad_type", f"expected a finite number, got {value!r}")
    return float(value)


def _parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise _BadValue("bad_type", f"expected a yyyy-MM-dd date, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _BadValue("bad_type", f"expected a yyyy-MM-dd date, got {value!r}") from None


def _parse_timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise _BadValue("bad_type", f"expected an ISO 8601 timestamp, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _BadValue("bad_type", f"expected an ISO 8601 timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        raise _BadValue("bad_format", f"timestamp {value!r} has no time zone")
    return parsed.astimezone(dt.UTC)


def _parse_string(value: Any) -> str:
    if not isinstance(value, str):
        raise _BadValue("bad_type", f"expected text, got {value!r}")
    return value


def _parse_string_array(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadValue("bad_type", f"expected a list of text, got {value!r}")
    return list(value)


def _parse_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _BadValue("bad_type", f"expected true or false, got {value!r}")
    return value


_PARSERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.STRING: _parse_string,
    FieldType.INT: _parse_int,
    FieldType.BIGINT: _parse_int,
    FieldType.DOUBLE: _parse_double,
    FieldType.BOOLEAN: _parse_bool,
    FieldType.DATE: _parse_date,
    FieldType.TIMESTAMP: _parse_timestamp,
    FieldType.STRING_ARRAY: _parse_string_array,
}

INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)


def parse_value(field: Field, value: Any) -> Any:
    """Parse one value or raise `_BadValue` with the reason; None only for optional fields."""
    parsed = _PARSERS[field.type](value)
    if field.type in (FieldType.INT, FieldType.BIGINT):
        low, high = INT32_RANGE if field.type == FieldType.INT else INT64_RANGE
        if not low <= parsed <= high:
            raise _BadValue("out_of_range", f"{parsed} does not fit a {field.type}")
    if field.minimum is not None and parsed < field.minimum:
        raise _BadValue("out_of_range", f"{parsed} is below the minimum {field.minimum:g}")
    if field.maximum is not None and parsed > field.maximum:
        raise _BadValue("out_of_range", f"{parsed} is above the maximum {field.maximum:g}")
    if field.allowed is not None and parsed not in field.allowed:
        raise _BadValue("not_allowed", f"{parsed!r} is not one of {list(field.allowed)}")
    if field.format is not None:
        fmt = FORMATS[field.format]
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            if not fmt.check(item):
                raise _BadValue("bad_format", f"{item!r} is not a {fmt.description}")
    return parsed


# Rejection reasons are stored and shown to analysts: they never quote these fields' values.
PERSONAL = frozenset({PiiClass.DIRECT, PiiClass.QUASI, PiiClass.FREE_TEXT})


def _redacted(field: Field, code: str) -> str:
    what = {
        "bad_type": f"is not a valid {field.type}",
        "bad_format": f"is not a {FORMATS[field.format].description}" if field.format else "",
        "out_of_range": "is out of range",
        "not_allowed": "is not an allowed value",
    }.get(code, "is invalid")
    return f"the value (withheld: personal data) {what}"


def validate_record(contract: Contract, record: Mapping[str, Any]) -> Result:
    """Check every declared field of one record; fields not in the contract are ignored."""
    parsed: dict[str, Any] = {}
    violations: list[Violation] = []
    for field in contract.fields:
        value = record.get(field.name)
        if value is None or (isinstance(value, str) and value == "" and field.required):
            if field.required:
                violations.append(Violation(field.name, "missing_required", "value is required"))
            parsed[field.name] = None
            continue
        try:
            parsed[field.name] = parse_value(field, value)
        except _BadValue as bad:
            message = _redacted(field, bad.code) if field.pii in PERSONAL else str(bad)
            violations.append(Violation(field.name, bad.code, message))
            parsed[field.name] = None
    return Result(parsed, tuple(violations))
