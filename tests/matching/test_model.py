"""The fitted model end to end on the synthetic world: what it never recommends, the stored
lists, the shown draw, saving and loading, and input without side tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from exportintel.contracts import get_contract
from exportintel.contracts.schemas import arrow_schema
from exportintel.matching.data import MatchingData, check_interactions
from exportintel.matching.scoring import ServingOptions, recommendation_tables
from exportintel.matching.training import MatchingModel, fit_model, read_model, write_model
from tests.matching.conftest import CUTOFF, FAST
from tests.matching.world import World

pytestmark = pytest.mark.slow
SERVING = ServingOptions(k=30, shown=10, chunk=64)


def recommendations(model: MatchingModel, direction: str, options: ServingOptions = SERVING
                    ) -> pd.DataFrame:  # fmt: skip
    tables = list(recommendation_tables(model, direction, options))  # type: ignore[arg-type]
    return pa.concat_tables(tables).to_pandas()


@pytest.fixture(scope="module")
def for_exporters(model: MatchingModel) -> pd.DataFrame:
    return recommendations(model, "exporter")


@pytest.fixture(scope="module")
def for_buyers(model: MatchingModel) -> pd.DataFrame:
    return recommendations(model, "buyer")


def test_tables_follow_the_contract(model: MatchingModel) -> None:
    table = next(recommendation_tables(model, "exporter", SERVING))
    assert table.schema.equals(arrow_schema(get_contract("recommendations")))


def test_bad_credit_buyers_never_appear(
    world: World, for_exporters: pd.DataFrame, for_buyers: pd.DataFrame
) -> None:
    bad = set(world.buyers.loc[world.buyers["bad_credit"], "buyer_id"])
    assert bad  # the world has some
    assert not bad & set(for_exporters["buyer_id"])
    assert not bad & set(for_buyers["buyer_id"])


def test_pairs_already_seen_are_left_out(
    world: World, for_exporters: pd.DataFrame, for_buyers: pd.DataFrame
) -> None:
    before = world.interactions[world.interactions["ts"] < CUTOFF]
    seen = set(zip(before["exporter_id"], before["buyer_id"], strict=True))
    for frame in (for_exporters, for_buyers):
        pairs = set(zip(frame["exporter_id"], frame["buyer_id"], strict=True))
        assert not pairs & seen
        assert len(pairs) == len(frame)  # each pair once per list


def test_every_firm_gets_its_ranked_top_k(
    world: World, for_exporters: pd.DataFrame, for_buyers: pd.DataFrame
) -> None:
    assert set(for_exporters["exporter_id"]) == set(world.exporters["exporter_id"])
    good = world.buyers.loc[~world.buyers["bad_credit"], "buyer_id"]
    assert set(for_buyers["buyer_id"]) == set(good)
    for key, frame in (("exporter_id", for_exporters), ("buyer_id", for_buyers)):
        for _, rows in frame.groupby(key):
            assert len(rows) <= SERVING.k
            assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
            assert (np.diff(rows["score"].to_numpy()) <= 1e-12).all()
    assert for_exporters["score"].between(0, 1).all()
    # The score is the harmonic mean of both sides' probabilities.
    p_e, p_b = for_exporters["p_exporter"], for_exporters["p_buyer"]
    assert np.allclose(for_exporters["score"], 2 * p_e * p_b / (p_e + p_b))


def test_explore_zero_shows_the_plain_top(for_exporters: pd.DataFrame) -> None:
    shown = for_exporters.dropna(subset=["shown_rank"])
    assert (shown["shown_rank"] == shown["rank"]).all()
    assert (shown.groupby("exporter_id").size() == SERVING.shown).all()


def test_exploration_is_seeded(model: MatchingModel) -> None:
    def draw(seed: int) -> pd.Series:
        options = ServingOptions(k=30, shown=10, explore=0.8, seed=seed, top_reasons=0)
        frame = recommendations(model, "exporter", options)
        return frame["shown_rank"].fillna(0)

    first = draw(3)
    assert first.equals(draw(3))
    assert not first.equals(draw(4))
    assert (first > 0).sum() == 10 * len(model.snapshot.firms.exporters)


def test_saved_model_scores_the_same(model: MatchingModel, tmp_path: Path,
                                     for_exporters: pd.DataFrame) -> None:  # fmt: skip
    version = write_model(model, tmp_path)
    loaded = read_model(tmp_path)
    assert loaded.version == version
    again = recommendations(loaded, "exporter").drop(columns="model_version")
    pd.testing.assert_frame_equal(again, for_exporters.drop(columns="model_version"))


def test_interactions_alone_with_unfamiliar_values(world: World) -> None:
    """No side table, an actor and event types the model has never heard of, extra columns:
    the collaborative half and the popular candidates still recommend."""
    frame = world.interactions.copy()
    frame["actor"] = frame["actor"].replace({"agency": "trade-fair desk"})
    frame["event_type"] = "something new"
    frame["channel"] = "app"
    data = MatchingData(check_interactions(frame)).before(CUTOFF)
    model = fit_model(data, FAST, as_of=CUTOFF)
    assert not model.snapshot.content.has_content
    lists = recommendations(model, "exporter", ServingOptions(k=10, chunk=64))
    assert lists["exporter_id"].nunique() == len(model.snapshot.firms.exporters)
    assert lists.groupby("exporter_id").size().min() == 10
    assert not any(code.startswith(("code_match", "price")) for code in
                   lists["reason_codes"].explode().dropna())  # fmt: skip


def test_reasons_cover_the_top_and_every_pair_drawn(model: MatchingModel) -> None:
    options = ServingOptions(k=30, shown=10, explore=1.0, explain_top=5, chunk=64)
    frame = recommendations(model, "exporter", options)
    has_reasons = frame["reason_codes"].map(len) > 0
    wanted = (frame["rank"] <= 5) | frame["shown_rank"].notna()
    assert not has_reasons[~wanted].any()
    assert has_reasons[wanted].mean() > 0.9
    # Exploration reaches past the top 5.
    assert (frame.loc[frame["shown_rank"].notna(), "rank"] > 5).any()
