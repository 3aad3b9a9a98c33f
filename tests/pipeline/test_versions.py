"""Model versions: only a promotion makes a version current, every change is kept, and a
roll-back walks back through the versions that served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from exportintel.pipeline import versions

BUCKET = "artifacts"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _promote(s3: Any, version: str) -> dict[str, Any]:
    uri = f"s3://{BUCKET}/models/matching/{version}/model.tar.gz"
    return versions.promote(s3, BUCKET, "matching", version, uri, reason="gate passed")


def test_nothing_serves_before_a_promotion(s3: Any) -> None:
    assert versions.current(s3, BUCKET, "matching") is None
    with pytest.raises(versions.NoVersion, match="no matching model serves yet"):
        versions.require_current(s3, BUCKET, "matching")
    versions.record_verdict(s3, BUCKET, "matching", "m-1", {"passed": False})
    assert versions.current(s3, BUCKET, "matching") is None
    assert versions.verdict(s3, BUCKET, "matching", "m-1") == {"passed": False}


def test_promotions_are_kept_and_roll_back_walks_back(s3: Any) -> None:
    for version in ("m-1", "m-2", "m-3"):
        _promote(s3, version)
    assert versions.current(s3, BUCKET, "matching")["previous_version"] == "m-2"  # type: ignore[index]
    back = versions.rollback(s3, BUCKET, "matching")
    assert back["model_version"] == "m-2" and back["reason"] == "rolled back from m-3"
    assert back["model_uri"].endswith("/m-2/model.tar.gz")
    assert versions.rollback(s3, BUCKET, "matching")["model_version"] == "m-1"
    with pytest.raises(versions.NoVersion, match="no earlier version"):
        versions.rollback(s3, BUCKET, "matching")
    history = [r["model_version"] for r in versions.promotions(s3, BUCKET, "matching")]
    assert history == ["m-1", "m-2", "m-3", "m-2", "m-1"]
