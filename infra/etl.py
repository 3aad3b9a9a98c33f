"""Glue curation jobs: one PySpark job per contract that lands in raw, and the pseudonymisation key.

Every job runs `glue_scripts/curate_dataset.py` (Glue 5.1: Spark 3.5.6, Python 3.11, the
versions the local runner and the tests use) for one dataset:

    --dataset          <contract>
    --raw-path         s3://<raw>/<contract>/
    --curated-path     s3://<curated or quarantine bucket of the contract's zone>/<contract>/
    --quarantine-path  s3://<quarantine>/quarantine/
    --summary-path     s3://<artifacts>/etl-runs/   (a prefix: the run writes
                       <run-id>/<dataset>.json under it, as the local runner does)
    --key-secret-id    <pseudonymisation key secret ARN>

The core package reaches the job as a wheel, with the wheels of the few modules it imports that
Glue lacks (orjson, pycountry, tzdata), all built at synth (`infra.bundling.glue_wheels`) and
installed by Glue's pip from S3 with `--no-index --no-deps`: no package index is needed when a
job starts, and Glue's own pyarrow, pandas and boto3 are left alone.

pip only installs a file whose name is a valid wheel name, and CDK names file assets after
their hash. Each wheel is therefore registered with the stack synthesizer under a wheel name of
its own whose build tag carries the content hash (`exportintel-0.1.0-1<hash>-py3-none-any.whl`):
published by `cdk deploy` like any asset, a new object whenever the content changes.

Each run also puts its `RecordsRead` and `QuarantinedRecords` to CloudWatch (the project's
namespace, dimension `Dataset`; see the script), so the roles may put metrics to that namespace.

A new contract that lands in raw is a new job with no change here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import (
    ArnFormat,
    AssetHashType,
    AssetStaging,
    Duration,
    FileAssetLocation,
    FileAssetPackaging,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from exportintel.contracts import Contract, all_contracts, get_contract
from exportintel.contracts.tables import curated_table
from exportintel.serving.functions import METRICS_NAMESPACE
from exportintel.settings import EnvironmentSettings
from infra.bundling import REPO_ROOT, Wheels, glue_wheels
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.removal import data_removal_policy

SCRIPT = REPO_ROOT / "glue_scripts" / "curate_dataset.py"
GLUE_VERSION = glue.GlueVersion.V5_1
# Run summaries, as the local runner writes them (`exportintel.etl.local_runner`).
SUMMARY_PREFIX = "etl-runs/"
# Glue names its log groups after the security configuration and the role at run time
# (`/aws-glue/jobs/<configuration>-role/<role>/...`); all of them start with this.
GLUE_LOG_GROUPS = "/aws-glue/jobs*"
# Installs the shipped wheels from their S3 copies only: no index, and no resolution of the
# core package's declared dependencies, which are the CLI's (Glue provides what jobs import).
INSTALLER_OPTIONS = "--no-index --no-deps"
# The key is 32 random bytes as 64 hex digits (`exportintel.etl.io.pseudonymisation_key`).
KEY_HEX_DIGITS = 64
_HEX = frozenset("0123456789abcdef")
# Glue's own job and observability metrics (`--enable-metrics`, `--enable-observability-metrics`).
GLUE_METRICS_NAMESPACE = "Glue"


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", name) if part)


def hex_secret_generator() -> secretsmanager.SecretStringGenerator:
    """64 characters drawn from 0-9a-f only, so the secret is a 256-bit key in hex.

    Secrets Manager has no hex alphabet: excluding punctuation, upper case, the space and the
    lower-case letters after `f` leaves exactly the 16 hex digits. Requiring every included
    type would skew the draw towards containing both a letter and a digit, so it is off.
    """
    return secretsmanager.SecretStringGenerator(
        password_length=KEY_HEX_DIGITS,
        exclude_punctuation=True,
        exclude_uppercase=True,
        include_space=False,
        exclude_characters="".join(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in _HEX),
        require_each_included_type=False,
    )


def wheel_asset_name(wheel: Path, content_hash: str) -> str:
    """The wheel's file name with a build tag made of `content_hash` (pip needs wheel names).

    `name-version[-build]-python-abi-platform.whl`; a build tag must start with a digit.
    """
    parts = wheel.name.removesuffix(".whl").split("-")
    if len(parts) not in (5, 6):
        raise ValueError(f"{wheel.name} is not a wheel file name")
    name, version, *_build, python, abi, platform = parts
    return f"{name}-{version}-1{content_hash[:16]}-{python}-{abi}-{platform}.whl"


class Etl(Construct):
    """Pseudonymisation key, Glue security configuration, and a curation job per raw dataset.

    The pseudonymisation key is created once by CloudFormation and never rotated: pseudonyms
    are HMACs under it, and a new key would give every person new pseudonyms, so curated
    history would no longer join with new data nor deduplicate replays. It is retained with
    the data in environments that retain data.
    """

    pseudonymisation_secret: secretsmanager.Secret
    security_configuration: glue.SecurityConfiguration
    jobs: dict[str, glue.PySparkEtlJob]
    roles: dict[str, iam.Role]
    wheel_urls: list[str]
    wheel_keys: list[str]
    assets_bucket: s3.IBucket
    log_groups_arn: str

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        quarantine_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        contracts: Sequence[Contract] | None = None,
        wheels: Wheels | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        contracts = all_contracts() if contracts is None else tuple(contracts)
        self.settings = settings
        removal = data_removal_policy(settings)

        self.pseudonymisation_secret = secretsmanager.Secret(
            self,
            "PseudonymisationKey",
            description=f"Export Intelligence ({settings.name}): HMAC key of the pseudonyms "
            "in the curated zone (64 hex digits). Never rotate: pseudonyms must stay stable.",
            encryption_key=key,
            generate_secret_string=hex_secret_generator(),
            removal_policy=removal,
        )
        acknowledge(
            self.pseudonymisation_secret,
            "AwsSolutions-SMG4",
            "Not rotated on purpose: curated pseudonyms are HMACs under this key, so a new key "
            "would re-identify nobody but break every join with history and the deduplication "
            "of replayed records. Access is limited to the curation jobs' roles instead.",
        )

        # Glue encrypts what it writes to S3, job bookmarks and its CloudWatch logs with the
        # lake key; CloudWatch Logs may use the key for Glue's job log groups only.
        log_groups_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=GLUE_LOG_GROUPS,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GlueJobLogsEncryption",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups_arn}},
            )
        )
        self.security_configuration = glue.SecurityConfiguration(
            self,
            "SecurityConfiguration",
            s3_encryption=glue.S3Encryption.kms(key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(key),
            job_bookmarks_encryption=glue.JobBookmarksEncryption.client_side_kms(key),
            removal_policy=RemovalPolicy.DESTROY,
        )

        script = s3_assets.Asset(self, "CurateDatasetScript", path=str(SCRIPT))
        wheels = glue_wheels() if wheels is None else wheels
        locations = [self._wheel(i, wheel, wheels) for i, wheel in enumerate(wheels.files)]
        self.wheel_urls = [location.s3_object_url for location in locations]
        self.wheel_keys = [location.object_key for location in locations]
        self.assets_bucket = script.bucket
        self.log_groups_arn = log_groups_arn

        quarantine_prefix = curated_table(get_contract("quarantine")).prefix
        zone_buckets = {"curated": curated_bucket, "quarantine": quarantine_bucket}
        self.jobs = {}
        self.roles = {}
        for contract in contracts:
            if not contract.lands_in_raw:
                continue
            name = contract.name
            prefix = curated_table(contract).prefix
            role = iam.Role(
                self,
                f"{pascal(name)}JobRole",
                assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                description=f"Glue: curate {name} from raw to {contract.zone}",
            )
            target_bucket = zone_buckets[contract.zone]
            raw_bucket.grant_read(role, f"{name}/*")
            target_bucket.grant_read_write(role, f"{prefix}*")
            quarantine_bucket.grant_read_write(role, f"{quarantine_prefix}*")
            artifacts_bucket.grant_put(role, f"{SUMMARY_PREFIX}*")
            self.pseudonymisation_secret.grant_read(role)
            # Job bookmarks are encrypted client side with the key (CSE-KMS).
            key.grant_encrypt_decrypt(role)
            self.grant_job_basics(role)
            # The run's record and quarantine counts (`glue_scripts/curate_dataset.py`).
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="CurationRunMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
                )
            )
            job = self.spark_job(
                self,
                f"{pascal(name)}Job",
                description=f"Curate {name}: raw JSON lines to {contract.zone} Parquet, "
                "with quarantine",
                role=role,
                script=script,
                arguments={
                    "--dataset": name,
                    "--raw-path": raw_bucket.s3_url_for_object(f"{name}/"),
                    "--curated-path": target_bucket.s3_url_for_object(prefix),
                    "--quarantine-path": quarantine_bucket.s3_url_for_object(quarantine_prefix),
                    "--summary-path": artifacts_bucket.s3_url_for_object(SUMMARY_PREFIX),
                    "--key-secret-id": self.pseudonymisation_secret.secret_arn,
                },
            )
            self.jobs[name] = job
            self.roles[name] = role
            self._acknowledge(
                role,
                name=name,
                raw_bucket=raw_bucket,
                target_bucket=target_bucket,
                prefix=prefix,
                quarantine_bucket=quarantine_bucket,
                quarantine_prefix=quarantine_prefix,
                artifacts_bucket=artifacts_bucket,
                log_groups_arn=log_groups_arn,
            )

    def spark_job(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        role: iam.Role,
        script: s3_assets.Asset,
        arguments: dict[str, str],
    ) -> glue.PySparkEtlJob:
        """A Glue job of the platform: its Glue version, workers and timeout from settings, the
        security configuration, continuous logs and the shipped wheels; `arguments` add its
        own defaults."""
        return glue.PySparkEtlJob(
            scope,
            id_,
            description=description,
            role=role,
            script=glue.Code.from_bucket(script.bucket, script.s3_object_key),
            glue_version=GLUE_VERSION,
            worker_configuration=glue.WorkerConfiguration(
                worker_type=glue.WorkerType[self.settings.glue_worker_type.replace(".", "_")],
                number_of_workers=self.settings.glue_workers,
            ),
            timeout=Duration.minutes(self.settings.glue_timeout_minutes),
            # One run per job at a time: curation merges into the same partitions and a
            # derived table is replaced whole, so two runs at once would interleave files.
            max_concurrent_runs=1,
            # Reruns are the orchestrator's decision; a rerun adds nothing already curated.
            max_retries=0,
            security_configuration=self.security_configuration,
            continuous_logging=glue.ContinuousLoggingProps(enabled=True),
            default_arguments={
                **arguments,
                "--additional-python-modules": ",".join(self.wheel_urls),
                "--python-modules-installer-option": INSTALLER_OPTIONS,
            },
        )

    def grant_job_basics(self, role: iam.Role) -> None:
        """What every Glue job of the platform needs besides its data: the shipped wheels,
        its log groups (encrypted with the lake key) and Glue's metrics namespace."""
        for object_key in self.wheel_keys:
            self.assets_bucket.grant_read(role, object_key)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[self.log_groups_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": GLUE_METRICS_NAMESPACE}},
            )
        )

    def _wheel(self, index: int, wheel: Path, wheels: Wheels) -> FileAssetLocation:
        """Stage a wheel into the cloud assembly and register it under a valid wheel name."""
        stack = Stack.of(self)
        # The core wheel is rebuilt only when its sources change (its bytes carry build
        # times): name it by the sources; third-party wheels by their bytes.
        content_hash = (
            wheels.content_hash
            if wheel.name.startswith("exportintel-")
            else hashlib.sha256(wheel.read_bytes()).hexdigest()
        )
        staging = AssetStaging(
            self,
            f"Wheel{index}",
            source_path=str(wheel),
            asset_hash=content_hash,
            asset_hash_type=AssetHashType.CUSTOM,
        )
        return stack.synthesizer.add_file_asset(
            source_hash=wheel_asset_name(wheel, content_hash).removesuffix(".whl"),
            file_name=staging.relative_staged_path(stack),
            packaging=FileAssetPackaging.FILE,
        )

    def _acknowledge(
        self,
        role: iam.Role,
        *,
        name: str,
        raw_bucket: s3.IBucket,
        target_bucket: s3.IBucket,
        prefix: str,
        quarantine_bucket: s3.IBucket,
        quarantine_prefix: str,
        artifacts_bucket: s3.IBucket,
        log_groups_arn: str,
    ) -> None:
        prefixes = {
            raw_bucket.arn_for_objects(f"{name}/*"): f"reads the raw objects of `{name}/` only",
            target_bucket.arn_for_objects(f"{prefix}*"): f"reads and appends to `{prefix}` of "
            "its zone bucket (Spark writes, then removes, its `_temporary/` files there)",
            quarantine_bucket.arn_for_objects(f"{quarantine_prefix}*"): "appends rejected "
            f"records under `{quarantine_prefix}` (read first, to skip ones already there)",
            artifacts_bucket.arn_for_objects(f"{SUMMARY_PREFIX}*"): "writes its run summary "
            f"under `{SUMMARY_PREFIX}` of the artifacts bucket",
        }
        for arn, what in prefixes.items():
            acknowledge(
                role,
                wildcard_resource(self, arn),
                f"The {name} curation job {what}; object keys below the prefix are chosen at "
                "run time by Spark (partitions, part files).",
            )
        acknowledge_job_basics(
            self,
            role,
            log_groups_arn,
            metric_namespaces=(GLUE_METRICS_NAMESPACE, METRICS_NAMESPACE),
        )


