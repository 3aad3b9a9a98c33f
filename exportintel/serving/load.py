"""Loading the serving tables from the lake: firm profiles, stored match lists, cold-start lists,
the continuity index and the risk group's profile, from the curated and derived tables of one
model version.

The pipeline's load step (and `exportintel serve` locally) calls `load_serving` with the tables
read from the curated zone. Match lists keep the explained part of each stored list (the first
`matching_explained_ranks` and every pair the batch drew): the API draws from those, so every
match it shows comes with its reasons. Cold-start lists per HS chapter rank the counterparts
that want (or offer) the chapter by their mean score across the stored lists (0 for firms the
model has not scored yet), so a new firm's first list starts from the ones most often liked.

This module is a pipeline step (pandas), never imported by the API functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from exportintel.serving.api import to_json
from exportintel.serving.continuity import META_ID, PROFILE_ID, risk_order
from exportintel.serving.matches import cold_list_id, list_id
from exportintel.serving.search import search_keys
from exportintel.serving.store import number
from exportintel.settings import LOCAL, EnvironmentSettings

# DynamoDB refuses items over 400 KB; a year's profile is about 60 rows of 250 bytes.
MAX_ITEM_BYTES = 350_000
QUERY_ID = {"buyers_for_exporter": "exporter_id", "exporters_for_buyer": "buyer_id"}
MATCH_ID = {"buyers_for_exporter": "buyer_id", "exporters_for_buyer": "exporter_id"}


@dataclass
class LoadSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        return ", ".join(f"{count:,} {what}" for what, count in self.counts.items())


def _chapters(codes: Any) -> list[str]:
    if codes is None or (isinstance(codes, float) and pd.isna(codes)):
        return []
    return sorted({str(code)[:2] for code in codes if code is not None and len(str(code)) >= 2})


def _main_chapter(codes: Any) -> str | None:
    """The chapter of the first listed HS code (the market model's main chapter)."""
    if codes is None or (isinstance(codes, float) and pd.isna(codes)) or len(codes) == 0:
        return None
    first = str(codes[0])
    return first[:2] if len(first) >= 2 else None


def firm_items(exporters: pd.DataFrame, buyers: pd.DataFrame) -> list[dict[str, Any]]:
    """Profiles of every exporter and buyer: what the API checks, shows and searches. An
    exporter's main HS chapter picks its cold-start market suggestions."""
    items: list[dict[str, Any]] = []
    for row in exporters.itertuples(index=False):
        items.append(
            {
                "firm_id": row.firm_id,
                "kind": "exporter",
                "name": row.firm_name,
                "region": row.region if isinstance(row.region, str) else None,
                "hs_chapters": _chapters(row.hs_codes),
                "hs_chapter": _main_chapter(row.hs_codes),
            }
        )
    for row in buyers.itertuples(index=False):
        items.append(
            {
                "firm_id": row.buyer_id,
                "kind": "buyer",
                "name": row.buyer_name,
                "country": row.country_code,
                "hs_chapters": _chapters(row.hs_codes_wanted),
                "bad_credit": bool(row.bad_credit),
            }
        )
    return [
        {
            **{k: v for k, v in item.items() if v is not None},
            **search_keys(item["name"], item["firm_id"]),
        }
        for item in items
    ]


def _texts(value: Any) -> list[str]:
    return [] if value is None else [str(v) for v in value]


def _candidate(row: Mapping[str, Any], match_key: str) -> dict[str, Any]:
    return {
        "id": row[match_key],
        "rank": int(row["rank"]),
        "score": number(row["score"]),
        "p_exporter": number(row["p_exporter"]),
        "p_buyer": number(row["p_buyer"]),
        "reason_codes": _texts(row["reason_codes"]),
        "reasons_en": _texts(row["reasons_en"]),
        "reasons_ko": _texts(row["reasons_ko"]),
    }


def latest_version(frame: pd.DataFrame) -> str:
    """The newest model version in a table (versions sort by their timestamp prefix)."""
    if frame.empty:
        raise ValueError("the table is empty: nothing to load")
    return str(sorted(frame["model_version"].astype(str).unique())[-1])


def match_items(recommendations: pd.DataFrame) -> list[dict[str, Any]]:
    """One item per firm and direction: the explained candidates of its stored list."""
    version = latest_version(recommendations)
    rows = recommendations[recommendations["model_version"] == version]
    explained = rows[rows["reason_codes"].map(lambda codes: codes is not None and len(codes) > 0)]
    items = []
    for direction, part in explained.groupby("direction", sort=True):
        query_key, match_key = QUERY_ID[str(direction)], MATCH_ID[str(direction)]
        for firm_id, group in part.sort_values("rank").groupby(query_key, sort=True):
            items.append(
                {
                    "list_id": list_id(str(direction), str(firm_id)),
                    "model_version": version,
                    "candidates": [_candidate(r, match_key) for r in group.to_dict("records")],
                }
            )
    return items


def cold_items(
    recommendations: pd.DataFrame, firms: Iterable[Mapping[str, Any]], size: int
) -> list[dict[str, Any]]:
    """Per direction and HS chapter, the counterparts of that chapter by mean stored score."""
    version = latest_version(recommendations)
    rows = recommendations[recommendations["model_version"] == version]
    by_kind: dict[str, list[Mapping[str, Any]]] = {"exporter": [], "buyer": []}
    for item in firms:
        if not item.get("bad_credit"):
            by_kind[str(item["kind"])].append(item)
    items = []
    for direction, kind in (("buyers_for_exporter", "buyer"), ("exporters_for_buyer", "exporter")):
        match_key = MATCH_ID[direction]
        part = rows[rows["direction"] == direction]
        mean = part.groupby(match_key)["score"].mean().to_dict()
        chapters: dict[str, list[tuple[float, str]]] = {}
        for item in by_kind[kind]:
            for chapter in item.get("hs_chapters", []):
                chapters.setdefault(chapter, []).append(
                    (float(mean.get(item["firm_id"], 0.0)), item["firm_id"])
                )
        for chapter, scored in sorted(chapters.items()):
            best = sorted(scored, key=lambda s: (-s[0], s[1]))[:size]
            items.append(
                {
                    "list_id": cold_list_id(direction, chapter),
                    "model_version": version,
                    "candidates": [
                        {"id": firm_id, "rank": rank, "score": number(score)}
                        for rank, (score, firm_id) in enumerate(best, start=1)
                    ],
                }
            )
    return items


def continuity_items(
    index: pd.DataFrame, status: pd.DataFrame | None, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One item per firm-year of the newest model version, and the `_meta` item."""
    version = latest_version(index)
    rows = index[index["model_version"] == version].copy()
    if status is not None and not status.empty:
        statuses = status.set_index(["firm_id", "year"])["status"].to_dict()
        rows["status"] = [
            statuses.get((f, int(y))) for f, y in zip(rows["firm_id"], rows["year"], strict=True)
        ]
    items = []
    for row in rows.to_dict("records"):
        value = float(row["continuity_index"])
        item: dict[str, Any] = {
            "firm_id": row["firm_id"],
            "year": int(row["year"]),
            "name": names.get(row["firm_id"]),
            "continuity_index": number(value),
            "risk_group": bool(row["risk_group"]),
            "status": row.get("status"),
            "model_version": version,
            "region": row.get("region"),
            "hs_chapter": row.get("hs_chapter"),
            "size_band": row.get("size_band"),
            "risk_factors": _texts(row.get("risk_factors")),
            "risk_factors_en": _texts(row.get("risk_factors_en")),
            "risk_factors_ko": _texts(row.get("risk_factors_ko")),
        }
        if item["risk_group"]:
            item["risk_year"] = item["year"]
            item["risk_order"] = risk_order(value, row["firm_id"])
        items.append({k: v for k, v in item.items() if v is not None and not _is_nan(v)})
    latest = int(rows["year"].max())
    items.append({"firm_id": META_ID, "year": 0, "latest_year": latest, "model_version": version})
    return items


def _profile_value(value: Any) -> Any:
    """A statistic as DynamoDB takes it: unknown (None, NaN) as null, numbers as Decimals."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return number(value)
    if hasattr(value, "item"):  # a numpy scalar
        return _profile_value(value.item())
    return str(value)


def profile_items(profile: pd.DataFrame) -> list[dict[str, Any]]:
    """One `_profile` item per year of the newest model version: the `continuity_group_profile`
    rows of that year (without the year and version, which the item carries)."""
    version = latest_version(profile)
    rows = profile[profile["model_version"].astype(str) == version]
    items = []
    for year, part in rows.groupby("year", sort=True):
        item = {
            "firm_id": PROFILE_ID,
            "year": int(year),
            "model_version": version,
            "rows": [
                {k: _profile_value(v) for k, v in row.items() if k not in ("year", "model_version")}
                for row in part.to_dict("records")
            ],
        }
        size = len(to_json(item).encode("utf-8"))
        if size > MAX_ITEM_BYTES:
            raise ValueError(f"the group profile of {year} is {size:,} bytes: too big for an item")
        items.append(item)
    return items


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def write_items(table: Any, items: Iterable[dict[str, Any]]) -> int:
    """Put every item (batched by boto3's writer, unprocessed items retried)."""
    count = 0
    with table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)
            count += 1
    return count


def load_matching_serving(
    tables: Mapping[str, Any],
    *,
    exporters: pd.DataFrame,
    buyers: pd.DataFrame,
    recommendations: pd.DataFrame | None,
    settings: EnvironmentSettings = LOCAL,
) -> LoadSummary:
    """The firm profiles, the stored match lists and the cold-start lists."""
    summary = LoadSummary()
    firms = firm_items(exporters, buyers)
    summary.counts["firm profiles"] = write_items(tables["firms"], firms)
    if recommendations is not None and not recommendations.empty:
        summary.counts["match lists"] = write_items(tables["matches"], match_items(recommendations))
        cold = cold_items(recommendations, firms, settings.matching_candidates)
        summary.counts["cold-start lists"] = write_items(tables["matches"], cold)
    return summary


def load_continuity_serving(
    tables: Mapping[str, Any],
    *,
    exporters: pd.DataFrame,
    buyers: pd.DataFrame,
    continuity_index: pd.DataFrame | None,
    export_status: pd.DataFrame | None = None,
    group_profile: pd.DataFrame | None = None,
) -> LoadSummary:
    """The continuity index's rows of its newest version (with the firms' names), and the
    risk group's profile per year (`continuity_group_profile` rows) when given."""
    summary = LoadSummary()
    if continuity_index is not None and not continuity_index.empty:
        names = {str(f["firm_id"]): str(f.get("name", "")) for f in firm_items(exporters, buyers)}
        items = continuity_items(continuity_index, export_status, names)
        summary.counts["continuity rows"] = write_items(tables["continuity"], items)
    if group_profile is not None and not group_profile.empty:
        profiles = profile_items(group_profile)
        summary.counts["group profiles"] = write_items(tables["continuity"], profiles)
    return summary


def load_serving(
    tables: Mapping[str, Any],
    *,
    exporters: pd.DataFrame,
    buyers: pd.DataFrame,
    recommendations: pd.DataFrame | None,
    continuity_index: pd.DataFrame | None,
    export_status: pd.DataFrame | None = None,
    group_profile: pd.DataFrame | None = None,
    settings: EnvironmentSettings = LOCAL,
) -> LoadSummary:
    """Write the serving tables (`tables`: role -> boto3 Table) from the lake's tables."""
    summary = load_matching_serving(
        tables,
        exporters=exporters,
        buyers=buyers,
        recommendations=recommendations,
        settings=settings,
    )
    continuity = load_continuity_serving(
        tables,
        exporters=exporters,
        buyers=buyers,
        continuity_index=continuity_index,
        export_status=export_status,
        group_profile=group_profile,
    )
    summary.counts.update(continuity.counts)
    return summary
