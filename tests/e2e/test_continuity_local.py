"""The continuity steps on the emulation, as the CLI runs them over the small lake:
derive -> train -> score -> report, each reading and writing where AWS would."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pandas as pd
import pytest

from exportintel.continuity.local import CURRENT, MODELS_PREFIX, derive
from exportintel.continuity.local import report as write_continuity_report
from exportintel.continuity.local import score as score_continuity
from exportintel.contracts import get_contract
from exportintel.contracts.validation import validate_record
from exportintel.local.lake import LocalLake, NotReady
from exportintel.models.tabular import read_features
from exportintel.settings import LOCAL
from tests.lake import SmallLake
from tests.local.harness import RunningEmulation

pytestmark = pytest.mark.slow


def _keys(bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_derived_tables_and_the_versioned_model_land_where_aws_keeps_them(
    small_lake: SmallLake,
) -> None:
    model = small_lake.continuity_model
    assert model is not None and model.version == "continuity-e2e"
    assert small_lake.derived["continuity_features"]["labelled"] > 0
    with small_lake.aws_environment():
        curated = small_lake.resources.curated_bucket
        for table in ("export_status", "continuity_features", "continuity_index"):
            assert any(k.endswith(".parquet") for k in _keys(curated, f"{table}/")), table
        artifacts = small_lake.resources.artifacts_bucket
        stored = set(_keys(artifacts, f"{MODELS_PREFIX}/{model.version}/"))
        assert {f"{MODELS_PREFIX}/{model.version}/{name}" for name in (
            "model.tar.gz", "output/metrics.json", "output/test_predictions.parquet",
            "scores/index.parquet")} <= stored  # fmt: skip
        body = boto3.client("s3").get_object(Bucket=artifacts, Key=CURRENT)["Body"].read()
        current = json.loads(body)
    assert current["model_version"] == model.version
    assert current["model_uri"].endswith(f"{model.version}/model.tar.gz")
    # The metrics come from held-out later years only.
    years = model.metrics["years"]
    assert min(years["test"]) > max(years["train"] + years["validation"])


def test_every_firm_year_is_scored_into_the_index_table(small_lake: SmallLake) -> None:
    features = read_features(small_lake.workdir / "curated" / "continuity_features")
    index = pd.read_parquet(small_lake.workdir / "curated" / "continuity_index",
                            partitioning=None)  # fmt: skip
    assert small_lake.continuity_scores is not None
    assert len(index) == len(features) == small_lake.continuity_scores.rows
    assert set(zip(index.firm_id, index.year, strict=True)) == set(
        zip(features.firm_id, features.year, strict=True)
    )
    assert ((index.continuity_index < LOCAL.continuity_risk_threshold) == index.risk_group).all()
    assert index.risk_group.any() and not index.risk_group.all()
    at_risk = index[index.risk_group]
    assert all(len(f) > 0 for f in at_risk.risk_factors)
    assert all(len(f) == len(ko) for f, ko in zip(at_risk.risk_factors, at_risk.risk_factors_ko,
                                                  strict=True))  # fmt: skip
    contract = get_contract("continuity_index")
    rows = index.head(200).to_dict("records")
    for row in rows:
        for name in ("risk_factors", "risk_factors_en", "risk_factors_ko"):
            row[name] = list(row[name])
        row["label"] = None if pd.isna(row["label"]) else int(row["label"])
        assert validate_record(contract, row).ok, validate_record(contract, row).reason


def test_the_report_and_the_group_profile(small_lake: SmallLake, tmp_path: Path) -> None:
    lake = LocalLake(small_lake.resources, small_lake.workdir)
    with small_lake.aws_environment():
        html = write_continuity_report(lake, LOCAL, tmp_path / "report")
        profile_keys = _keys(small_lake.resources.curated_bucket, "continuity_group_profile/")
    text = html.read_text(encoding="utf-8")
    assert "roc.png" in text and (tmp_path / "report" / "roc.png").stat().st_size > 1000
    assert profile_keys
    profile = pd.read_parquet(small_lake.workdir / "curated" / "continuity_group_profile")
    assert set(profile.group_name) == {"risk", "continuing"}


def test_steps_out_of_order_say_which_command_comes_first(
    emulation: RunningEmulation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = emulation.environment("continuity-empty")
    for name, value in aws.environ().items():
        monkeypatch.setenv(name, value)
    lake = LocalLake(aws.resources, tmp_path)
    with pytest.raises(NotReady, match="exportintel etl"):
        derive(lake)
    with pytest.raises(NotReady, match="exportintel derive continuity"):
        score_continuity(lake, LOCAL)
