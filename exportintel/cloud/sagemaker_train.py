"""Train a model on SageMaker from a notebook or the CLI, with the pipeline's own rules.

The job is the one the pipeline runs: the XGBoost framework container, the model's source bundle
(`exportintel.models.source_bundle`), `train.py` with the settings' hyperparameters, the curated
tables as channels, the output under `s3://<artifacts>/models/<model>/`, and the job name
`<model>-<UTC time>` as the model version. When the job completes, its `metrics.json` (inside
`output/model.tar.gz`) goes through the quality gate (`exportintel.pipeline.gate`); the verdict
is recorded beside the version and a pass makes it current (`exportintel.pipeline.versions`),
so the next scoring run serves it. A failed gate leaves the serving version alone.

The SageMaker SDK (`sagemaker-core`, the `[sagemaker]` extra) is imported only when a job is
started or awaited: `xgboost_image_uri` and the job's description serve the CDK app and the
tests of the main environment without it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from exportintel.contracts import get_contract
from exportintel.contracts.tables import curated_table
from exportintel.markets.data import INPUT_TABLES
from exportintel.models.source_bundle import XGBOOST_FRAMEWORK_VERSION
from exportintel.pipeline import gate, versions
from exportintel.resources import output_key
from exportintel.settings import EnvironmentSettings

MODELS = ("continuity", "matching", "markets")
TRAIN_SCRIPT = "train.py"
INPUT_DATA = "/opt/ml/input/data"
# Each model's channels: channel name -> the curated table whose prefix it reads. Continuity
# reads one table as `train`; matching reads three, named after the tables, and is told where
# through hyperparameters (its `--train` folder and the file name of each table in it); markets
# reads one channel per curated input table, named after it (its script's defaults).
CHANNELS: Mapping[str, Mapping[str, str]] = {
    "markets": {table: table for table in INPUT_TABLES},
    "continuity": {"train": "continuity_features"},
    "matching": {
        "interactions": "interactions",
        "matching_exporters": "matching_exporters",
        "matching_buyers": "matching_buyers",
    },
}
CHANNEL_ARGUMENTS: Mapping[str, Mapping[str, str]] = {
    "continuity": {},
    "markets": {},
    "matching": {
        "train": INPUT_DATA,
        "interactions-file": "interactions",
        "exporters-file": "matching_exporters",
        "buyers-file": "matching_buyers",
    },
}
# Where a bundle built here is uploaded: named by its content, so an unchanged bundle is
# uploaded once.
CODE_PREFIX = "code"

# The accounts that publish the SageMaker XGBoost framework images (training and inference),
# per region: the SageMaker Python SDK's `image_uri_config/xgboost.json` (the same accounts from
# 0.90-1 to 3.2-0; tests/sagemaker_sdk compares them with the SDK's table).
XGBOOST_ACCOUNTS: Mapping[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}


def xgboost_image_uri(region: str, version: str = XGBOOST_FRAMEWORK_VERSION) -> str:
    """The SageMaker XGBoost framework image of `region` (plain text: the CDK app uses it at
    synth, where the region comes from the settings, never a token)."""
    if region not in XGBOOST_ACCOUNTS:
        raise KeyError(f"no SageMaker XGBoost image account known for {region}")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{XGBOOST_ACCOUNTS[region]}.dkr.ecr.{region}.{domain}/sagemaker-xgboost:{version}"


def role_output_key(model: str) -> str:
    """The stack output with the ARN of a model's SageMaker execution role."""
    return output_key(f"{model}_sagemaker_role_arn")


def bundle_output_key(model: str) -> str:
    """The stack output with the S3 URI of a model's deployed `sourcedir.tar.gz`."""
    return output_key(f"{model}_source_bundle_uri")


