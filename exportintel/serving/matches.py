"""Matches as staff see them: the stored top of a firm's list, filtered live, drawn fairly.

A request reads the firm's stored list (one item of the matches table, written by the batch
scoring), then drops what changed since the scores were computed (buyers now flagged bad
credit, pairs saved or dismissed), then draws `k` of the rest with the fair exploration of the
matching model: Gumbel top-k with temperature `explore` (0 = the plain top by score), the same
rule `exportintel.matching.exploration` applies in batch, here in plain Python with fresh noise
per request, so a refresh shows other firms from the top of the list. The drawn matches are
shown best score first.

A firm without a stored list (new since the last scoring) gets the cold-start list of its HS
chapters: counterparts that want (or offer) those chapters, with the reason said so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from boto3.dynamodb.conditions import Key

from exportintel.serving.api import BadRequest, NotFound
from exportintel.serving.store import batch_get, plain

Direction = Literal["buyers_for_exporter", "exporters_for_buyer"]
KIND_OF_QUERY = {"buyers_for_exporter": "exporter", "exporters_for_buyer": "buyer"}
KIND_OF_MATCH = {"buyers_for_exporter": "buyer", "exporters_for_buyer": "exporter"}
SCORE_FLOOR = 1e-12

COLD_REASON = {
    "buyers_for_exporter": (
        "Wants products of HS chapter {chapter}, which you export",
        "귀사의 수출 품목인 HS {chapter}류 제품을 찾는 바이어",
    ),
    "exporters_for_buyer": (
        "Exports products of HS chapter {chapter}, which you want",
        "귀사가 찾는 HS {chapter}류 제품을 수출하는 기업",
    ),
}


def list_id(direction: str, firm_id: str) -> str:
    return f"{direction}#{firm_id}"


def cold_list_id(direction: str, chapter: str) -> str:
    return f"cold#{direction}#{chapter}"


@dataclass(frozen=True)
class Tables:
    matches: Any
    firms: Any
    pair_actions: Any


def firm(firms: Any, firm_id: str, kind: str) -> dict[str, Any]:
    """The firm's profile, or 404 when no such exporter (or buyer) is known."""
    item = firms.get_item(Key={"firm_id": firm_id}).get("Item")
    if item is None or item.get("kind") != kind:
        raise NotFound(f"no {kind} with id {firm_id!r}")
    return dict(plain(item))


