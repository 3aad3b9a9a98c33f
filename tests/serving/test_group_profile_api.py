"""The risk group against continuing firms (`GET /risk-group/profile`), the items the loader and
the pipeline's load step write for it, and the size-band filter of `GET /risk-group`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from exportintel.continuity.groups import CATEGORICAL_VARIABLES, CONTINUOUS_VARIABLES
from exportintel.local.api import LocalApi
from exportintel.pipeline import load as pipeline_load
from exportintel.serving.continuity import PROFILE_ID
from exportintel.serving.load import MAX_ITEM_BYTES, profile_items
from tests.serving.events import invoke, rest_event
from tests.serving.test_local_api import call
from tests.serving.world import (
    BUYERS,
    EXPORTERS,
    VERSION,
    World,
    continuity_features,
    continuity_index,
    export_status,
)

ROW_KEYS = {
    "group_name",
    "variable",
    "kind",
    "firms",
    "known",
    "mean",
    "std",
    "min",
    "p25",
    "median",
    "p75",
    "max",
    "top_category",
    "top_share",
}


def profile(**query: str) -> tuple[int, Any]:
    event = rest_event("GET", "/risk-group/profile", "/risk-group/profile", query=query or None)
    status, body, _ = invoke("continuity", event)
    return status, body


def risk_group(**query: str) -> tuple[int, Any, dict[str, Any]]:
    return invoke("continuity", rest_event("GET", "/risk-group", "/risk-group", query=query))


def row(body: dict[str, Any], group: str, variable: str) -> dict[str, Any]:
    [found] = [r for r in body["rows"] if r["group_name"] == group and r["variable"] == variable]
    return found


# --- the profile ----------------------------------------------------------------------------


def test_latest_year_by_default_both_groups_every_variable(world: World) -> None:
    status, body = profile()
    assert status == 200
    assert set(body) == {"year", "model_version", "rows"}
    assert body["year"] == 2024 and body["model_version"] == VERSION
    variables = len(CONTINUOUS_VARIABLES) + len(CATEGORICAL_VARIABLES)
    assert len(body["rows"]) == 2 * variables
    assert all(set(r) == ROW_KEYS for r in body["rows"])
    assert [r["group_name"] for r in body["rows"][::variables]] == ["risk", "continuing"]


def test_continuous_and_categorical_rows(world: World) -> None:
    _, body = profile()
    # 2024: EXP000002 (0.58) and EXP000003 (0.70) in the risk group, EXP000001 continuing.
    index = row(body, "risk", "continuity_index")
    assert index["kind"] == "continuous" and index["firms"] == 2 and index["known"] == 2
    assert index["mean"] == pytest.approx(0.64) and index["median"] == pytest.approx(0.64)
    assert index["p25"] == pytest.approx(0.61) and index["p75"] == pytest.approx(0.67)
    assert index["top_category"] is None and index["top_share"] is None
    single = row(body, "continuing", "continuity_index")
    assert single["firms"] == 1 and single["std"] is None  # one value has no spread
    size = row(body, "risk", "size_band")
    assert size["kind"] == "categorical" and size["mean"] is None
    assert (size["top_category"], size["top_share"]) == ("medium", 0.5)  # a tie: text order
    region = row(body, "continuing", "region")
    assert (region["top_category"], region["top_share"]) == ("Seoul", 1.0)


def test_unknown_values_are_left_out(world: World) -> None:
    status, body = profile(year="2023")
    assert status == 200 and body["year"] == 2023
    # EXP000001's 2023 exhibitions are unknown: the continuing group knows none.
    exhibitions = row(body, "continuing", "exhibitions")
    assert exhibitions["firms"] == 1 and exhibitions["known"] == 0 and exhibitions["mean"] is None


@pytest.mark.parametrize("year", ["2030", "1990"])
def test_a_year_without_a_profile_is_404(world: World, year: str) -> None:
    status, body = profile(year=year)
    assert status == 404 and body["error"] == "not_found" and year in body["message"]


def test_nothing_loaded_is_404(world: World) -> None:
    table = world.tables["continuity"]
    for year in (2023, 2024):
        table.delete_item(Key={"firm_id": PROFILE_ID, "year": year})
    status, body = profile()
    assert status == 404 and body["message"] == "no risk-group profile for 2024"
    table.delete_item(Key={"firm_id": "_meta", "year": 0})
    assert profile()[0] == 404


@pytest.mark.parametrize("year", ["abc", "1800", "2101", "2024.5"])
def test_bad_years_get_a_400(world: World, year: str) -> None:
    status, body = profile(year=year)
    assert status == 400 and body["error"] == "invalid_request" and body["message"]


def test_the_profile_is_no_firm(world: World) -> None:
    event = rest_event(
        "GET",
        "/firms/{firm_id}/continuity",
        f"/firms/{PROFILE_ID}/continuity",
        path_parameters={"firm_id": PROFILE_ID},
    )
    assert invoke("continuity", event)[0] == 400
    status, body, _ = risk_group(year="2023", limit="500")
    assert status == 200 and PROFILE_ID not in {f["firm_id"] for f in body["firms"]}


def test_over_local_http(world: World, api: LocalApi) -> None:
    status, body = call(api, "GET", "/risk-group/profile?year=2023")
    assert status == 200 and body["year"] == 2023 and body["rows"]
    status, body = call(api, "GET", "/risk-group/profile?year=2031")
    assert status == 404 and body["message"]
    assert call(api, "GET", "/risk-group/profile", token=None)[0] == 401


# --- the items ------------------------------------------------------------------------------


def test_items_one_per_year_of_the_newest_version() -> None:
    from exportintel.continuity.groups import group_profile

    rows = group_profile(continuity_features(), continuity_index())
    older = rows.assign(model_version="20200101T000000Z-old", year=rows["year"] - 5)
    items = profile_items(pd.concat([older, rows]))
    assert [(i["firm_id"], i["year"]) for i in items] == [(PROFILE_ID, 2023), (PROFILE_ID, 2024)]
    assert {i["model_version"] for i in items} == {VERSION}
    for item in items:
        for value in (v for r in item["rows"] for v in r.values()):
            assert not (isinstance(value, float) and math.isnan(value))  # NaN -> null
    assert all("year" not in r and "model_version" not in r for r in items[0]["rows"])


def test_an_item_too_big_for_dynamodb_is_refused() -> None:
    from exportintel.continuity.groups import group_profile

    rows = group_profile(continuity_features(), continuity_index())
    wide = rows.assign(variable="v" * (MAX_ITEM_BYTES // len(rows[rows["year"] == 2024])))
    with pytest.raises(ValueError, match="too big"):
        profile_items(wide)


class FakeLake:
    """The lake as the load step reads it: a folder of Parquet per table."""

    def __init__(self, root: Path, frames: dict[str, pd.DataFrame]) -> None:
        self.root = root
        for name, frame in frames.items():
            (root / name).mkdir(parents=True)
            frame.to_parquet(root / name / "part-0.parquet")

    def pull(self, table: str) -> Path:
        return self.root / table


def test_the_pipeline_load_step_writes_the_profiles(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = world.tables["continuity"]
    for year in (2023, 2024):
        table.delete_item(Key={"firm_id": PROFILE_ID, "year": year})
    lake = FakeLake(
        tmp_path,
        {
            "exporters": EXPORTERS,
            "buyers": BUYERS,
            "continuity_features": continuity_features(),
            "export_status": export_status(),
        },
    )
    # The scoring run's index as published (publishing is the lake's business, tested apart).
    monkeypatch.setattr(
        pipeline_load, "publish_index", lambda lake, scores, features: (continuity_index(), None)
    )
    result = pipeline_load.load_continuity(lake, world.tables, tmp_path, VERSION)  # type: ignore[arg-type]
    assert result.serving["group profiles"] == 2
    status, body = profile()
    assert status == 200 and body["year"] == 2024 and row(body, "risk", "size_band")["firms"] == 2


# --- the size band of the risk group --------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"size_band": "medium"}, ["EXP000003"]),
        ({"size_band": "small"}, ["EXP000002"]),
        ({"size_band": "large"}, []),
        ({"size_band": "small", "region": "Busan", "hs_chapter": "19"}, ["EXP000002"]),
        ({"size_band": "small", "region": "Gyeonggi"}, []),
        ({"year": "2023", "size_band": "medium"}, ["EXP000003"]),
    ],
)
def test_size_band_filter(world: World, query: dict[str, str], expected: list[str]) -> None:
    status, body, _ = risk_group(**query)
    assert status == 200 and [f["firm_id"] for f in body["firms"]] == expected
    assert body["filters"]["size_band"] == query["size_band"]
    assert all(f["size_band"] == query["size_band"] for f in body["firms"])


def test_size_band_pages_follow_the_cursor(world: World) -> None:
    # The most at-risk firm (EXP000002, small) is read and filtered out on the way.
    seen, cursor, pages = [], None, 0
    while True:
        query = {"size_band": "medium", "limit": "1", **({"cursor": cursor} if cursor else {})}
        status, body, _ = risk_group(**query)
        assert status == 200
        pages += 1
        seen += [f["firm_id"] for f in body["firms"]]
        cursor = body["next_cursor"]
        if cursor is None or pages > 5:
            break
    assert seen == ["EXP000003"]


def test_size_band_in_csv(world: World) -> None:
    status, text, _ = risk_group(size_band="medium", format="csv")
    assert status == 200
    lines = text.strip().split("\n")
    assert len(lines) == 2 and lines[1].startswith("EXP000003,") and ",medium," in lines[1]


@pytest.mark.parametrize("band", ["huge", "Small", "", "small;drop"])
def test_bad_size_bands_get_a_400(world: World, band: str) -> None:
    status, body, _ = risk_group(size_band=band)
    assert status == 400 and body["error"] == "invalid_request" and body["message"]
