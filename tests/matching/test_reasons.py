"""Reasons: moving one feature of a pair moves its reasons; texts in English and Korean with
the pair's values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from exportintel.matching.content import ContentModel
from exportintel.matching.features import Snapshot
from exportintel.matching.reasons import (
    Batch,
    Reason,
    explain,
    reason_code,
    render,
    split_content_score,
)
from exportintel.matching.training import MatchingModel

pytestmark = pytest.mark.slow


def with_exporters(snapshot: Snapshot, exporters: pd.DataFrame) -> Snapshot:
    """The snapshot with another exporters table: the same history, other offers."""
    content = ContentModel.build(snapshot.content.spec, exporters, snapshot.buyers,
                                 snapshot.firms)  # fmt: skip
    return dataclasses.replace(snapshot, content=content, exporters=exporters)


def reasons_of(
    model: MatchingModel, snapshot: Snapshot, e: int, b: int, top: int = 3
) -> dict[str, Reason]:
    """The `top` reasons of the pair (e, b) in the buyers-for-exporter list, by code."""
    pair_e, pair_b = np.array([e]), np.array([b])
    features = snapshot.pair_frame(pair_e, pair_b, np.array([0]))
    fitted = model.directions["exporter"]
    scored = fitted.score(features)
    contributions = fitted.contributions(features, scored)
    reasons = explain(snapshot, pair_e, pair_b, features, contributions, top=top).of(0)
    return {r.code: r for r in reasons}


def test_a_price_that_fits_becomes_a_reason(model: MatchingModel) -> None:
    snapshot = model.snapshot
    exporters, buyers = snapshot.exporters, snapshot.buyers
    assert exporters is not None and buyers is not None
    firms = snapshot.firms
    # A buyer that wants what the exporter sells at a price the exporter cannot meet.
    e = firms.exporter_positions(exporters["exporter_id"])[0]
    code = exporters["hs_codes"].iloc[0][0]
    wanting = buyers[buyers["hs_codes_wanted"].map(lambda codes: code in codes)
                     & ~buyers["bad_credit"]]  # fmt: skip
    low = exporters["price_max_usd"].iloc[0]
    far = wanting[wanting["desired_price_max_usd"] < low / 3]
    assert len(far), "the world should hold a buyer wanting the code far below the price"
    buyer = far.iloc[0]
    b = firms.buyer_positions([buyer["buyer_id"]])[0]
    # Every code that lifts the score, not only the first three.
    before = reasons_of(model, snapshot, e, b, top=50)
    assert "price_fit" not in before

    # Move one feature: the exporter's price range now holds the buyer's.
    moved = exporters.copy()
    moved.loc[moved.index[0], ["price_min_usd", "price_max_usd"]] = [
        buyer["desired_price_min_usd"],
        buyer["desired_price_max_usd"],
    ]
    after = reasons_of(model, with_exporters(snapshot, moved), e, b, top=50)
    assert "price_fit" in after and after["price_fit"].contribution > 0
    assert after["price_fit"].value == "1.00"
    assert after["price_fit"].en == "price within the buyer's range"
    assert after["price_fit"].ko == "가격이 바이어 희망 범위 안에 있음"


def test_a_shared_hs_code_is_named_in_the_reason(model: MatchingModel) -> None:
    snapshot = model.snapshot
    assert snapshot.exporters is not None and snapshot.buyers is not None
    firms = snapshot.firms
    e = int(firms.exporter_positions(snapshot.exporters["exporter_id"])[1])
    own = snapshot.exporters["hs_codes"].iloc[1][0]
    other = next(c for c in snapshot.buyers["hs_codes_wanted"].explode() if c[:2] != own[:2])
    wanting = snapshot.buyers[snapshot.buyers["hs_codes_wanted"].map(lambda c: list(c) == [other])
                              & ~snapshot.buyers["bad_credit"]]  # fmt: skip
    b = int(firms.buyer_positions(wanting["buyer_id"])[0])
    assert "code_match:hs_codes" not in reasons_of(model, snapshot, e, b)
    moved = snapshot.exporters.copy()
    moved.at[moved.index[1], "hs_codes"] = [other]
    changed = with_exporters(snapshot, moved)
    assert "code_match:hs_codes" in reasons_of(model, changed, e, b)
    features = changed.pair_frame(np.array([e]), np.array([b]), np.array([0]))
    values, en, ko = render("code_match:hs_codes", Batch(changed, features, np.array([e]),
                                                        np.array([b])), np.array([0]))  # fmt: skip
    assert values == [other]
    assert en == [f"HS {other} matches"] and ko == [f"HS {other} 품목 일치"]


def test_the_currency_move_reads_as_a_weaker_won(model: MatchingModel) -> None:
    snapshot = model.snapshot
    assert snapshot.buyers is not None
    b = int(snapshot.firms.buyer_positions(
        snapshot.buyers.loc[snapshot.buyers["fx_currency"] == "USD", "buyer_id"])[0])  # fmt: skip
    features = pd.DataFrame({"fx_change": [0.06]})
    values, en, ko = render("currency_move", Batch(snapshot, features, np.array([0]),
                                                   np.array([b])), np.array([0]))  # fmt: skip
    assert en == ["KRW down 6% against USD over the past year"]
    assert ko == ["지난 1년간 원화가 USD 대비 6% 하락 (가격 경쟁력 상승)"]
    assert values == ["0.0600"]


def test_features_that_say_one_thing_are_one_reason() -> None:
    assert reason_code("price_gap") == reason_code("price_fit") == "price_fit"
    assert reason_code("code_level:hs_codes") == reason_code("codes_shared:hs_codes")
    assert reason_code("cf_score_gap") == reason_code("cf_score")
    assert reason_code("buyer:annual_revenue_usd") == "buyer:annual_revenue_usd"


def test_reasons_of_stored_lists_are_positive_and_ordered(model: MatchingModel) -> None:
    from exportintel.matching.scoring import rank_chunk, scored_of

    queries = np.arange(20, dtype=np.int64)
    _, ranked = rank_chunk(model, "exporter", queries, 10)
    rows, _ = np.nonzero(ranked.stored)
    e, b = ranked.queries[rows], ranked.items[ranked.stored]
    fitted = model.directions["exporter"]
    contributions = fitted.contributions(ranked.features, scored_of(ranked))
    columns = explain(model.snapshot, e, b, ranked.features, contributions)
    assert len(columns) == len(e)
    for reasons in columns.lists():
        values = [r.contribution for r in reasons]
        assert all(v > 0 for v in values) and values == sorted(values, reverse=True)
        assert all(r.en and r.ko for r in reasons)
        assert "content_fit" not in {r.code for r in reasons}


def test_the_content_score_is_handed_to_what_it_sums() -> None:
    features = pd.DataFrame(
        {
            "code_level:hs_codes": [3.0, 0.0],
            "price_fit": [1.0, 0.0],
            "volume_fit": [0.0, 0.0],
            "content_score": [4.0, 0.0],
            "buyer_activity": [1.0, 1.0],
        }
    )
    contributions = np.array([[0.1, 0.0, 0.0, 0.8, 0.05], [0.0, 0.0, 0.0, -0.2, 0.3]])
    split = split_content_score(features, contributions)
    # 3/4 of the content score's 0.8 to the HS level, 1/4 to the price; nothing left on it.
    assert split[0].tolist() == pytest.approx([0.1 + 0.6, 0.2, 0.0, 0.0, 0.05])
    # A pair with no content keeps it where it was (and it is never a reason).
    assert split[1].tolist() == pytest.approx(contributions[1].tolist())
    assert split[0].sum() == pytest.approx(contributions[0].sum())
