"""The matching steps on the emulation, as the CLI runs them over the small lake:
derive -> train -> score, each reading and writing where AWS would."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pandas as pd
import pytest

from exportintel.contracts import get_contract
from exportintel.contracts.validation import validate_record
from exportintel.local.lake import LocalLake, NotReady
from exportintel.matching import local
from exportintel.settings import LOCAL
from tests.lake import SmallLake
from tests.local.harness import RunningEmulation

pytestmark = pytest.mark.slow


def _keys(bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _recommendations(lake: SmallLake) -> pd.DataFrame:
    return pd.read_parquet(lake.workdir / "curated" / "recommendations", partitioning=None)


def test_inputs_model_and_lists_land_where_aws_keeps_them(small_lake: SmallLake) -> None:
    model = small_lake.matching_model
    assert model is not None and model.version == "matching-e2e"
    assert small_lake.matching_inputs["interactions"]["rows"] > 0  # type: ignore[index]
    with small_lake.aws_environment():
        curated = small_lake.resources.curated_bucket
        for table in ("interactions", "matching_exporters", "matching_buyers", "recommendations"):
            assert any(k.endswith(".parquet") for k in _keys(curated, f"{table}/")), table
        artifacts = small_lake.resources.artifacts_bucket
        prefix = f"models/matching/{model.version}/"
        stored = set(_keys(artifacts, prefix))
        assert {prefix + name for name in (
            "model.tar.gz", "output/metrics.json", "output/evaluation.txt",
            "scores/recommendations.parquet", "scores/scoring.json")} <= stored  # fmt: skip
        body = (
            boto3.client("s3")
            .get_object(Bucket=artifacts, Key="models/matching/current.json")["Body"]
            .read()
        )
    assert json.loads(body)["model_version"] == model.version
    # metrics.json is the held-out evaluation: judged after the cutoff, every model listed.
    assert model.metrics["evaluated_on"] == "held-out interactions after the cutoff only"
    everything = model.metrics["directions"]["exporter"]["slices"]["all"]
    assert set(everything["models"]) >= {"popular", "content", "cf", "hybrid"}
    assert "held out: after" in model.output_text("evaluation.txt")


def test_the_lists_follow_the_settings_and_the_contract(small_lake: SmallLake) -> None:
    table = _recommendations(small_lake)
    assert small_lake.matching_scores is not None
    summary = small_lake.matching_scores.summary
    assert len(table) == sum(
        summary[d]["rows"] for d in ("buyers_for_exporter", "exporters_for_buyer")
    )
    assert set(table.direction) == {"buyers_for_exporter", "exporters_for_buyer"}
    lists = table.groupby(["direction", "exporter_id", "buyer_id"]).size()
    assert lists.max() == 1  # a pair appears once per direction
    for direction, query in (("buyers_for_exporter", "exporter_id"),
                             ("exporters_for_buyer", "buyer_id")):  # fmt: skip
        part = table[table.direction == direction]
        per_query = part.groupby(query)
        assert per_query["rank"].max().max() <= LOCAL.matching_candidates
        shown = part[part.shown_rank.notna()].groupby(query).size()
        assert shown.max() <= LOCAL.matching_shown
        # Ranks follow the score within every list.
        ordered = part.sort_values([query, "rank"])
        drops = ordered.groupby(query)["score"].diff().dropna()
        assert (drops <= 1e-12).all()
    # Bad-credit buyers never appear.
    buyers = pd.read_parquet(small_lake.workdir / "curated" / "matching_buyers",
                             partitioning=None)  # fmt: skip
    blocked = set(buyers.loc[buyers.bad_credit.astype(bool), "buyer_id"])
    assert blocked and not blocked & set(table.buyer_id)
    contract = get_contract("recommendations")
    for row in table.head(100).to_dict("records"):
        for name in ("reason_codes", "reason_values", "reasons_en", "reasons_ko"):
            row[name] = None if row[name] is None else list(row[name])
        row["shown_rank"] = None if pd.isna(row["shown_rank"]) else int(row["shown_rank"])
        assert validate_record(contract, row).ok, validate_record(contract, row).reason


def test_the_shown_matches_carry_reasons_in_both_languages(small_lake: SmallLake) -> None:
    with small_lake.aws_environment():
        samples = local.sample_matches(
            LocalLake(small_lake.resources, small_lake.workdir), exporters=2, shown=5
        )
    assert len(samples) == 2
    for sample in samples:
        assert 1 <= len(sample["matches"]) <= 5
        ranks = [int(row["shown_rank"]) for row in sample["matches"]]
        assert ranks == sorted(ranks) and ranks[0] == 1
        for row in sample["matches"]:
            assert len(row["reasons_en"]) == len(row["reasons_ko"]) > 0
    lines: list[str] = []
    local.describe_recommendations(lines.append, samples)
    assert any("buyer" in line and "score" in line for line in lines)


def test_steps_out_of_order_say_which_command_comes_first(
    emulation: RunningEmulation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = emulation.environment("matching-empty")
    for name, value in aws.environ().items():
        monkeypatch.setenv(name, value)
    lake = LocalLake(aws.resources, tmp_path)
    with pytest.raises(NotReady, match="exportintel etl"):
        local.derive(lake)
    with pytest.raises(NotReady, match="exportintel derive matching"):
        local.train(lake, LOCAL)
    with pytest.raises(NotReady, match="exportintel train matching"):
        local.score(lake, LOCAL)
