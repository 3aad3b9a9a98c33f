"""Market suggestions as staff read them, and the items of the markets table they come from.

The markets load step writes one item per exporter scored by the market model (its top
countries with score, evidence terms and reasons in both languages, and the countries it
exports to already), one cold-start item per main HS chapter and size band (`_cold#<hs2>#<size
band>`, a firm with no history) and `_meta`, the scoring's as-of year and model version.
`market_items` builds them from the scoring job's three frames.

`GET /firms/{id}/markets` reads the exporter's item. An exporter that joined after the last
scoring has none: it gets the cold-start item of its main HS chapter and size band (from the
firms table; an unknown size counts as small, as in the model), said so by `source`. A buyer,
an unknown id or a table the model has not filled yet is a 404 that says which.

The read side is plain Python (the API functions carry no pandas); `market_items` takes the
frames without importing pandas itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.serving.api import NotFound
from exportintel.serving.store import number, plain

if TYPE_CHECKING:
    import pandas as pd

META_ID = "_meta"
COLD_PREFIX = "_cold"  # as exportintel.markets.scoring names the cold-start rows
DEFAULT_SIZE_BAND = "small"  # the model's band for a firm of unknown size


def cold_id(hs_chapter: str, size_band: str) -> str:
    """The key of the cold-start suggestions of a main HS chapter and size band."""
    return f"{COLD_PREFIX}#{hs_chapter}#{size_band}"


def _missing(value: Any) -> bool:
    """None, NaN or pandas' NA (whose truth is an error)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


def _texts(value: Any) -> list[str]:
    """A list column's cell (a list or numpy array) as a list of strings."""
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _suggestion(row: Mapping[str, Any]) -> dict[str, Any]:
    terms = {}
    for term in EVIDENCE_TERMS:
        value: Any = row.get(f"{term}_term")
        if not _missing(value) and math.isfinite(float(value)):
            terms[term] = number(float(value))
    return {
        "rank": int(row["rank"]),
        "country_code": str(row["country_code"]),
        "score": number(float(row["score"])),
        "reasons_en": _texts(row.get("reasons_en")),
        "reasons_ko": _texts(row.get("reasons_ko")),
        "terms": terms,
    }


def _firm_items(
    rows: Iterable[Mapping[str, Any]],
    current: Mapping[str, list[str]],
    *,
    version: str,
    as_of_year: int,
) -> list[dict[str, Any]]:
    by_firm: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if str(row["model_version"]) != version:
            raise ValueError(
                f"a suggestion of {row['firm_id']} is of model version {row['model_version']!r}, "
                f"not {version!r}: the frames must come from one scoring"
            )
        by_firm.setdefault(str(row["firm_id"]), []).append(row)
    items = []
    for firm_id, firm_rows in sorted(by_firm.items()):
        firm_rows.sort(key=lambda r: int(r["rank"]))
        first = firm_rows[0]
        item: dict[str, Any] = {
            "firm_id": firm_id,
            "as_of_year": int(as_of_year),
            "model_version": version,
            "hs_chapter": None if _missing(first.get("hs_chapter")) else str(first["hs_chapter"]),
            "size_band": None if _missing(first.get("size_band")) else str(first["size_band"]),
            "novice": bool(first.get("novice")),
            "current_markets": current.get(firm_id, []),
            "suggestions": [_suggestion(r) for r in firm_rows],
        }
        items.append({k: v for k, v in item.items() if v is not None})
    return items