@dataclass(frozen=True, kw_only=True)
class SageMakerTarget:
    """What a training job needs of the deployed platform."""

    region: str
    artifacts_bucket: str
    curated_bucket: str
    role_arn: str
    image_uri: str
    # `s3://.../sourcedir.tar.gz`; None: build the bundle from this checkout and upload it.
    bundle_uri: str | None = None
    # A private VPC for the job (both or neither), as the pipeline's jobs run.
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    # Encrypts the job's volume and output (the lake key); None: the buckets' defaults.
    kms_key_id: str | None = None

    @classmethod
    def from_stack_outputs(
        cls, outputs: Mapping[str, str], *, model: str, region: str, bundle_uri: str | None = None
    ) -> SageMakerTarget:
        """From the platform stack's outputs (`cdk deploy --outputs-file`, or CloudFormation's
        DescribeStacks). A `bundle_uri` given here wins over the deployed one."""
        needed = [output_key("artifacts_bucket"), output_key("curated_bucket")]
        needed.append(role_output_key(model))
        missing = [key for key in needed if key not in outputs]
        if missing:
            raise KeyError(f"the stack outputs lack {', '.join(missing)}")

        def listed(name: str) -> tuple[str, ...]:
            value = outputs.get(output_key(name), "")
            return tuple(part.strip() for part in value.split(",") if part.strip())

        return cls(
            region=region,
            artifacts_bucket=outputs[output_key("artifacts_bucket")],
            curated_bucket=outputs[output_key("curated_bucket")],
            role_arn=outputs[role_output_key(model)],
            image_uri=xgboost_image_uri(region),
            bundle_uri=bundle_uri or outputs.get(bundle_output_key(model)),
            subnets=listed("sagemaker_subnet_ids"),
            security_group_ids=listed("sagemaker_security_group_ids"),
            kms_key_id=outputs.get(output_key("lake_key_arn")),
        )


@dataclass(frozen=True)
class TrainingRun:
    """One training job and what became of it."""

    model: str
    version: str  # the job name
    status: str  # SageMaker's: InProgress, Completed, Failed, Stopped
    model_uri: str  # where SageMaker writes (or wrote) the model archive
    failure_reason: str | None = None
    verdict: dict[str, Any] | None = None  # the quality gate's, once the job completed
    promoted: bool = False
    console_url: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.verdict and self.verdict.get("passed"))


@dataclass(frozen=True)
class JobRequest:
    """The training job, as SageMaker's CreateTrainingJob sees it (without the SDK)."""

    job_name: str
    image_uri: str
    role_arn: str
    hyperparameters: dict[str, str]
    channels: dict[str, str]  # channel name -> S3 prefix URI
    instance_type: str
    volume_gib: int
    max_runtime_seconds: int
    output_path: str
    environment: dict[str, str] = field(default_factory=dict)


def new_job_name(model: str, now: dt.datetime | None = None) -> str:
    """`<model>-<UTC time>`: unique per second, the model version (the local runner's form)."""
    return f"{model}-{(now or dt.datetime.now(dt.UTC)):%Y%m%dT%H%M%SZ}"


def _arguments_to_hyperparameters(arguments: list[str]) -> dict[str, str]:
    """`["--threshold", "0.5", ...]` (a script's arguments) -> {"threshold": "0.5", ...}."""
    if len(arguments) % 2:
        raise ValueError(f"arguments must come in --name value pairs: {arguments}")
    pairs = zip(arguments[::2], arguments[1::2], strict=True)
    return {name.removeprefix("--"): value for name, value in pairs}


def training_arguments(model: str, settings: EnvironmentSettings) -> dict[str, str]:
    """The script's arguments the settings decide, then the settings' extra hyperparameters."""
    if model == "continuity":
        from exportintel.continuity.local import training_arguments as continuity_arguments

        decided = continuity_arguments(settings)
        extra = settings.continuity_hyperparameters
    elif model == "matching":
        from exportintel.matching.local import training_arguments as matching_arguments

        decided = matching_arguments(settings)
        extra = settings.matching_hyperparameters
    elif model == "markets":
        from exportintel.markets.local import training_arguments as markets_arguments

        decided = markets_arguments(settings)
        extra = settings.markets_hyperparameters
    else:
        raise ValueError(f"no SageMaker model {model!r}; models: {', '.join(MODELS)}")
    return {**_arguments_to_hyperparameters(decided), **dict(extra)}


