"""The named query over market suggestions, run on DuckDB over a small hand-made table: the
latest model version only, per HS chapter and country, ordered by chapter then firms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_query import named, write_table

OLD, NEW = "20250101T000000Z-old", "20260101T000000Z-new"


def suggestion(firm: str, chapter: str, country: str, rank: int, novice: bool,
               version: str = NEW) -> dict[str, Any]:  # fmt: skip
    return {"firm_id": firm, "as_of_year": 2025, "rank": rank, "country_code": country,
            "score": 0.5 / rank, "hs_chapter": chapter, "size_band": "small", "novice": novice,
            "reasons_en": ["r"], "reasons_ko": ["이유"], "model_version": version}  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curated")
    write_table(root, "market_suggestions", [
        suggestion("EXP000001", "85", "VNM", 1, False),
        suggestion("EXP000002", "85", "VNM", 3, True),
        suggestion("EXP000003", "85", "VNM", 2, True),
        suggestion("EXP000001", "85", "DEU", 2, False),
        suggestion("EXP000004", "33", "JPN", 1, True),
        # An older scoring: never counted.
        suggestion("EXP000001", "85", "USA", 1, False, OLD),
        suggestion("EXP000002", "85", "USA", 1, False, OLD),
        suggestion("EXP000005", "19", "CHN", 1, False, OLD),
    ])  # fmt: skip
    return root


def test_markets_suggested_by_hs_chapter(lake: Path) -> None:
    rows = named(lake, "markets_suggested_by_hs_chapter")
    assert [(r["hs_chapter"], r["country_code"], r["firms"]) for r in rows] == [
        ("33", "JPN", 1),
        ("85", "VNM", 3),
        ("85", "DEU", 1),
    ]
    vietnam = rows[1]
    assert vietnam["mean_rank"] == pytest.approx(2.0)
    assert vietnam["novice_share"] == pytest.approx(0.667)
    assert rows[0]["novice_share"] == pytest.approx(1.0)
