"""Firm search: an id first, then names by prefix through the firms table's `name_search`
index, Korean names found as staff type them; through the handler and over local HTTP."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pandas as pd
import pytest

from exportintel.local.api import LocalApi
from exportintel.serving.load import firm_items, write_items
from exportintel.serving.search import KEY_CHARS, fold, prefixes, search_keys
from tests.serving.events import invoke, rest_event
from tests.serving.test_local_api import call
from tests.serving.world import World

# Firms named the ways the registers name them, beside the world's romanised ones.
MORE_EXPORTERS = pd.DataFrame(
    {
        "firm_id": ["EXP000011", "EXP000012", "EXP000013", "EXP000014", "EXP000015"],
        "firm_name": [
            "(주)한빛전자",
            "㈜한빛식품",
            "주식회사 하나로무역",
            "ＨＡＮＢＩＴ Fullwidth Co., Ltd.",
            "(주)",  # nothing of a name to search: no index keys
        ],
        "region": ["Seoul", "Busan", "Incheon", "Seoul", None],
        "hs_codes": [["851762"], ["190590"], ["300490"], ["850440"], []],
    }
)
MORE_BUYERS = pd.DataFrame(
    {
        "buyer_id": ["BUY0000011", "BUY0000012"],
        "buyer_name": ["Café Lumière SARL", "PT Sinar Jaya"],
        "country_code": ["FR", "ID"],
        "hs_codes_wanted": [["190590"], ["851712", "850440"]],
        "bad_credit": [False, False],
    }
)


@pytest.fixture
def firms(world: World) -> World:
    write_items(world.tables["firms"], firm_items(MORE_EXPORTERS, MORE_BUYERS))
    return world


def search(**query: str) -> tuple[int, Any]:
    status, body, _ = invoke(
        "matching", rest_event("GET", "/firms/search", "/firms/search", query=query or None)
    )
    return status, body


def ids(body: dict[str, Any]) -> list[str]:
    return [r["firm_id"] for r in body["results"]]


# --- folding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("(주)한빛전자", "한빛"),
        ("(주)한빛전자", "(주) 한빛전"),
        ("㈜한빛전자", "(주)한빛"),  # the one-character form is NFKC's "(주)"
        ("주식회사 하나로무역", "하나로"),
        ("(주)한빛전자", "한비"),  # the syllable being typed
        ("(주)한빛전자", "한ㅂ"),  # a consonant alone
        ("Hanbit  Electronics", "HANBIT electr"),
        ("ＨＡＮＢＩＴ", "hanbit"),
        ("Café Lumière", "cafe lumi"),
        ("PT Sinar Jaya", "sinar"),
    ],
)
def test_a_query_folds_to_a_prefix_of_the_name(name: str, query: str) -> None:
    assert any(fold(name).startswith(prefix) for prefix in prefixes(query))


def test_a_final_consonant_is_also_looked_up_as_the_next_initial() -> None:
    # 한 may be 한빛 or the way to 하나; 닭 (ㄹㄱ) may be the way to 달걀.
    assert any(fold("하나로").startswith(p) for p in prefixes("한"))
    assert any(fold("달걀").startswith(p) for p in prefixes("닭"))
    assert len(prefixes("하")) == 1


def test_index_keys_of_a_firm() -> None:
    keys = search_keys("(주)한빛전자", "EXP000011")
    assert keys["name_key"] == fold("한빛전자") + "#EXP000011"
    assert keys["name_prefix"] == fold("한빛전자")[0]
    assert search_keys("(주)", "EXP000015") == {} and search_keys(None, "EXP000016") == {}
    long_key = search_keys("x" * 5000, "EXP000017")["name_key"]
    assert long_key == "x" * KEY_CHARS + "#EXP000017"


def test_the_loader_writes_the_keys(firms: World) -> None:
    item = firms.tables["firms"].get_item(Key={"firm_id": "EXP000011"})["Item"]
    assert item["name"] == "(주)한빛전자" and item["name_key"].endswith("#EXP000011")
    bare = firms.tables["firms"].get_item(Key={"firm_id": "EXP000015"})["Item"]
    assert "name_key" not in bare and "name_prefix" not in bare


# --- the route ------------------------------------------------------------------------------


def test_names_by_prefix_case_insensitive_in_name_order(firms: World) -> None:
    status, body = search(q="hanbit")
    assert status == 200
    assert body["query"] == "hanbit" and body["count"] == 2
    assert ids(body) == ["EXP000001", "EXP000014"]  # "hanbit electronics" < "hanbit fullwidth"
    assert body["results"][0] == {
        "firm_id": "EXP000001",
        "kind": "exporter",
        "name": "Hanbit Electronics",
        "region": "Seoul",
        "hs_chapters": ["85"],
        "match": "name",
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("한빛", ["EXP000012", "EXP000011"]),  # 식품 before 전자, as ㅅ before ㅈ
        ("(주)한빛전", ["EXP000011"]),
        ("한빛ㅈ", ["EXP000011"]),
        ("한", ["EXP000013", "EXP000012", "EXP000011"]),  # 하나로 too, typed so far as 한
        ("하나", ["EXP000013"]),
        ("주식회사 하나로", ["EXP000013"]),
        ("무역", []),  # a prefix of the name, not any part of it
    ],
)
def test_korean_names(firms: World, q: str, expected: list[str]) -> None:
    status, body = search(q=q)
    assert status == 200 and ids(body) == expected, body


def test_buyers_carry_their_country(firms: World) -> None:
    status, body = search(q="CAFE")
    assert status == 200
    assert body["results"] == [
        {
            "firm_id": "BUY0000011",
            "kind": "buyer",
            "name": "Café Lumière SARL",
            "country": "FR",
            "hs_chapters": ["19"],
            "match": "name",
        }
    ]
    assert ids(search(q="sinar")[1]) == ["BUY0000012"]


@pytest.mark.parametrize("q", ["exp000011", " EXP000011 ", "ＥＸＰ００００１１"])
def test_an_id_comes_first(firms: World, q: str) -> None:
    status, body = search(q=q)
    assert status == 200 and ids(body) == ["EXP000011"]
    assert body["results"][0]["match"] == "id" and body["results"][0]["name"] == "(주)한빛전자"


def test_an_unknown_id_finds_nothing(firms: World) -> None:
    assert search(q="BUY9999999") == (
        200,
        {"query": "BUY9999999", "results": [], "count": 0},
    )


def test_limit(firms: World) -> None:
    status, body = search(q="한", limit="2")
    assert status == 200 and ids(body) == ["EXP000013", "EXP000012"] and body["count"] == 2
    status, body = search(q="h", limit="50")
    assert status == 200 and ids(body) == ["EXP000001", "EXP000014"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "(주)"},
        {"q": "주식회사"},
        {"q": "\u200b"},
        {"q": "x" * 101},
        {"q": "han", "limit": "0"},
        {"q": "han", "limit": "51"},
        {"q": "han", "limit": "ten"},
    ],
)
def test_bad_queries_get_a_clear_400(firms: World, query: dict[str, str]) -> None:
    status, body = search(**query)
    assert status == 400 and body["error"] and body["message"], body


def test_over_local_http(firms: World, api: LocalApi) -> None:
    status, body = call(api, "GET", "/firms/search?" + urllib.parse.urlencode({"q": "(주)한빛"}))
    assert status == 200 and ids(body) == ["EXP000012", "EXP000011"]
    assert body["query"] == "(주)한빛"
    status, body = call(api, "GET", "/firms/search?q=exp000002&limit=5")
    assert status == 200 and ids(body)[0] == "EXP000002"
    status, body = call(api, "GET", "/firms/search?q=%20")
    assert status == 400 and body["message"]
    status, body = call(api, "GET", "/firms/search?q=han", token=None)
    assert status == 401