def job_request(
    model: str,
    *,
    settings: EnvironmentSettings,
    target: SageMakerTarget,
    bundle_uri: str,
    job_name: str,
) -> JobRequest:
    """The job for `model`: script mode in the XGBoost container, the curated channels."""
    arguments = {**training_arguments(model, settings), **CHANNEL_ARGUMENTS[model]}
    # The framework container's script mode (the same keys the SDK's estimators set). Values
    # are JSON, as the SDK sends them: the training toolkit decodes each one before it becomes
    # a `--name value` argument, so a number-like text stays text.
    hyperparameters = {
        "sagemaker_program": TRAIN_SCRIPT,
        "sagemaker_submit_directory": bundle_uri,
        "sagemaker_region": target.region,
        "sagemaker_container_log_level": "20",
        **arguments,
    }
    channels = {
        channel: f"s3://{target.curated_bucket}/{curated_table(get_contract(table)).prefix}"
        for channel, table in CHANNELS[model].items()
    }
    return JobRequest(
        job_name=job_name,
        image_uri=target.image_uri,
        role_arn=target.role_arn,
        hyperparameters={name: json.dumps(value) for name, value in hyperparameters.items()},
        channels=channels,
        instance_type=settings.training_instance_type,
        volume_gib=settings.sagemaker_volume_gib,
        max_runtime_seconds=settings.sagemaker_max_runtime_hours * 3600,
        output_path=f"s3://{target.artifacts_bucket}/{versions.model_prefix(model)}/",
    )


def model_uri(target: SageMakerTarget, model: str, version: str) -> str:
    """Where SageMaker writes a job's model: `<output path><job name>/output/model.tar.gz`."""
    prefix = versions.version_prefix(model, version)
    return f"s3://{target.artifacts_bucket}/{prefix}/output/model.tar.gz"


