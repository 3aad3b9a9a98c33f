"""The curation job's run metrics: RecordsRead and QuarantinedRecords per dataset, in AWS only,
and never a failed run because of CloudWatch."""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from exportintel.etl.curate import RunSummary
from exportintel.serving.functions import METRICS_NAMESPACE

SCRIPT = Path(__file__).resolve().parents[2] / "glue_scripts" / "curate_dataset.py"
SUMMARY = RunSummary(dataset="buyers", run_id="r1", read=120, written=100, quarantined=15,
                     duplicates=5)  # fmt: skip


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curate_dataset_metrics", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="ap-northeast-2")


def _sums(client: Any, dataset: str) -> dict[str, float]:
    now = dt.datetime.now(dt.UTC)
    queries = [
        {
            "Id": name.lower(),
            "MetricStat": {
                "Metric": {
                    "Namespace": METRICS_NAMESPACE,
                    "MetricName": name,
                    "Dimensions": [{"Name": "Dataset", "Value": dataset}],
                },
                "Period": 3600,
                "Stat": "Sum",
            },
        }
        for name in ("RecordsRead", "QuarantinedRecords")
    ]
    result = client.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - dt.timedelta(hours=1),
        EndTime=now + dt.timedelta(minutes=5),
    )
    return {r["Id"]: sum(r["Values"]) for r in result["MetricDataResults"]}


def test_a_run_in_aws_publishes_read_and_quarantined_counts_per_dataset(
    script: ModuleType, cloudwatch: Any
) -> None:
    # Given a run whose summary goes to S3, as the deployed jobs' does
    sent = script.publish_metrics(SUMMARY, "s3://artifacts/etl-runs/", client=cloudwatch)
    # Then both counts are in the project's namespace under the run's dataset
    assert sent is True
    metrics = cloudwatch.list_metrics(Namespace=METRICS_NAMESPACE)["Metrics"]
    assert {(m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
            for m in metrics} == {
        ("RecordsRead", (("Dataset", "buyers"),)),
        ("QuarantinedRecords", (("Dataset", "buyers"),)),
    }  # fmt: skip
    assert _sums(cloudwatch, "buyers") == {"recordsread": 120, "quarantinedrecords": 15}


def test_the_client_is_made_in_the_job_when_none_is_given(
    script: ModuleType, cloudwatch: Any
) -> None:
    assert script.publish_metrics(SUMMARY, "s3://artifacts/etl-runs/") is True
    assert _sums(cloudwatch, "buyers") == {"recordsread": 120, "quarantinedrecords": 15}


def test_local_runs_publish_nothing(script: ModuleType, tmp_path: Path) -> None:
    class NoCalls:
        def put_metric_data(self, **_: Any) -> None:
            raise AssertionError("a local run must not call CloudWatch")

    assert script.publish_metrics(SUMMARY, f"{tmp_path}/summaries/", client=NoCalls()) is False
    assert script.publish_metrics(SUMMARY, str(tmp_path / "s.json"), client=NoCalls()) is False


def test_a_cloudwatch_error_is_logged_and_never_raised(
    script: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing:
        def put_metric_data(self, **_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "PutMetricData"
            )

    with caplog.at_level(logging.ERROR):
        sent = script.publish_metrics(SUMMARY, "s3://artifacts/etl-runs/", client=Refusing())
    assert sent is False
    assert "could not publish the run metrics of buyers" in caplog.text
    assert "AccessDenied" in caplog.text


def test_the_job_still_succeeds_when_cloudwatch_fails(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() end to end with its Spark, curation and S3 steps stubbed: CloudWatch refuses."""
    import exportintel.etl.curate as curate
    import exportintel.etl.io as io
    import exportintel.etl.session as session

    written: dict[str, str] = {}
    monkeypatch.setattr(session, "spark_session", lambda name: object())
    monkeypatch.setattr(curate, "curate_dataset", lambda spark, **kwargs: SUMMARY)
    monkeypatch.setattr(io, "pseudonymisation_key", lambda secret_id: bytes(32))
    monkeypatch.setattr(io, "write_text", lambda uri, text: written.__setitem__(uri, text))

    def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("no CloudWatch endpoint")

    monkeypatch.setattr(boto3, "client", refuse)
    code = script.main(
        ["--dataset", "buyers", "--raw-path", "s3://raw/buyers/", "--curated-path",
         "s3://curated/buyers/", "--quarantine-path", "s3://quarantine/q/", "--summary-path",
         "s3://artifacts/etl-runs/", "--key-secret-id", "k", "--run-id", "r1"]
    )  # fmt: skip
    assert code == 0
    assert list(written) == ["s3://artifacts/etl-runs/r1/buyers.json"]
