"""The continuity_index table: scored rows joined to their features, as the contract says."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from exportintel.continuity.index import index_table, size_band
from exportintel.contracts import get_contract
from exportintel.contracts.validation import validate_record
from exportintel.etl.arrow_tables import to_arrow, write_partitioned


def _reason(rank: int, feature: str, contribution: float) -> dict[str, object]:
    return {
        "rank": rank,
        "feature": feature,
        "contribution": contribution,
        "value": "1",
        "direction": "low",
        "reason_ko": f"{feature} 낮음",
        "reason_en": f"{feature} low",
    }


def _scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm_id": ["EXP000001", "EXP000002", "EXP000001"],
            "year": [2023, 2023, 2024],
            "index": [0.62, 0.91, 0.70],
            "risk_group": [True, False, True],
            "model_version": ["continuity-1"] * 3,
            "reasons": [
                [
                    _reason(1, "exhibitions", -0.8),
                    _reason(2, "fx_change", -0.3),
                    _reason(3, "employees", -0.2),
                    _reason(4, "oil_change", -0.1),
                ],
                [],
                [_reason(1, "credit_grade", -0.5)],
            ],
        }
    )


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm_id": ["EXP000001", "EXP000002", "EXP000001"],
            "year": [2023, 2023, 2024],
            "region": ["Busan", None, "Busan"],
            "hs_chapter": ["85", "61", "85"],
            "employees": [12.0, math.nan, 420.0],
            "label": [1.0, math.nan, None],
        }
    )


@pytest.mark.parametrize(
    ("employees", "band"),
    [
        (0, "small"),
        (49, "small"),
        (50, "medium"),
        (299.5, "medium"),
        (300, "large"),
        (None, None),
        (math.nan, None),
    ],
)
def test_size_bands(employees: float | None, band: str | None) -> None:
    assert size_band(employees) == band


def test_index_rows_carry_slices_and_the_top_three_factors_in_both_languages() -> None:
    rows = {(r["firm_id"], r["year"]): r for r in index_table(_scored(), _features()).to_pylist()}
    first = rows[("EXP000001", 2023)]
    assert first["continuity_index"] == 0.62 and first["risk_group"] is True
    assert (first["region"], first["hs_chapter"], first["size_band"]) == ("Busan", "85", "small")
    assert first["label"] == 1
    assert first["risk_factors"] == ["exhibitions", "fx_change", "employees"]
    assert first["risk_factors_en"][0] == "exhibitions low"
    assert first["risk_factors_ko"][1] == "fx_change 낮음"
    assert first["top_factor_contribution"] == -0.8
    second = rows[("EXP000002", 2023)]
    assert second["region"] is None and second["size_band"] is None and second["label"] is None
    assert second["risk_factors"] == [] and second["top_factor_contribution"] is None
    assert rows[("EXP000001", 2024)]["size_band"] == "large"
    assert rows[("EXP000001", 2024)]["year_partition"] == 2024
    contract = get_contract("continuity_index")
    assert all(validate_record(contract, r).ok for r in rows.values())


def test_a_scored_row_without_its_features_is_an_error() -> None:
    scored = _scored()
    scored.loc[2, "firm_id"] = "EXP999999"
    with pytest.raises(ValueError, match="1 scored rows have no feature row"):
        index_table(scored, _features())


def test_a_table_is_written_by_partition_and_replaced_whole(tmp_path: Path) -> None:
    contract = get_contract("continuity_index")
    folder = tmp_path / "continuity_index"
    (folder / "year_partition=2019").mkdir(parents=True)
    (folder / "year_partition=2019" / "stale.parquet").write_bytes(b"stale")

    written = write_partitioned(index_table(_scored(), _features()), contract, folder)

    assert sorted(p.relative_to(folder).as_posix() for p in written) == [
        "year_partition=2023/part-00000.parquet",
        "year_partition=2024/part-00000.parquet",
    ]
    assert not (folder / "year_partition=2019").exists()
    part = pq.read_table(written[0])
    assert "year_partition" not in part.column_names and part.num_rows == 2


def test_a_missing_required_column_is_named() -> None:
    frame = _features().drop(columns=["hs_chapter"])
    with pytest.raises(ValueError, match=r"columns missing: .*hs_chapter"):
        to_arrow(frame, get_contract("continuity_features"))