def market_items(
    suggestions: pd.DataFrame,
    cold_start: pd.DataFrame,
    current_markets: pd.DataFrame,
    *,
    version: str,
    as_of_year: int,
) -> list[dict[str, Any]]:
    """The items of the markets table from one scoring: `suggestions.parquet`,
    `cold_start.parquet` (firm ids `_cold#<hs2>#<size band>`) and `current_markets.parquet`
    (firm_id, country_code), then `_meta`."""
    current: dict[str, list[str]] = {}
    for row in current_markets[["firm_id", "country_code"]].to_dict("records"):
        current.setdefault(str(row["firm_id"]), []).append(str(row["country_code"]))
    current = {firm: sorted(set(codes)) for firm, codes in current.items()}
    items = _firm_items(
        suggestions.to_dict("records"), current, version=version, as_of_year=as_of_year
    )
    cold = _firm_items(cold_start.to_dict("records"), {}, version=version, as_of_year=as_of_year)
    for item in cold:
        if not item["firm_id"].startswith(f"{COLD_PREFIX}#"):
            raise ValueError(f"a cold-start row has firm id {item['firm_id']!r}, not _cold#...")
        item["novice"] = True
    meta = {"firm_id": META_ID, "as_of_year": int(as_of_year), "model_version": version}
    return [*items, *cold, meta]


# --- the route --------------------------------------------------------------------------------


def _reply(
    item: dict[str, Any], firm: dict[str, Any], *, source: str, language: str
) -> dict[str, Any]:
    return {
        "firm_id": firm["firm_id"],
        "name": firm.get("name"),
        "language": language,
        "as_of_year": item.get("as_of_year"),
        "model_version": item.get("model_version"),
        "hs_chapter": item.get("hs_chapter"),
        "size_band": item.get("size_band"),
        "novice": bool(item.get("novice")) or source == "cold_start",
        "source": source,
        "current_markets": list(item.get("current_markets") or []) if source == "scored" else [],
        "markets": [
            {
                "rank": s.get("rank"),
                "country_code": s.get("country_code"),
                "score": s.get("score"),
                "reasons": list(s.get(f"reasons_{language}") or s.get("reasons_en") or []),
                "reasons_en": list(s.get("reasons_en") or []),
                "reasons_ko": list(s.get("reasons_ko") or []),
                "terms": dict(s.get("terms") or {}),
            }
            for s in sorted(item.get("suggestions") or [], key=lambda s: s.get("rank", 0))
        ],
    }


def _get(table: Any, firm_id: str) -> dict[str, Any] | None:
    item = table.get_item(Key={"firm_id": firm_id}).get("Item")
    return None if item is None else dict(plain(item))


def _main_chapter(firm: Mapping[str, Any]) -> str | None:
    """The firm's main HS chapter: that of its first listed code, else its lowest chapter."""
    if firm.get("hs_chapter"):
        return str(firm["hs_chapter"])
    chapters = firm.get("hs_chapters") or []
    return str(chapters[0]) if chapters else None


def firm_markets(markets: Any, firms: Any, firm_id: str, *, language: str) -> dict[str, Any]:
    """`GET /firms/{id}/markets`: the exporter's suggestions, or the cold-start ones of its
    main HS chapter and size band when it joined after the last scoring."""
    firm = None if firm_id.startswith("BUY") else _get(firms, firm_id)
    if firm_id.startswith("BUY") or (firm is not None and firm.get("kind") == "buyer"):
        raise NotFound(f"market suggestions are for exporters; {firm_id} is a buyer")
    if firm is None or firm.get("kind") != "exporter":
        raise NotFound(f"no exporter {firm_id}")
    item = _get(markets, firm_id)
    if item is not None:
        return _reply(item, firm, source="scored", language=language)
    if _get(markets, META_ID) is None:
        raise NotFound("no market suggestions yet: the markets model has not scored")
    chapter = _main_chapter(firm)
    if chapter is None:
        raise NotFound(f"no market suggestions for {firm_id}: it lists no HS code")
    band = str(firm.get("size_band") or DEFAULT_SIZE_BAND)
    cold = _get(markets, cold_id(chapter, band))
    if cold is None and band != DEFAULT_SIZE_BAND:
        cold = _get(markets, cold_id(chapter, DEFAULT_SIZE_BAND))
    if cold is None:
        raise NotFound(
            f"no market suggestions for {firm_id}: it joined after the last scoring and no "
            f"exporter of its HS chapter {chapter} was scored"
        )
    return _reply(cold, firm, source="cold_start", language=language)
