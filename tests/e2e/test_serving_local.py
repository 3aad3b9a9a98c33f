"""Serving over the small lake: the serving tables loaded from the scored lake, the local API
answering with real generated data through the same handlers, over HTTP on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from exportintel.local.api import LocalApi, serve
from exportintel.local.serving import load_from_lake, sample_ids, serving_environ
from tests.lake import SmallLake

pytestmark = pytest.mark.slow
TOKEN = "e" * 43


@pytest.fixture(scope="module")
def api(small_lake: SmallLake) -> Iterator[tuple[LocalApi, dict[str, str]]]:
    patch = pytest.MonkeyPatch()
    for name, value in serving_environ(small_lake.aws).items():
        patch.setenv(name, value)
    summary = load_from_lake(small_lake.aws, small_lake.workdir)
    assert summary is not None
    assert summary.counts["firm profiles"] > 0 and summary.counts["match lists"] > 0
    assert summary.counts["continuity rows"] > 0
    server = serve(TOKEN)
    yield server, sample_ids(small_lake.aws)
    server.shutdown()
    server.server_close()
    patch.undo()


def get(server: LocalApi, path: str, language: str = "en") -> tuple[int, Any]:
    request = urllib.request.Request(f"{server.url}{path}")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Accept-Language", language)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_exporter_gets_at_most_ten_explained_buyers_none_bad_credit(
    api: tuple[LocalApi, dict[str, str]], small_lake: SmallLake
) -> None:
    server, ids = api
    status, body = get(server, f"/exporters/{ids['exporter_id']}/matches")
    assert status == 200 and body["source"] == "model"
    matches = body["matches"]
    assert 0 < len(matches) <= 10
    assert all(m["reasons"] and m["name"] for m in matches)
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    buyers = pd.read_parquet(small_lake.workdir / "curated" / "buyers", partitioning=None)
    bad = set(buyers.loc[buyers["bad_credit"], "buyer_id"])
    assert not bad & {m["buyer_id"] for m in matches}
    korean = get(server, f"/exporters/{ids['exporter_id']}/matches?explore=0", "ko")[1]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean["matches"][0]["reasons"][0])


def test_a_buyer_gets_exporters(api: tuple[LocalApi, dict[str, str]]) -> None:
    server, ids = api
    status, body = get(server, f"/buyers/{ids['buyer_id']}/matches?k=5")
    assert status == 200 and 0 < len(body["matches"]) <= 5


def test_continuity_of_a_firm_and_the_risk_group(api: tuple[LocalApi, dict[str, str]]) -> None:
    server, ids = api
    status, body = get(server, f"/firms/{ids['firm_id']}/continuity")
    assert status == 200 and body["history"]
    assert body["latest"]["year"] == max(h["year"] for h in body["history"])
    status, page = get(server, "/risk-group?limit=25")
    assert status == 200 and page["firms"]
    indexes = [f["continuity_index"] for f in page["firms"]]
    assert indexes == sorted(indexes) and all(f["risk_group"] for f in page["firms"])


def test_the_risk_groups_profile_loaded_from_the_lake(api: tuple[LocalApi, dict[str, str]]) -> None:
    """`exportintel serve` loads the profile the pipeline's load step writes, from the lake."""
    server, _ = api
    status, body = get(server, "/risk-group/profile")
    assert status == 200, body
    groups = {row["group_name"] for row in body["rows"]}
    assert groups == {"risk", "continuing"}
    index_rows = [r for r in body["rows"] if r["variable"] == "continuity_index"]
    risk = next(r for r in index_rows if r["group_name"] == "risk")
    continuing = next(r for r in index_rows if r["group_name"] == "continuing")
    # The risk group is the firms under the threshold: its mean index is the lower one.
    assert risk["mean"] < continuing["mean"]


def test_an_exporters_markets_over_http(
    api: tuple[LocalApi, dict[str, str]], small_lake: SmallLake
) -> None:
    """The markets the pipeline's load step wrote, in both languages; a buyer is refused."""
    server, ids = api
    status, body = get(server, f"/firms/{ids['exporter_id']}/markets")
    assert status == 200, body
    assert body["source"] == "scored" and len(body["markets"]) == 5
    assert small_lake.markets_scores is not None
    assert body["model_version"] == small_lake.markets_scores.version
    countries = [m["country_code"] for m in body["markets"]]
    assert not set(countries) & set(body["current_markets"])
    assert [m["rank"] for m in body["markets"]] == [1, 2, 3, 4, 5]
    status, korean = get(server, f"/firms/{ids['exporter_id']}/markets", language="ko")
    assert status == 200 and korean["markets"][0]["reasons"] == body["markets"][0]["reasons_ko"]
    status, refused = get(server, f"/firms/{ids['buyer_id']}/markets")
    assert status == 404 and "exporters" in refused["message"]