def _session(region: str) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def upload_bundle(model: str, target: SageMakerTarget, *, session: Any, work: Path) -> str:
    """Build the model's bundle from this checkout (wheels fetched for the container) and
    upload it under `code/<model>/<digest>/`, unless that object exists; its S3 URI."""
    from exportintel.models import source_bundle

    wheels = work / "wheels"
    source_bundle.fetch_wheels(model, wheels)
    bundle = source_bundle.build_source_bundle(model, work / "bundle", wheels_dir=wheels)
    digest = source_bundle.file_digest(bundle)[:16]
    key = f"{CODE_PREFIX}/{model}/{digest}/{source_bundle.BUNDLE_NAME}"
    s3 = session.client("s3")
    try:
        s3.head_object(Bucket=target.artifacts_bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.upload_file(str(bundle), target.artifacts_bucket, key)
    return f"s3://{target.artifacts_bucket}/{key}"


def start_training(
    model: str,
    *,
    settings: EnvironmentSettings,
    target: SageMakerTarget,
    job_name: str | None = None,
    session: Any = None,
) -> str:
    """Create the training job; its name (the model version)."""
    from sagemaker.core.resources import TrainingJob
    from sagemaker.core.shapes import (
        AlgorithmSpecification,
        Channel,
        DataSource,
        OutputDataConfig,
        ResourceConfig,
        S3DataSource,
        StoppingCondition,
        VpcConfig,
    )

    session = session or _session(target.region)
    job_name = job_name or new_job_name(model)
    bundle_uri = target.bundle_uri
    if bundle_uri is None:
        with tempfile.TemporaryDirectory(prefix="exportintel-bundle-") as work:
            bundle_uri = upload_bundle(model, target, session=session, work=Path(work))
    request = job_request(
        model, settings=settings, target=target, bundle_uri=bundle_uri, job_name=job_name
    )
    optional: dict[str, Any] = {}
    if target.subnets:
        optional["vpc_config"] = VpcConfig(
            subnets=list(target.subnets), security_group_ids=list(target.security_group_ids)
        )
    kms = {"kms_key_id": target.kms_key_id} if target.kms_key_id else {}
    TrainingJob.create(
        training_job_name=request.job_name,
        role_arn=request.role_arn,
        algorithm_specification=AlgorithmSpecification(
            training_image=request.image_uri, training_input_mode="File"
        ),
        hyper_parameters=request.hyperparameters,
        input_data_config=[
            Channel(
                channel_name=name,
                data_source=DataSource(
                    s3_data_source=S3DataSource(
                        s3_data_type="S3Prefix",
                        s3_uri=uri,
                        s3_data_distribution_type="FullyReplicated",
                    )
                ),
            )
            for name, uri in request.channels.items()
        ],
        output_data_config=OutputDataConfig(s3_output_path=request.output_path, **kms),
        resource_config=ResourceConfig(
            instance_type=request.instance_type,
            instance_count=1,
            volume_size_in_gb=request.volume_gib,
            **({"volume_kms_key_id": target.kms_key_id} if target.kms_key_id else {}),
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=request.max_runtime_seconds),
        session=session,
        region=target.region,
        **optional,
    )
    return request.job_name


def finish_training(
    model: str,
    job_name: str,
    *,
    settings: EnvironmentSettings,
    target: SageMakerTarget,
    session: Any = None,
    poll_seconds: int = 30,
    logs: bool = False,
) -> TrainingRun:
    """Wait for the job; judge its metrics at the quality gate, record the verdict, and make
    the version current if it passed."""
    from sagemaker.core.resources import TrainingJob

    session = session or _session(target.region)
    job = TrainingJob.get(training_job_name=job_name, session=session, region=target.region)
    job.wait(poll=poll_seconds, logs=logs)
    job.refresh()
    status = str(job.training_job_status)
    uri = model_uri(target, model, job_name)
    if status != "Completed":
        reason = getattr(job, "failure_reason", None)
        failure = reason if isinstance(reason, str) else None  # the SDK's Unassigned otherwise
        return TrainingRun(model, job_name, status, uri, failure_reason=failure)
    s3 = session.client("s3")
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        metrics = gate.metrics_from_archive(body)
        verdict = gate.judge(model, {**metrics, "model_version": job_name}, settings)
        record = verdict.to_dict()
    except gate.MetricsMissing as error:
        # The gate fails closed: a run whose metrics cannot be judged never serves.
        record = {"model": model, "version": job_name, "passed": False, "checks": [],
                  "failures": [str(error)]}  # fmt: skip
    versions.record_verdict(s3, target.artifacts_bucket, model, job_name, record)
    promoted = False
    if record["passed"]:
        versions.promote(
            s3, target.artifacts_bucket, model, job_name, uri, reason="passed the quality gate"
        )
        promoted = True
    return TrainingRun(model, job_name, status, uri, verdict=record, promoted=promoted)


def console_url(region: str, job_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/jobs/{job_name}"
    )


def train_on_sagemaker(
    model: str,
    *,
    settings: EnvironmentSettings,
    target: SageMakerTarget,
    wait: bool = True,
    job_name: str | None = None,
    session: Any = None,
    poll_seconds: int = 30,
    logs: bool = False,
) -> TrainingRun:
    """Start the model's training job; with `wait`, also gate it and promote it on a pass."""
    if model not in MODELS:
        raise ValueError(f"no SageMaker model {model!r}; models: {', '.join(MODELS)}")
    session = session or _session(target.region)
    name = start_training(
        model, settings=settings, target=target, job_name=job_name, session=session
    )
    if not wait:
        return TrainingRun(
            model,
            name,
            "InProgress",
            model_uri(target, model, name),
            console_url=console_url(target.region, name),
        )
    run = finish_training(
        model,
        name,
        settings=settings,
        target=target,
        session=session,
        poll_seconds=poll_seconds,
        logs=logs,
    )
    return replace(run, console_url=console_url(target.region, name))
