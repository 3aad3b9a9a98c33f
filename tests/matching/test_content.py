"""Content: what the side columns are, HS hierarchy levels, price and volume fit, and the
content candidates (never seen pairs, never bad-credit buyers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from exportintel.matching.content import (
    ContentModel,
    analyse_side,
    detect,
    price_fit,
    top_per_row,
)
from exportintel.matching.data import Firms, MatchingData, check_interactions


def sides() -> tuple[pd.DataFrame, pd.DataFrame]:
    exporters = pd.DataFrame(
        {
            "exporter_id": ["E1", "E2"],
            "hs_codes": [["850440", "850110"], ["330499"]],
            "product_text": ["power adapter and motor", "face cream"],
            "price_min_usd": [10.0, 5.0],
            "price_max_usd": [100.0, 8.0],
            "monthly_capacity_units": [1000, 50],
            "region": ["Seoul", "Busan"],
            "founded": pd.to_datetime(["2001-01-01", "2010-01-01"]),
        }
    )
    buyers = pd.DataFrame(
        {
            "buyer_id": ["B1", "B2", "B3", "B4"],
            "hs_codes_wanted": [["850440"], ["850490"], ["851000"], ["330499", "850440"]],
            "product_text": ["adapter wanted", "transformer parts", "shavers", "cream"],
            "desired_price_min_usd": [20.0, 1.0, 200.0, 5.0],
            "desired_price_max_usd": [40.0, 30.0, 400.0, 10.0],
            "desired_volume_units": [500, 2000, 10, 100],
            "country_code": ["USA", "DEU", "JPN", "USA"],
            "fx_change": [0.06, 0.01, -0.05, 0.06],
            "fx_currency": ["USD", "EUR", "JPY", "USD"],
            "bad_credit": [False, False, False, True],
        }
    )
    return exporters, buyers


def model() -> tuple[ContentModel, Firms]:
    exporters, buyers = sides()
    interactions = check_interactions(
        pd.DataFrame({"exporter_id": ["E1"], "buyer_id": ["B2"], "weight": [1.0],
                      "ts": [pd.Timestamp("2024-01-01")]})
    )  # fmt: skip
    data = MatchingData(interactions, exporters, buyers.assign(bad_credit=buyers["bad_credit"]))
    firms = Firms.of(data)
    return ContentModel.build(detect(exporters, buyers), exporters, buyers, firms), firms


def test_column_kinds_are_read_from_the_values() -> None:
    exporters, buyers = sides()
    kinds = analyse_side(exporters, "exporter_id")
    assert kinds["hs_codes"] == "codes"
    assert kinds["product_text"] == "text"
    assert kinds["region"] == "categorical"
    assert kinds["price_min_usd"] == "numeric"
    assert kinds["founded"].startswith("dropped")
    assert "bad_credit" not in analyse_side(buyers, "buyer_id")  # a filter, not a feature


def test_a_parquet_date_column_is_dropped_not_taken_for_a_category(tmp_path: Path) -> None:
    """pandas reads a Parquet DATE as Python dates (object dtype), not datetime64."""
    exporters, _ = sides()
    exporters["as_of"] = pd.to_datetime(["2024-06-30"] * len(exporters)).date
    exporters.to_parquet(tmp_path / "exporters.parquet")
    read = pd.read_parquet(tmp_path / "exporters.parquet")
    assert read["as_of"].dtype == object
    assert analyse_side(read, "exporter_id")["as_of"].startswith("dropped (a date")


def test_detect_pairs_columns_by_vocabulary_and_knows_hs_levels() -> None:
    exporters, buyers = sides()
    # Renamed columns still pair up: their values share a vocabulary.
    spec = detect(exporters.rename(columns={"hs_codes": "offer"}),
                  buyers.rename(columns={"hs_codes_wanted": "wants"}))  # fmt: skip
    assert [(m.exporter_column, m.buyer_column, m.levels) for m in spec.codes] == [
        ("offer", "wants", (2, 4, 6))
    ]
    assert spec.texts == (("product_text", "product_text"),)
    assert spec.price and spec.volume
    assert (spec.fx, spec.fx_currency) == ("fx_change", "fx_currency")
    assert "region" in spec.exporter_categorical
    assert any(d.startswith("exporters.founded") for d in spec.dropped)
    empty = detect(None, None)
    assert not empty.codes and not empty.price


def test_pair_features_follow_the_hs_hierarchy_and_the_fits() -> None:
    content, firms = model()
    e = firms.exporter_positions(["E1", "E1", "E1", "E2"])
    b = firms.buyer_positions(["B1", "B2", "B3", "B1"])
    features = content.pair_features(e, b)
    # B1 wants E1's HS6, B2 its HS4 (8504), B3 its chapter (85); E2 sells cosmetics.
    assert features["code_level:hs_codes"].tolist() == [3.0, 2.0, 1.0, 0.0]
    # E1's price range 10-100 holds all of B1's 20-40; covers ln(30/10) of B2's ln(30/1).
    expected = np.log(30 / 10) / np.log(30 / 1)
    assert features["price_fit"][:2] == pytest.approx([1.0, expected], rel=1e-5)
    assert features["price_fit"][2] == 0.0 and features["price_gap"][2] == pytest.approx(
        np.log(200 / 100), rel=1e-5
    )
    # Capacity 1000 covers 500; against 2000 it is 1 + ln(0.5) / 3.
    assert features["volume_fit"][:2] == pytest.approx([1.0, 1 + np.log(0.5) / 3], rel=1e-5)
    assert features["text_similarity:product_text"][0] > features["text_similarity:product_text"][3]
    assert content.shared_codes("hs_codes", e[:3], b[:3]).tolist() == ["850440", "8504", "85"]


def test_price_fit_of_a_point_range() -> None:
    fit, gap = price_fit(*(np.log(np.array([v], dtype=np.float32)) for v in (10, 20, 15, 15)))
    assert fit.tolist() == [1.0] and gap.tolist() == [0.0]


def test_content_candidates_skip_seen_pairs_and_blocked_buyers() -> None:
    content, firms = model()
    queries = firms.exporter_positions(["E1", "E2"])
    seen = sp.csr_matrix(([1.0], ([0], [firms.buyer_positions(["B2"])[0]])), shape=(2, 4))
    retriever = content.retriever("exporter", np.zeros(4, dtype=np.float32), bucket=100)
    ids, scores = retriever.candidates(queries, 3, exclude=seen, blocked=firms.blocked)
    named = [[firms.buyers[i] for i in row if i >= 0] for row in ids]
    assert named[0] == ["B1", "B3"]  # B1 (HS6) before B3 (chapter); B2 seen; B4 blocked
    assert named[1] == []  # E2's only match, B4, has bad credit
    assert scores[0][0] > scores[0][1]


def test_top_per_row_orders_by_score_then_item() -> None:
    rows = np.array([0, 0, 0, 1, 1])
    items = np.array([5, 3, 4, 1, 2])
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.2], dtype=np.float32)
    ids, best = top_per_row(rows, items, scores, 3, 2)
    assert ids.tolist() == [[3, 4], [2, 1], [-1, -1]]
    assert best[0].tolist() == pytest.approx([0.9, 0.5])


@pytest.mark.parametrize("grouped", [True, False], ids=["row-grouped", "shuffled"])
def test_top_per_row_agrees_with_a_sort_on_the_floats(grouped: bool) -> None:
    """The packed 64-bit sort keeps a float sort's order: ties by item, -0.0 equal to 0.0,
    NaN after -inf."""
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 40, 4000)
    items = rng.integers(0, 60, 4000)
    scores = rng.integers(-4, 4, 4000).astype(np.float32)  # many ties
    scores[rng.random(4000) < 0.1] = -np.inf
    scores[rng.random(4000) < 0.05] = np.nan
    scores[rng.random(4000) < 0.05] = -0.0
    if grouped:
        first = np.lexsort((items, rows))
        rows, items, scores = rows[first], items[first], scores[first]
    order = np.lexsort((items, -scores, rows))
    expected: list[list[int]] = [[] for _ in range(42)]
    for row, item in zip(rows[order], items[order], strict=True):
        if len(expected[row]) < 7:
            expected[row].append(int(item))
    ids, _ = top_per_row(rows, items, scores, 42, 7)
    assert [[i for i in row if i >= 0] for row in ids.tolist()] == expected
