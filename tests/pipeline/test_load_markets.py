"""The markets load step on emulated S3 and DynamoDB: the scoring run's suggestions replace the
`market_suggestions` table, and the markets serving table gets one item per exporter, per
cold-start list and `_meta`; a scoring run that does not fit leaves both as they were."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.local.lake import LocalLake, NotReady
from exportintel.pipeline.load import load_markets
from exportintel.resources import Resources
from exportintel.serving.provision import create_table
from exportintel.serving.tables import MARKETS, local_table_name
from exportintel.settings import LOCAL

VERSION = "markets-20260401T220000Z"
YEAR = 2024


@dataclass
class Emulated:
    lake: LocalLake
    tables: dict[str, Any]
    s3: Any


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulated]:
    resources = Resources.local(LOCAL)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=resources.curated_bucket,
            CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"},
        )
        name = local_table_name(MARKETS, LOCAL.name)
        create_table(boto3.client("dynamodb"), MARKETS, name)
        tables = {"markets": boto3.resource("dynamodb").Table(name)}
        yield Emulated(LocalLake(resources, tmp_path / "work"), tables, s3)


def row(firm: str, rank: int, country: str, **extra: Any) -> dict[str, Any]:
    return {
        "firm_id": firm,
        "as_of_year": YEAR,
        "rank": rank,
        "country_code": country,
        "score": round(0.5 - 0.1 * rank, 2),
        **{f"{term}_term": 0.1 * i for i, term in enumerate(EVIDENCE_TERMS)},
        "hs_chapter": "85",
        "size_band": "small",
        "novice": False,
        "reasons_en": [f"Korea sells a lot of HS 85 to {country}"],
        "reasons_ko": [f"HS 85류의 {country} 수출이 많음"],
        "model_version": VERSION,
        **extra,
    }


def write_scores(folder: Path, *, version: str = VERSION) -> Path:
    """What the market scoring job writes: two exporters with two suggestions each, one
    cold-start list, and the first exporter's current markets."""
    folder.mkdir(parents=True, exist_ok=True)
    suggestions = pd.DataFrame(
        [row("EXP000001", 1, "VNM"), row("EXP000001", 2, "DEU"),
         row("EXP000002", 2, "JPN", novice=True), row("EXP000002", 1, "CHN", novice=True)]
    ).assign(model_version=version)  # fmt: skip
    cold = pd.DataFrame(
        [row("_cold#85#small", 1, "USA", novice=True), row("_cold#85#small", 2, "CHN", novice=True)]
    ).assign(model_version=version)
    current = pd.DataFrame({"firm_id": ["EXP000001", "EXP000001"], "country_code": ["USA", "CHN"]})
    suggestions.to_parquet(folder / "suggestions.parquet", index=False)
    cold.to_parquet(folder / "cold_start.parquet", index=False)
    current.to_parquet(folder / "current_markets.parquet", index=False)
    return folder


def curated(aws: Emulated) -> pd.DataFrame:
    return pd.read_parquet(aws.lake.pull("market_suggestions"), partitioning=None)


def items(aws: Emulated) -> dict[str, dict[str, Any]]:
    scanned = aws.tables["markets"].scan()["Items"]
    return {str(item["firm_id"]): item for item in scanned}


def test_the_suggestions_become_the_table_and_the_serving_items(
    aws: Emulated, tmp_path: Path
) -> None:
    result = load_markets(aws.lake, aws.tables, write_scores(tmp_path / "scores"), VERSION)

    table = curated(aws)
    assert len(table) == 4 and set(table["model_version"]) == {VERSION}
    assert sorted(table["firm_id"].unique()) == ["EXP000001", "EXP000002"]
    keys = [o["Key"] for o in aws.s3.list_objects_v2(
        Bucket=aws.lake.resources.curated_bucket)["Contents"]]  # fmt: skip
    assert keys and all(key.startswith("market_suggestions/") for key in keys)

    found = items(aws)
    assert set(found) == {"EXP000001", "EXP000002", "_cold#85#small", "_meta"}
    first = found["EXP000001"]
    assert first["current_markets"] == ["CHN", "USA"]
    assert [s["country_code"] for s in first["suggestions"]] == ["VNM", "DEU"]
    assert [s["country_code"] for s in found["EXP000002"]["suggestions"]] == ["CHN", "JPN"]
    assert found["_cold#85#small"]["novice"] is True
    assert found["_meta"] == {"firm_id": "_meta", "as_of_year": YEAR, "model_version": VERSION}

    assert (result.model, result.version, result.rows) == ("markets", VERSION, 4)
    assert result.serving == {"exporters": 2, "cold-start lists": 1, "meta": 1}
    assert result.render() == (
        f"markets {VERSION}: 4 curated rows; serving: 2 exporters, 1 cold-start lists, 1 meta"
    )


def test_a_new_scoring_replaces_the_previous_table_whole(aws: Emulated, tmp_path: Path) -> None:
    old = "markets-20250401T220000Z"
    load_markets(aws.lake, aws.tables, write_scores(tmp_path / "old", version=old), old)
    assert set(curated(aws)["model_version"]) == {old}
    load_markets(aws.lake, aws.tables, write_scores(tmp_path / "new"), VERSION)
    assert set(curated(aws)["model_version"]) == {VERSION}
    assert items(aws)["_meta"]["model_version"] == VERSION


def test_a_scoring_of_another_version_changes_nothing(aws: Emulated, tmp_path: Path) -> None:
    load_markets(aws.lake, aws.tables, write_scores(tmp_path / "first"), VERSION)
    stray = write_scores(tmp_path / "stray", version="markets-other")
    with pytest.raises(ValueError, match="model version 'markets-other'"):
        load_markets(aws.lake, aws.tables, stray, VERSION)
    assert set(curated(aws)["model_version"]) == {VERSION}
    assert items(aws)["_meta"]["model_version"] == VERSION


def test_missing_files_or_columns_are_clear_errors(aws: Emulated, tmp_path: Path) -> None:
    scores = write_scores(tmp_path / "scores")
    (scores / "cold_start.parquet").unlink()
    with pytest.raises(NotReady, match=r"wrote no cold_start\.parquet"):
        load_markets(aws.lake, aws.tables, scores, VERSION)

    scores = write_scores(tmp_path / "no-reasons")
    frame = pd.read_parquet(scores / "suggestions.parquet").drop(columns=["reasons_en"])
    frame.to_parquet(scores / "suggestions.parquet", index=False)
    with pytest.raises(ValueError, match="columns missing: reasons_en"):
        load_markets(aws.lake, aws.tables, scores, VERSION)

    scores = write_scores(tmp_path / "two-years")
    frame = pd.read_parquet(scores / "suggestions.parquet")
    frame.loc[0, "as_of_year"] = YEAR - 1
    frame.to_parquet(scores / "suggestions.parquet", index=False)
    with pytest.raises(ValueError, match=r"as-of years \[2023, 2024\]"):
        load_markets(aws.lake, aws.tables, scores, VERSION)
    assert items(aws) == {}
