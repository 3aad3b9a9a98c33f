"""Raw record to curated record: parse, validate, treat personal data, derive the partition.

Pure Python, one record at a time, so the Glue job (inside Spark's Arrow batches), the API and
the tests run the very same rules. Whatever fails is returned with its reason, never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from exportintel.contracts.model import Contract, Treatment
from exportintel.contracts.validation import validate_record
from exportintel.privacy import pseudonymise, scrub

SEOUL = ZoneInfo("Asia/Seoul")
CONSENT_FIELD = "cookie_consent"


@dataclass(frozen=True)
class Outcome:
    """A curated record, or the reason it was rejected and a privacy-safe view of it."""

    record: dict[str, Any] | None
    reason: str | None = None
    reason_code: str | None = None  # "<field>: <code>" of the first violation, for grouping
    safe_text: str | None = None  # the rejected record with personal data treated, as JSON


def partition_value(contract: Contract, record: dict[str, Any]) -> Any:
    """The curated partition value: a year (int), a month (yyyy-MM) or a day (yyyy-MM-dd),
    of Asia/Seoul time for timestamps."""
    if contract.partition_source is None:
        return None
    value = record[contract.partition_source]
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        value = value.astimezone(SEOUL).date()
    if contract.partition_granularity == "year":
        return value.year
    if contract.partition_granularity == "month":
        return f"{value:%Y-%m}"
    return value.isoformat()


def _treat(contract: Contract, record: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Apply each field's treatment; works on parsed and on unparsed (rejected) values."""
    consent = record.get(CONSENT_FIELD) is True
    treated: dict[str, Any] = {}
    for field in contract.fields:
        value = record.get(field.name)
        treatment = field.effective_treatment
        if treatment == Treatment.DROP:
            continue
        if treatment == Treatment.DROP_WITHOUT_CONSENT and not consent:
            value = None
        elif treatment in (Treatment.PSEUDONYMISE, Treatment.DROP_WITHOUT_CONSENT):
            value = None if value is None else pseudonymise(str(value), key)
        elif treatment == Treatment.SCRUB:
            if isinstance(value, list):
                value = [scrub(str(v)) for v in value]
            elif value is not None:
                value = scrub(str(value))
        treated[field.name] = value
    return treated


def _safe_text(contract: Contract, raw: Any, key: bytes) -> str:
    if not isinstance(raw, dict):
        return json.dumps({"unparsed": "<withheld: not a JSON object>"})
    known = _treat(contract, raw, key)
    unknown = sorted(k for k in raw if k not in contract.field_names and not k.startswith("_"))
    if unknown:
        known["_unexpected_fields"] = unknown
    return json.dumps(known, default=str, ensure_ascii=False, sort_keys=True)


def curate_line(contract: Contract, line: str, key: bytes) -> Outcome:
    """One raw JSON line to a curated record (typed, treated, with its partition value)."""
    try:
        raw = orjson.loads(line)  # strict JSON (no NaN), and several times faster than json
    except json.JSONDecodeError as error:
        return Outcome(None, f"unparseable JSON: {error.msg}", "record: unparseable",
                       _safe_text(contract, None, key))  # fmt: skip
    if not isinstance(raw, dict):
        return Outcome(None, "not a JSON object", "record: not_an_object",
                       _safe_text(contract, raw, key))  # fmt: skip
    result = validate_record(contract, raw)
    if not result.ok:
        first = result.violations[0]
        return Outcome(None, result.reason, f"{first.field}: {first.code}",
                       _safe_text(contract, raw, key))  # fmt: skip
    curated = _treat(contract, result.record, key)
    if contract.partition_key is not None:
        curated[contract.partition_key] = partition_value(contract, result.record)
    return Outcome(curated)