def dealt_with(pair_actions: Any, direction: str, firm_id: str) -> set[str]:
    """Counterparts already saved or dismissed for this pair, in either list."""
    if direction == "buyers_for_exporter":
        query: dict[str, Any] = {"KeyConditionExpression": Key("exporter_id").eq(firm_id)}
        other = "buyer_id"
    else:
        query = {"KeyConditionExpression": Key("buyer_id").eq(firm_id), "IndexName": "by_buyer"}
        other = "exporter_id"
    found: set[str] = set()
    while True:
        page = pair_actions.query(ProjectionExpression=other, **query)
        found.update(str(item[other]) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _stored(matches: Any, direction: str, firm_: dict[str, Any]) -> tuple[list[dict], dict]:
    item = matches.get_item(Key={"list_id": list_id(direction, firm_["firm_id"])}).get("Item")
    if item is not None:
        meta = {"source": "model", "model_version": item.get("model_version")}
        return list(plain(item.get("candidates", []))), meta
    # Cold start: the lists of the firm's chapters, each counterpart once at its best score.
    chapters = [str(c) for c in firm_.get("hs_chapters", [])]
    best: dict[str, dict[str, Any]] = {}
    version = None
    for chapter in chapters:
        cold = matches.get_item(Key={"list_id": cold_list_id(direction, chapter)}).get("Item")
        if cold is None:
            continue
        version = cold.get("model_version")
        english, korean = COLD_REASON[direction]
        for candidate in plain(cold.get("candidates", [])):
            if candidate["id"] in best and best[candidate["id"]]["score"] >= candidate["score"]:
                continue
            best[candidate["id"]] = {
                **candidate,
                "reason_codes": [f"cold_start:hs_chapter:{chapter}"],
                "reasons_en": [english.format(chapter=chapter)],
                "reasons_ko": [korean.format(chapter=chapter)],
            }
    ordered = sorted(best.values(), key=lambda c: (-c["score"], c["id"]))
    return ordered, {"source": "cold_start", "model_version": version, "chapters": chapters}


def draw(scores: list[float], k: int, explore: float, rng: random.Random) -> list[int]:
    """Positions of `k` draws without replacement, Gumbel top-k at temperature `explore`."""
    if not 0.0 <= explore <= 1.0:
        raise BadRequest(f"explore must be within 0..1, got {explore}")
    keys = []
    for position, score in enumerate(scores):
        key = math.log(max(score, SCORE_FLOOR))
        if explore > 0.0:
            u = min(max(rng.random(), 1e-16), 1.0 - 1e-16)
            key = key / explore - math.log(-math.log(u))
        keys.append((-key, position))
    return [position for _, position in sorted(keys)[:k]]


def _blocked(firms: Any, direction: str, ids: Iterable[str]) -> set[str]:
    """Buyers flagged bad credit now (profiles are refreshed more often than scores)."""
    if direction != "buyers_for_exporter":
        return set()
    profiles = batch_get(firms, "firm_id", list(ids), ["firm_id", "bad_credit"])
    return {i for i, p in profiles.items() if p.get("bad_credit")}


def matches(
    tables: Tables,
    direction: Direction,
    firm_id: str,
    *,
    k: int,
    explore: float,
    language: str,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """The response of `GET /exporters/{id}/matches` (or `/buyers/{id}/matches`)."""
    rng = rng or random.Random()
    query_firm = firm(tables.firms, firm_id, KIND_OF_QUERY[direction])
    candidates, meta = _stored(tables.matches, direction, query_firm)
    excluded = dealt_with(tables.pair_actions, direction, firm_id)
    excluded |= _blocked(tables.firms, direction, (c["id"] for c in candidates))
    pool = [c for c in candidates if c["id"] not in excluded]
    picked = [pool[i] for i in draw([float(c["score"]) for c in pool], k, explore, rng)]
    picked.sort(key=lambda c: (-float(c["score"]), int(c.get("rank", 0)), c["id"]))
    profiles = batch_get(
        tables.firms, "firm_id", [c["id"] for c in picked], ["firm_id", "name", "country", "region"]
    )
    kind = KIND_OF_MATCH[direction]
    reasons = "reasons_ko" if language == "ko" else "reasons_en"
    shown = []
    for position, candidate in enumerate(picked, start=1):
        profile = profiles.get(candidate["id"], {})
        shown.append(
            {
                "position": position,
                f"{kind}_id": candidate["id"],
                "name": profile.get("name"),
                "country": profile.get("country"),
                "region": profile.get("region"),
                "score": candidate["score"],
                "stored_rank": candidate.get("rank"),
                "p_exporter": candidate.get("p_exporter"),
                "p_buyer": candidate.get("p_buyer"),
                "reason_codes": candidate.get("reason_codes", []),
                "reasons": candidate.get(reasons, []),
            }
        )
    return {
        KIND_OF_QUERY[direction] + "_id": firm_id,
        "direction": direction,
        "language": language,
        "explore": explore,
        **meta,
        "pool": len(pool),
        "filtered_out": len(candidates) - len(pool),
        "matches": shown,
    }


def record_action(
    tables: Tables, exporter_id: str, buyer_id: str, action: str, *, by: str, at: str
) -> dict[str, Any]:
    """Save or dismiss a pair (both firms must exist); the last action on a pair wins."""
    firm(tables.firms, exporter_id, "exporter")
    firm(tables.firms, buyer_id, "buyer")
    item = {"exporter_id": exporter_id, "buyer_id": buyer_id, "action": action, "at": at, "by": by}
    tables.pair_actions.put_item(Item=item)
    return item