def acknowledge_job_basics(
    scope: Construct,
    role: iam.Role,
    log_groups_arn: str,
    *,
    metric_namespaces: Sequence[str] = (GLUE_METRICS_NAMESPACE,),
) -> None:
    """The cdk-nag findings every Glue job role of the platform shares, with their reasons.

    `metric_namespaces`: the CloudWatch namespaces the role may put metrics to, each in a
    statement of its own whose only resource is `*`.
    """
    namespaces = " and ".join(f"`{namespace}`" for namespace in metric_namespaces)
    acknowledge(
        role,
        wildcard_resource(scope, log_groups_arn),
        "Glue creates and names the job's log groups at run time after the security "
        "configuration and the role, all under `/aws-glue/jobs`; it also associates "
        "them with the lake key (logs:AssociateKmsKey).",
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudwatch:PutMetricData has no resource-level permissions, so the resource is `*`; "
        f"each statement is limited by a cloudwatch:namespace condition, to {namespaces}.",
    )
    for action, why in {
        "s3:GetObject*": "object reads (with versions and tags) of the prefixes above",
        "s3:GetBucket*": "bucket-level reads (location, versioning) Spark's S3 client makes",
        "s3:List*": "listing the job's prefixes, as Spark does before reading or appending",
        "s3:DeleteObject*": "Spark's commit removes its `_temporary/` files (and, for a "
        "derived table, the files of the run it replaces) under the job's own prefixes",
        "s3:Abort*": "aborting the job's own failed multipart uploads",
        "kms:ReEncrypt*": "re-encryption under the lake key (bucket grants and bookmarks)",
        "kms:GenerateDataKey*": "data keys of the lake key, to write SSE-KMS objects and "
        "CSE-KMS job bookmarks",
    }.items():
        acknowledge(
            role,
            wildcard_action(action),
            f"From the grant_* calls on the lake's KMS-encrypted buckets and key: {why}; "
            "scoped to the resources of this job.",
        )
