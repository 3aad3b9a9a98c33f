"""Training on SageMaker through the SDK, against moto: the job as created, then the gate.

moto completes a training job at once without running it, so each test puts the model archive
(with its metrics.json) where SageMaker would have written it before the job is awaited.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest

from exportintel.cloud import sagemaker_train
from exportintel.cloud.sagemaker_train import (
    SageMakerTarget,
    bundle_output_key,
    model_uri,
    role_output_key,
    train_on_sagemaker,
    xgboost_image_uri,
)
from exportintel.pipeline import versions
from exportintel.settings import DEV
from tests.sagemaker_sdk.conftest import BUNDLE_URI, REGION, ROLE_ARN

ARTIFACTS = "exportintel-dev-artifacts"
CURATED = "exportintel-dev-curated"


def continuity_metrics(auc: float) -> dict[str, Any]:
    return {
        "chosen_model": "lr",
        "models": {"lr": {"auc": {"value": auc}}, "baseline": {"auc": {"value": 0.6}}},
    }


def matching_metrics(ndcg: float) -> dict[str, Any]:
    slices = {"all": {"models": {"hybrid": {"ndcg": {"value": ndcg}},
                                 "popular": {"ndcg": {"value": 0.01}}}}}  # fmt: skip
    return {"k": 10, "directions": {"buyers_for_exporter": {"slices": slices},
                                    "exporters_for_buyer": {"slices": slices}}}  # fmt: skip


def model_archive(metrics: dict[str, Any]) -> bytes:
    """A SageMaker `model.tar.gz` holding `metrics.json` (and a stand-in model file)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("model.json", b"{}"), ("metrics.json", json.dumps(metrics).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def put_job_output(aws: Any, target: SageMakerTarget, model: str, job: str, archive: bytes) -> None:
    bucket, key = model_uri(target, model, job).removeprefix("s3://").split("/", 1)
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=archive)


def describe(aws: Any, job: str) -> dict[str, Any]:
    described: dict[str, Any] = aws.client("sagemaker").describe_training_job(TrainingJobName=job)
    return described


def decoded(hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {name: json.loads(value) for name, value in hyperparameters.items()}


def test_the_continuity_job_runs_train_py_from_the_bundle_on_the_curated_features(
    aws: Any, target: SageMakerTarget
) -> None:
    run = train_on_sagemaker("continuity", settings=DEV, target=target, wait=False, session=aws)
    assert run.version.startswith("continuity-") and run.status == "InProgress"
    job = describe(aws, run.version)
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "366743142698.dkr.ecr.ap-northeast-2.amazonaws.com/sagemaker-xgboost:3.2-0"
    )
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["RoleArn"] == ROLE_ARN
    assert job["ResourceConfig"] == {
        "InstanceType": DEV.training_instance_type,
        "InstanceCount": 1,
        "VolumeSizeInGB": DEV.sagemaker_volume_gib,
    }
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == DEV.sagemaker_max_runtime_hours * 3600
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{ARTIFACTS}/models/continuity/"
    hyperparameters = decoded(job["HyperParameters"])
    assert hyperparameters["sagemaker_program"] == "train.py"
    assert hyperparameters["sagemaker_submit_directory"] == BUNDLE_URI
    assert hyperparameters["threshold"] == str(DEV.continuity_risk_threshold)
    assert hyperparameters["exclude-columns"] == ",".join(DEV.continuity_excluded_columns)
    [channel] = job["InputDataConfig"]
    assert channel["ChannelName"] == "train"
    assert channel["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": f"s3://{CURATED}/continuity_features/",
        "S3DataDistributionType": "FullyReplicated",
    }


def test_the_matching_job_reads_three_channels_named_by_hyperparameters(
    aws: Any, target: SageMakerTarget
) -> None:
    settings = DEV.__class__(
        **{**DEV.__dict__, "matching_hyperparameters": (("xgb-nthread", "8"),)}
    )
    run = train_on_sagemaker("matching", settings=settings, target=target, wait=False, session=aws)
    job = describe(aws, run.version)
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
    }
    assert channels == {
        "interactions": f"s3://{CURATED}/interactions/",
        "matching_exporters": f"s3://{CURATED}/matching_exporters/",
        "matching_buyers": f"s3://{CURATED}/matching_buyers/",
    }
    hyperparameters = decoded(job["HyperParameters"])
    paths = {"train", "interactions-file", "exporters-file", "buyers-file"}
    assert {k: v for k, v in hyperparameters.items() if k in paths} == {
        "train": "/opt/ml/input/data",
        "interactions-file": "interactions",
        "exporters-file": "matching_exporters",
        "buyers-file": "matching_buyers",
    }
    assert hyperparameters["candidates"] == str(settings.matching_candidates)
    assert hyperparameters["shown"] == str(settings.matching_shown)
    assert hyperparameters["xgb-nthread"] == "8"  # the settings' extra hyperparameters
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{ARTIFACTS}/models/matching/"


def test_the_markets_job_reads_one_channel_per_curated_table(
    aws: Any, target: SageMakerTarget
) -> None:
    from exportintel.markets.data import INPUT_TABLES

    run = train_on_sagemaker("markets", settings=DEV, target=target, wait=False, session=aws)
    job = describe(aws, run.version)
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
    }
    assert channels == {table: f"s3://{CURATED}/{table}/" for table in INPUT_TABLES}
    assert decoded(job["HyperParameters"])["test-years"] == "3"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{ARTIFACTS}/models/markets/"


