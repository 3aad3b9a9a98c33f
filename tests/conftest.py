"""Shared fixtures: fake AWS credentials before any client, one Spark session per run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tests.lake import SmallLake
    from tests.local.harness import RunningEmulation

# No test may reach a real AWS account: fake credentials, the default region.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-northeast-2",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session for the whole run: starting one costs seconds."""
    from exportintel.etl.session import spark_session

    session = spark_session("exportintel-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def emulation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> RunningEmulation:
    """The session's emulation server (see tests/local/harness.py)."""
    from tests.local.harness import shared_emulation

    return shared_emulation(request, tmp_path_factory)


@pytest.fixture(scope="session")
def small_lake(
    emulation: RunningEmulation, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> SmallLake:
    """Generated, ingested, pumped and curated once per session; shared by end-to-end tests."""
    from tests.lake import build_small_lake

    return build_small_lake(emulation, tmp_path_factory.mktemp("small-lake"))
