"""Continuity as staff read it: one firm's index over the years, and the risk group by page.

The continuity table holds one item per firm-year (the latest scoring of each year), a
`_meta` item naming the latest scored year and, per year, a `_profile` item: the risk group
against continuing firms (the `continuity_group_profile` rows of that year). Risk-group rows
also carry `risk_year` and `risk_order` (the index, zero-padded, then the firm id), the keys of
the sparse `risk_group` index, so a page of the risk group is one query in order of risk, most
at risk first.

Pages: the cursor is the index's last evaluated key, base64url JSON, checked on the way back
in (right keys and types, same year), so a tampered or stale cursor is a 400, not a scan from
somewhere else. HS chapter, region and size-band filters are applied by DynamoDB as it reads,
and a page keeps reading until it has `limit` rows or the group ends.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from exportintel.serving.api import BadRequest, NotFound
from exportintel.serving.store import plain

META_ID = "_meta"
PROFILE_ID = "_profile"
RESERVED_IDS = (META_ID, PROFILE_ID)
RISK_INDEX = "risk_group"
MAX_PAGE = 500
_CURSOR_KEYS = {"firm_id": str, "year": int, "risk_year": int, "risk_order": str}
CSV_COLUMNS = (
    "firm_id",
    "name",
    "year",
    "continuity_index",
    "status",
    "region",
    "hs_chapter",
    "size_band",
    "risk_factors",
    "model_version",
)


def risk_order(index: float, firm_id: str) -> str:
    """Sorts as the index, then the firm id (lexicographic order of a fixed-width number)."""
    return f"{index:.6f}#{firm_id}"


def _factors(item: dict[str, Any], language: str) -> list[str]:
    return list(item.get(f"risk_factors_{language}") or item.get("risk_factors") or [])


def _year_row(item: dict[str, Any], language: str) -> dict[str, Any]:
    return {
        "year": item["year"],
        "continuity_index": item.get("continuity_index"),
        "risk_group": bool(item.get("risk_group")),
        "status": item.get("status"),
        "risk_factor_codes": item.get("risk_factors", []),
        "risk_factors": _factors(item, language),
        "model_version": item.get("model_version"),
    }


def firm_continuity(table: Any, firm_id: str, *, language: str) -> dict[str, Any]:
    """`GET /firms/{id}/continuity`: the latest year in full and the yearly history."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"KeyConditionExpression": Key("firm_id").eq(firm_id)}
    while True:
        page = table.query(ScanIndexForward=False, **query)
        items.extend(plain(page.get("Items", [])))
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if firm_id in RESERVED_IDS or not items:
        raise NotFound(f"no continuity index for firm {firm_id!r}")
    latest = items[0]
    return {
        "firm_id": firm_id,
        "name": latest.get("name"),
        "region": latest.get("region"),
        "hs_chapter": latest.get("hs_chapter"),
        "size_band": latest.get("size_band"),
        "language": language,
        "latest": _year_row(latest, language),
        "history": [_year_row(i, language) for i in reversed(items)],
    }


def latest_year(table: Any) -> int:
    item = table.get_item(Key={"firm_id": META_ID, "year": 0}).get("Item")
    if item is None:
        raise NotFound("no continuity index has been loaded yet")
    return int(item["latest_year"])


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(plain(key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, year: int) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise BadRequest("cursor is not one this API gave out") from error
    if (
        not isinstance(key, dict)
        or set(key) != set(_CURSOR_KEYS)
        or any(type(key[name]) is not kind for name, kind in _CURSOR_KEYS.items())
    ):
        raise BadRequest("cursor is not one this API gave out")
    if key["risk_year"] != year or key["year"] != year:
        raise BadRequest(f"cursor belongs to another year than {year}")
    return key


def risk_group(
    table: Any,
    *,
    year: int | None,
    hs_chapter: str | None,
    region: str | None,
    limit: int,
    cursor: str | None,
    language: str,
    size_band: str | None = None,
) -> dict[str, Any]:
    """One page of the risk group of `year` (the latest by default), most at risk first."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be within 1..{MAX_PAGE}")
    year = latest_year(table) if year is None else year
    query: dict[str, Any] = {
        "IndexName": RISK_INDEX,
        "KeyConditionExpression": Key("risk_year").eq(year),
    }
    filters = []
    if hs_chapter:
        filters.append(Attr("hs_chapter").eq(hs_chapter))
    if region:
        filters.append(Attr("region").eq(region))
    if size_band:
        filters.append(Attr("size_band").eq(size_band))
    if filters:
        condition = filters[0]
        for other in filters[1:]:
            condition = condition & other
        query["FilterExpression"] = condition
    if cursor:
        query["ExclusiveStartKey"] = decode_cursor(cursor, year)
    rows: list[dict[str, Any]] = []
    next_key = None
    while len(rows) < limit:
        page = table.query(Limit=limit - len(rows), **query)
        rows.extend(plain(page.get("Items", [])))
        next_key = page.get("LastEvaluatedKey")
        if next_key is None:
            break
        query["ExclusiveStartKey"] = next_key
    firms = [
        {
            "firm_id": r["firm_id"],
            "name": r.get("name"),
            "region": r.get("region"),
            "hs_chapter": r.get("hs_chapter"),
            "size_band": r.get("size_band"),
            **_year_row(r, language),
        }
        for r in rows
    ]
    return {
        "year": year,
        "filters": {"hs_chapter": hs_chapter, "region": region, "size_band": size_band},
        "count": len(firms),
        "firms": firms,
        "next_cursor": encode_cursor(next_key) if next_key else None,
    }


def group_profile(table: Any, *, year: int | None) -> dict[str, Any]:
    """`GET /risk-group/profile`: the risk group against continuing firms in `year` (the
    latest by default), one row per group and variable."""
    year = latest_year(table) if year is None else year
    item = table.get_item(Key={"firm_id": PROFILE_ID, "year": year}).get("Item")
    if item is None:
        raise NotFound(f"no risk-group profile for {year}")
    profile = plain(item)
    return {"year": year, "model_version": profile.get("model_version"), "rows": profile["rows"]}


def _cell(value: Any) -> str:
    text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    # A cell a spreadsheet would run as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def risk_group_csv(page: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for firm in page["firms"]:
        writer.writerow([_cell(firm.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
