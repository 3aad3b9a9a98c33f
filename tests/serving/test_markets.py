"""Market suggestions: the markets table's items from the scoring's frames, and
`GET /firms/{id}/markets` over them (scored, cold start, and every refusal with its message)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exportintel.contracts.markets import EVIDENCE_TERMS, MARKET_SUGGESTIONS, SUGGESTION_COUNT
from exportintel.markets.scoring import COLD_PREFIX, OUTPUT_COLUMNS, cold_firm_id
from exportintel.serving import markets
from exportintel.serving.load import firm_items, write_items
from tests.serving.events import invoke, rest_event
from tests.serving.world import (
    COLD_SUGGESTED,
    MARKETS_VERSION,
    MARKETS_YEAR,
    SUGGESTED,
    World,
    market_frames,
)

NO_BUYERS = pd.DataFrame(
    columns=["buyer_id", "buyer_name", "country_code", "hs_codes_wanted", "bad_credit"]
)


def get_markets(firm_id: str, language: str = "en") -> tuple[int, Any]:
    event = rest_event(
        "GET",
        "/firms/{firm_id}/markets",
        f"/firms/{firm_id}/markets",
        path_parameters={"firm_id": firm_id},
        headers={"Accept-Language": language},
    )
    status, body, _ = invoke("continuity", event)
    return status, body


# --- the items ------------------------------------------------------------------------------


def items_by_id() -> dict[str, dict[str, Any]]:
    suggestions, cold, current = market_frames()
    built = markets.market_items(
        suggestions, cold, current, version=MARKETS_VERSION, as_of_year=MARKETS_YEAR
    )
    return {item["firm_id"]: item for item in built}


def test_the_frames_have_the_columns_the_scoring_writes() -> None:
    suggestions, cold, _ = market_frames()
    assert list(suggestions.columns) == list(OUTPUT_COLUMNS) == list(cold.columns)
    assert set(OUTPUT_COLUMNS) == {f.name for f in MARKET_SUGGESTIONS.fields}


def test_one_item_per_exporter_and_cold_start_list_and_the_meta_item() -> None:
    items = items_by_id()
    cold_ids = {markets.cold_id(chapter, band) for chapter, band in COLD_SUGGESTED}
    assert set(items) == set(SUGGESTED) | cold_ids | {markets.META_ID}
    assert items[markets.META_ID] == {
        "firm_id": "_meta",
        "as_of_year": MARKETS_YEAR,
        "model_version": MARKETS_VERSION,
    }
    # The reserved ids are the scoring's own.
    assert markets.COLD_PREFIX == COLD_PREFIX
    assert markets.cold_id("85", "small") == cold_firm_id("85", "small") == "_cold#85#small"


def test_an_exporters_item_holds_its_suggestions_in_rank_order_with_decimals() -> None:
    item = items_by_id()["EXP000001"]
    assert item["as_of_year"] == MARKETS_YEAR and item["model_version"] == MARKETS_VERSION
    assert (item["hs_chapter"], item["size_band"], item["novice"]) == ("85", "small", False)
    assert item["current_markets"] == ["CHN", "USA"]
    suggestions = item["suggestions"]
    assert [s["rank"] for s in suggestions] == list(range(1, SUGGESTION_COUNT + 1))
    assert [s["country_code"] for s in suggestions] == SUGGESTED["EXP000001"]
    first = suggestions[0]
    assert first["score"] == Decimal("0.35") and isinstance(first["score"], Decimal)
    assert set(first["terms"]) == set(EVIDENCE_TERMS)
    assert all(isinstance(v, Decimal) for v in first["terms"].values())
    assert first["terms"]["demand"] == Decimal("-0.2")
    assert first["reasons_en"] == ["Korea's exports of HS 85 to VNM are large"]
    assert first["reasons_ko"] == ["HS 85류의 VNM 수출 규모가 큼"]


def test_cold_start_items_are_novices_without_current_markets() -> None:
    item = items_by_id()["_cold#85#medium"]
    assert (item["hs_chapter"], item["size_band"], item["novice"]) == ("85", "medium", True)
    assert item["current_markets"] == []
    assert [s["country_code"] for s in item["suggestions"]] == COLD_SUGGESTED[("85", "medium")]


def test_parquet_shaped_cells_are_taken_as_they_come() -> None:
    """Lists read back from parquet are numpy arrays; a missing size band and a NaN term are
    left out of the item rather than written as NaN."""
    suggestions, cold, current = market_frames()
    suggestions = suggestions.sort_values("rank", ascending=False)  # any order
    suggestions["reasons_en"] = suggestions["reasons_en"].map(np.array)
    suggestions["size_band"] = suggestions["size_band"].astype(object)
    suggestions.loc[suggestions["firm_id"] == "EXP000002", "size_band"] = None
    suggestions.loc[suggestions["firm_id"] == "EXP000002", "fx_term"] = np.nan
    items = {
        i["firm_id"]: i
        for i in markets.market_items(
            suggestions, cold, current, version=MARKETS_VERSION, as_of_year=MARKETS_YEAR
        )
    }
    novice = items["EXP000002"]
    assert "size_band" not in novice and novice["novice"] is True
    assert novice["current_markets"] == []
    assert [s["rank"] for s in novice["suggestions"]] == [1, 2, 3, 4, 5]
    assert all("fx" not in s["terms"] for s in novice["suggestions"])
    assert items["EXP000001"]["suggestions"][0]["reasons_en"] == [
        "Korea's exports of HS 85 to VNM are large"
    ]


def test_rows_of_another_version_or_a_stray_cold_id_are_refused() -> None:
    suggestions, cold, current = market_frames()
    with pytest.raises(ValueError, match="model version 'old'"):
        markets.market_items(
            suggestions.assign(model_version="old"),
            cold,
            current,
            version=MARKETS_VERSION,
            as_of_year=MARKETS_YEAR,
        )
    with pytest.raises(ValueError, match="not _cold"):
        markets.market_items(
            suggestions,
            cold.assign(firm_id="EXP000009"),
            current,
            version=MARKETS_VERSION,
            as_of_year=MARKETS_YEAR,
        )


def test_the_main_chapter_of_an_exporter_is_that_of_its_first_code() -> None:
    exporters = pd.DataFrame(
        {
            "firm_id": ["EXP000010", "EXP000011"],
            "firm_name": ["A", "B"],
            "region": ["Seoul", None],
            "hs_codes": [["330499", "190590"], []],
        }
    )
    first, empty = firm_items(exporters, NO_BUYERS)
    assert first["hs_chapter"] == "33" and first["hs_chapters"] == ["19", "33"]
    assert "hs_chapter" not in empty


# --- the route ------------------------------------------------------------------------------


def test_a_scored_exporter_gets_its_five_markets_with_reasons_in_its_language(
    world: World,
) -> None:
    status, body = get_markets("EXP000001")
    assert status == 200, body
    assert body["source"] == "scored"
    assert (body["firm_id"], body["name"]) == ("EXP000001", "Hanbit Electronics")
    assert (body["as_of_year"], body["model_version"]) == (MARKETS_YEAR, MARKETS_VERSION)
    assert (body["hs_chapter"], body["size_band"], body["novice"]) == ("85", "small", False)
    assert body["current_markets"] == ["CHN", "USA"]
    shown = body["markets"]
    assert [m["country_code"] for m in shown] == SUGGESTED["EXP000001"]
    assert [m["rank"] for m in shown] == [1, 2, 3, 4, 5]
    assert shown[0]["score"] == pytest.approx(0.35)
    assert shown[0]["reasons"] == ["Korea's exports of HS 85 to VNM are large"]
    assert set(shown[0]["terms"]) == set(EVIDENCE_TERMS)
    assert not set(body["current_markets"]) & {m["country_code"] for m in shown}

    status, korean = get_markets("EXP000001", language="ko")
    assert status == 200 and korean["language"] == "ko"
    assert korean["markets"][0]["reasons"] == ["HS 85류의 VNM 수출 규모가 큼"]


def test_a_novice_is_said_to_be_one(world: World) -> None:
    status, body = get_markets("EXP000002")
    assert status == 200 and body["source"] == "scored"
    assert body["novice"] is True and body["hs_chapter"] == "19"
    assert body["current_markets"] == []


def test_an_exporter_that_joined_after_the_scoring_gets_its_chapters_cold_start(
    world: World,
) -> None:
    status, body = get_markets("EXP000003")  # HS 851712, size unknown: small
    assert status == 200, body
    assert body["source"] == "cold_start" and body["firm_id"] == "EXP000003"
    assert (body["hs_chapter"], body["size_band"], body["novice"]) == ("85", "small", True)
    assert [m["country_code"] for m in body["markets"]] == COLD_SUGGESTED[("85", "small")]
    assert body["current_markets"] == []
    assert body["model_version"] == MARKETS_VERSION


def test_the_cold_start_follows_a_known_size_band(world: World) -> None:
    world.tables["firms"].update_item(
        Key={"firm_id": "EXP000003"},
        UpdateExpression="SET size_band = :band",
        ExpressionAttributeValues={":band": "medium"},
    )
    status, body = get_markets("EXP000003")
    assert status == 200 and body["size_band"] == "medium"
    assert [m["country_code"] for m in body["markets"]] == COLD_SUGGESTED[("85", "medium")]


def test_a_chapter_nobody_was_scored_in_is_a_404_that_says_so(world: World) -> None:
    exporters = pd.DataFrame(
        {
            "firm_id": ["EXP000020"],
            "firm_name": ["Fresh Fish"],
            "region": ["Busan"],
            "hs_codes": [["030211"]],
        }
    )
    write_items(world.tables["firms"], firm_items(exporters, NO_BUYERS))
    status, body = get_markets("EXP000020")
    assert status == 404
    assert "EXP000020" in body["message"] and "HS chapter 03" in body["message"]


@pytest.mark.parametrize(
    ("firm_id", "status", "message"),
    [
        ("EXP999999", 404, "no exporter EXP999999"),
        ("BUY0000001", 404, "market suggestions are for exporters; BUY0000001 is a buyer"),
        ("BUY0009999", 404, "market suggestions are for exporters; BUY0009999 is a buyer"),
        ("_meta", 400, "firm_id"),
        ("_cold", 400, "firm_id"),
        ("EXP1", 400, "firm_id"),
    ],
)
def test_refusals_say_why(world: World, firm_id: str, status: int, message: str) -> None:
    got, body = get_markets(firm_id)
    assert got == status, body
    assert message in body["message"]


def test_before_the_first_scoring_an_exporter_without_an_item_is_told_so(world: World) -> None:
    table = world.tables["markets"]
    for firm_id in ("_meta", "EXP000001"):
        table.delete_item(Key={"firm_id": firm_id})
    for firm_id in ("EXP000001", "EXP000003"):
        status, body = get_markets(firm_id)
        assert status == 404
        assert body["message"] == "no market suggestions yet: the markets model has not scored"
