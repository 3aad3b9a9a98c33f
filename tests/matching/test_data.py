"""The channel: generic interactions and side tables read and checked, clear errors for
malformed input, unfamiliar values taken as they come."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exportintel.matching.data import (
    Firms,
    MatchingData,
    check_interactions,
    check_side,
    read_channel,
)
from exportintel.models.tabular import DataError


def interactions(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exporter_id": [f"E{i % 2}" for i in range(n)],
            "buyer_id": [f"B{i}" for i in range(n)],
            "weight": [0.5, 1.0, 0.7, -0.5][:n],
            "ts": pd.date_range("2024-01-01", periods=n, freq="D"),
        }
    )


def test_interactions_are_typed_and_extra_columns_dropped() -> None:
    frame = interactions().assign(
        actor=["Exporter", None, "partner", "buyer"], event_type=["x", "y", None, "z"], extra=1
    )
    checked = check_interactions(frame)
    assert list(checked.columns) == ["exporter_id", "buyer_id", "weight", "ts", "actor",
                                     "event_type"]  # fmt: skip
    assert checked["weight"].dtype == np.float64
    assert checked["ts"].dtype == "datetime64[ns]"
    # Unfamiliar actors are kept as they are (they count for both sides), case folded.
    assert checked["actor"].tolist() == ["exporter", "", "partner", "buyer"]


def test_aware_and_text_timestamps_become_naive_utc() -> None:
    frame = interactions(2).assign(ts=["2024-01-01T09:00:00+09:00", "2024-01-02T00:00:00Z"])
    checked = check_interactions(frame)
    assert checked["ts"].tolist() == [pd.Timestamp("2024-01-01 00:00"),
                                      pd.Timestamp("2024-01-02 00:00")]  # fmt: skip


def _missing_weight(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["weight"])


def _text_weight(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(weight=["a lot", "1", "2", "3"])


def _nan_weight(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(weight=[0.5, np.nan, 1.0, 1.0])


def _numeric_ts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ts=[1, 2, 3, 4])


def _bad_ts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ts=["yesterday", "2024-01-01", "2024-01-02", "2024-01-03"])


def _null_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(buyer_id=["B0", None, "B2", "B3"])


def _no_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[0:0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_missing_weight, "missing column(s) 'weight'"),
        (_text_weight, "weight must be numeric"),
        (_nan_weight, "1 weight(s) missing or not finite"),
        (_numeric_ts, "it must be a timestamp"),
        (_bad_ts, "ts is not a timestamp"),
        (_null_id, "1 row(s) without buyer_id"),
        (_no_rows, "no rows"),
    ],
    ids=["missing-weight", "text-weight", "nan-weight", "numeric-ts", "bad-ts", "null-id",
         "no-rows"],
)  # fmt: skip
def test_malformed_interactions_fail_clearly(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    with pytest.raises(DataError, match=r"^interactions") as raised:
        check_interactions(change(interactions()))
    assert message in str(raised.value)


def test_side_tables_need_a_unique_key_and_a_boolean_bad_credit() -> None:
    buyers = pd.DataFrame({"buyer_id": ["B1", "B2"], "bad_credit": ["yes", "no"]})
    assert check_side(buyers, "buyer_id", "buyers")["bad_credit"].tolist() == [True, False]
    with pytest.raises(DataError, match="missing key column 'buyer_id'"):
        check_side(buyers.rename(columns={"buyer_id": "id"}), "buyer_id", "buyers")
    with pytest.raises(DataError, match="1 duplicated buyer_id value"):
        check_side(pd.concat([buyers, buyers.iloc[:1]]), "buyer_id", "buyers")
    with pytest.raises(DataError, match="bad_credit must be boolean; found 'maybe'"):
        check_side(buyers.assign(bad_credit=["maybe", "no"]), "buyer_id", "buyers")


def test_channel_reads_interactions_alone_or_with_sides(tmp_path: Path) -> None:
    interactions().to_parquet(tmp_path / "interactions.parquet")
    alone = read_channel(tmp_path)
    assert alone.exporters is None and alone.buyers is None
    assert len(alone.interactions) == 4
    # A side table may be a folder of parts, as Spark writes it.
    (tmp_path / "buyers").mkdir()
    pd.DataFrame({"buyer_id": ["B0", "B9"], "bad_credit": [True, False]}).to_parquet(
        tmp_path / "buyers" / "part-0.parquet"
    )
    both = read_channel(tmp_path)
    assert both.buyers is not None and both.buyers["buyer_id"].tolist() == ["B0", "B9"]
    firms = Firms.of(both)
    # Firms of the side tables count even without an interaction; ids sorted.
    assert firms.buyers.tolist() == ["B0", "B1", "B2", "B3", "B9"]
    assert firms.blocked.tolist() == [True, False, False, False, False]


def test_channel_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no interactions\.parquet"):
        read_channel(tmp_path)
    (tmp_path / "interactions.parquet").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        read_channel(tmp_path)
    (tmp_path / "interactions.parquet").write_text("exporter_id,buyer_id\n")
    with pytest.raises(DataError, match=r"cannot read .* as Parquet"):
        read_channel(tmp_path)
    with pytest.raises(DataError, match="input not found"):
        read_channel(tmp_path / "nowhere")


def test_before_keeps_only_earlier_interactions() -> None:
    data = MatchingData(check_interactions(interactions()))
    earlier = data.before(pd.Timestamp("2024-01-03"))
    assert earlier.interactions["ts"].max() < pd.Timestamp("2024-01-03")
    assert len(earlier.interactions) == 2