@pytest.mark.parametrize(
    ("model", "passing", "failing"),
    [
        ("continuity", continuity_metrics(0.8), continuity_metrics(0.55)),
        ("matching", matching_metrics(0.1), matching_metrics(0.005)),
    ],
)
def test_a_passing_job_is_promoted_and_a_failing_one_leaves_current_alone(
    aws: Any,
    target: SageMakerTarget,
    model: str,
    passing: dict[str, Any],
    failing: dict[str, Any],
) -> None:
    s3 = aws.client("s3")
    good, bad = f"{model}-20260101T000000Z", f"{model}-20260102T000000Z"
    put_job_output(aws, target, model, good, model_archive(passing))
    first = train_on_sagemaker(
        model, settings=DEV, target=target, job_name=good, session=aws, poll_seconds=1
    )
    assert first.status == "Completed" and first.passed and first.promoted
    current = versions.current(s3, ARTIFACTS, model)
    assert current is not None
    assert current["model_version"] == good
    assert current["model_uri"] == f"s3://{ARTIFACTS}/models/{model}/{good}/output/model.tar.gz"
    assert versions.verdict(s3, ARTIFACTS, model, good)["passed"] is True  # type: ignore[index]
    before = s3.get_object(Bucket=ARTIFACTS, Key=f"models/{model}/current.json")["Body"].read()

    put_job_output(aws, target, model, bad, model_archive(failing))
    second = train_on_sagemaker(
        model, settings=DEV, target=target, job_name=bad, session=aws, poll_seconds=1
    )
    assert second.status == "Completed" and not second.passed and not second.promoted
    after = s3.get_object(Bucket=ARTIFACTS, Key=f"models/{model}/current.json")["Body"].read()
    assert after == before
    recorded = versions.verdict(s3, ARTIFACTS, model, bad)
    assert recorded is not None and recorded["passed"] is False and recorded["failures"]


def test_an_archive_without_metrics_fails_the_gate_closed(
    aws: Any, target: SageMakerTarget
) -> None:
    job = "continuity-20260103T000000Z"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz"):
        pass
    put_job_output(aws, target, "continuity", job, buffer.getvalue())
    run = train_on_sagemaker(
        "continuity", settings=DEV, target=target, job_name=job, session=aws, poll_seconds=1
    )
    assert not run.promoted and run.verdict is not None and not run.verdict["passed"]
    assert versions.current(aws.client("s3"), ARTIFACTS, "continuity") is None


def test_without_a_deployed_bundle_one_is_built_and_uploaded_once(
    aws: Any, target: SageMakerTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wheels are not fetched here (no index needed): empty files named like them."""
    from exportintel.models import source_bundle

    def fake_fetch(model: str, dest: Any, **_: Any) -> list[Any]:
        dest.mkdir(parents=True, exist_ok=True)
        for name in source_bundle.wheel_names(model):
            (dest / f"{name.replace('-', '_')}-1.0-py3-none-any.whl").write_bytes(b"")
        return sorted(dest.iterdir())

    monkeypatch.setattr(source_bundle, "fetch_wheels", fake_fetch)
    local = SageMakerTarget(**{**target.__dict__, "bundle_uri": None})
    first = train_on_sagemaker("continuity", settings=DEV, target=local, wait=False,
                               job_name="continuity-20260104T000000Z", session=aws)  # fmt: skip
    second = train_on_sagemaker("continuity", settings=DEV, target=local, wait=False,
                                job_name="continuity-20260104T000001Z", session=aws)  # fmt: skip
    uris = {
        json.loads(describe(aws, run.version)["HyperParameters"]["sagemaker_submit_directory"])
        for run in (first, second)
    }
    [uri] = uris  # the same bytes, the same key
    assert uri.startswith(f"s3://{ARTIFACTS}/code/continuity/") and uri.endswith("sourcedir.tar.gz")
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert {"train.py", "score.py", "requirements.txt"} <= set(tar.getnames())


def test_the_target_comes_from_the_stack_outputs() -> None:
    outputs = {
        "ArtifactsBucket": ARTIFACTS,
        "CuratedBucket": CURATED,
        role_output_key("matching"): ROLE_ARN,
        bundle_output_key("matching"): BUNDLE_URI,
        "SagemakerSubnetIds": "subnet-1, subnet-2",
        "SagemakerSecurityGroupIds": "sg-1",
    }
    target = SageMakerTarget.from_stack_outputs(outputs, model="matching", region=REGION)
    assert (target.role_arn, target.bundle_uri) == (ROLE_ARN, BUNDLE_URI)
    assert target.subnets == ("subnet-1", "subnet-2") and target.security_group_ids == ("sg-1",)
    assert role_output_key("matching") == "MatchingSagemakerRoleArn"
    with pytest.raises(KeyError, match="MatchingSagemakerRoleArn"):
        SageMakerTarget.from_stack_outputs(
            {"ArtifactsBucket": ARTIFACTS, "CuratedBucket": CURATED},
            model="matching",
            region=REGION,
        )


def test_the_image_accounts_are_the_sdk_s() -> None:
    from sagemaker.core import image_uris

    for region in sagemaker_train.XGBOOST_ACCOUNTS:
        assert xgboost_image_uri(region) == image_uris.retrieve(
            "xgboost", region, version="3.2-0"
        ), region
