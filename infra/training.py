"""SageMaker jobs of the pipeline: one execution role per model and its source bundle.

Every job of a model (training, scoring, loading) runs in the XGBoost 3.2-0 framework
container with the model's `sourcedir.tar.gz` (`infra.bundling.sagemaker_bundle`: the scripts
of `sagemaker_jobs/<model>/`, the core package and the wheels the container lacks), uploaded
as a file asset. A role per model keeps each job to its own tables: the continuity jobs never
see the matching inputs, nor the matching jobs the continuity index, nor the market jobs
either model's derived tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct, IConstruct, IValidation

from exportintel.cloud.sagemaker_train import xgboost_image_uri
from exportintel.contracts import get_contract
from exportintel.contracts.tables import curated_table
from exportintel.markets.data import INPUT_TABLES
from exportintel.pipeline.actions import RUNS_PREFIX
from exportintel.pipeline.graph import MODELS
from exportintel.pipeline.versions import model_prefix
from exportintel.serving.tables import TABLES
from exportintel.settings import EnvironmentSettings
from infra.etl import pascal
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.serving_tables import ServingTables

# SageMaker names its jobs' log groups and metric namespaces after the job type.
JOB_LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs")


@dataclass(frozen=True)
class ModelTables:
    """The curated tables and serving tables a model's jobs reach."""

    train: tuple[str, ...]  # read by training (its channels)
    score: tuple[str, ...]  # read by scoring besides the model
    load_reads: tuple[str, ...]
    load_writes: tuple[str, ...]  # replaced by the load step
    serving: tuple[str, ...]  # serving table roles the load step writes

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(t for t in (*self.train, *self.score, *self.load_reads)
                          if t not in self.load_writes)
        )  # fmt: skip


# What `sagemaker_jobs/<model>/{train,score,load}.py` read and write (`exportintel.pipeline.
# load` for the load step).
MODEL_TABLES: Mapping[str, ModelTables] = {
    "continuity": ModelTables(
        train=("continuity_features",),
        score=("continuity_features",),
        load_reads=("exporters", "buyers", "continuity_features", "export_status"),
        load_writes=("continuity_index",),
        serving=("continuity",),
    ),
    "matching": ModelTables(
        train=("interactions", "matching_exporters", "matching_buyers"),
        score=(),
        load_reads=("exporters", "buyers"),
        load_writes=("recommendations",),
        serving=("firms", "matches"),
    ),
    # The evidence is computed inside the jobs from the curated tables: no derived input.
    "markets": ModelTables(
        train=INPUT_TABLES,
        score=INPUT_TABLES,
        load_reads=(),
        load_writes=("market_suggestions",),
        serving=("markets",),
    ),
}


@jsii.implements(IValidation)
class _AcknowledgeWhenResolved:
    """Acknowledges a wildcard resource finding once cross-stack references are resolved.

    An ARN from another stack reads `<Bucket.Arn>` while the app is built and
    `{"Fn::GetStackOutput": ...}` once synthesis has resolved the reference, which is what
    cdk-nag checks. Construct validations run after that resolution and before the
    validation plugins, so the acknowledgement is recorded then, in its final form.
    """

    def __init__(self, construct: IConstruct, arn: str, reason: str) -> None:
        self.construct, self.arn, self.reason = construct, arn, reason

    def validate(self) -> list[str]:
        acknowledge(self.construct, wildcard_resource(self.construct, self.arn), self.reason)
        return []


def acknowledge_wildcard_resource(construct: IConstruct, arn: str, reason: str) -> None:
    """`acknowledge(construct, wildcard_resource(...), reason)` for an ARN that may come from
    another stack, recorded in its synthesised form (the form cdk-nag checks)."""
    construct.node.add_validation(_AcknowledgeWhenResolved(construct, arn, reason))


def table_prefix(table: str) -> str:
    """The curated prefix of a table (`continuity_features/`)."""
    return curated_table(get_contract(table)).prefix


class Training(Construct):
    """Per model: the SageMaker execution role and the source bundle asset."""

    roles: dict[str, iam.Role]
    bundles: dict[str, s3_assets.Asset]
    image_uri: str

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        tables: ServingTables,
        bundles: Mapping[str, Path] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if bundles is None:
            from infra.bundling import sagemaker_bundle

            bundles = {model: sagemaker_bundle(model) for model in MODELS}
        # The framework version the bundles' wheels are built for (3.2-0).
        self.image_uri = xgboost_image_uri(settings.region)
        self.roles = {}
        self.bundles = {}
        for model in MODELS:
            access = MODEL_TABLES[model]
            bundle = s3_assets.Asset(self, f"{pascal(model)}Bundle", path=str(bundles[model]))
            role = iam.Role(
                self,
                f"{pascal(model)}Role",
                assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                description=f"SageMaker: train, score and load the {model} model ({settings.name})",
            )
            bundle.bucket.grant_read(role, bundle.s3_object_key)
            for table in access.reads:
                curated_bucket.grant_read(role, f"{table_prefix(table)}*")
            for table in access.load_writes:
                curated_bucket.grant_read_write(role, f"{table_prefix(table)}*")
            # Its versions: the training output, the gate's archive, scores and the load input.
            artifacts_bucket.grant_read_write(role, f"{model_prefix(model)}/*")
            if model == "continuity":
                artifacts_bucket.grant_put(role, f"{RUNS_PREFIX}/*")
            for table in access.serving:
                tables.table(table).grant_write_data(role)
            # Volumes and outputs are encrypted with the lake key; SageMaker attaches the
            # volume through a grant on the key.
            key.grant_encrypt_decrypt(role)
            key.grant(role, "kms:CreateGrant", "kms:DescribeKey")
            self._grant_job_basics(role)
            self.roles[model] = role
            self.bundles[model] = bundle
            self._acknowledge(model, role, bundle, curated_bucket, artifacts_bucket, tables, access)

    def _image_repository_arn(self) -> str:
        account, _, rest = self.image_uri.partition(".dkr.ecr.")
        region, _, path = rest.partition(".amazonaws.com/")
        repository = path.split(":", 1)[0]
        return Stack.of(self).format_arn(
            service="ecr",
            account=account,
            region=region,
            resource="repository",
            resource_name=repository,
        )

    def _log_groups_arn(self, group: str) -> str:
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{group}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _grant_job_basics(self, role: iam.Role) -> None:
        """What every SageMaker job needs besides its data: the image, logs and metrics."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullFrameworkImage",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[self._image_repository_arn()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="JobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[self._log_groups_arn(group) for group in JOB_LOG_GROUPS],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="JobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )

    def _acknowledge(
        self,
        model: str,
        role: iam.Role,
        bundle: s3_assets.Asset,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        tables: ServingTables,
        access: ModelTables,
    ) -> None:
        prefixes = {
            curated_bucket.arn_for_objects(f"{table_prefix(t)}*"): f"reads `{table_prefix(t)}`"
            for t in access.reads
        }
        prefixes |= {
            curated_bucket.arn_for_objects(f"{table_prefix(t)}*"): f"replaces `{table_prefix(t)}`"
            " (the load step rewrites the table's files)"
            for t in access.load_writes
        }
        prefixes[artifacts_bucket.arn_for_objects(f"{model_prefix(model)}/*")] = (
            f"writes and reads its model versions under `{model_prefix(model)}/` (training "
            "output, scores, the load step's input)"
        )
        if model == "continuity":
            prefixes[artifacts_bucket.arn_for_objects(f"{RUNS_PREFIX}/*")] = (
                f"writes each run's risk-group changes under `{RUNS_PREFIX}/<run id>/`"
            )
        for arn, what in prefixes.items():
            acknowledge_wildcard_resource(
                role,
                arn,
                f"The {model} SageMaker jobs' role {what}; object keys below the prefix are "
                "chosen at run time (partitions, part files, job names).",
            )
        for group in JOB_LOG_GROUPS:
            acknowledge(
                role,
                wildcard_resource(self, self._log_groups_arn(group)),
                f"SageMaker writes each job's log streams (named after the job at run time) to "
                f"`{group}`; the role reaches that group only.",
            )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level "
            "permissions; metrics are limited to SageMaker's `/aws/sagemaker/*` namespaces.",
        )
        for table in access.serving:
            if _has_indexes(table):
                acknowledge_wildcard_resource(
                    role,
                    f"{tables.table(table).table_arn}/index/*",
                    f"The load step writes the `{table}` serving table; DynamoDB grants include "
                    "its global secondary indexes (the table's ARN under /index/).",
                )
        for action, why in {
            "s3:GetObject*": "object reads (with versions and tags) of the prefixes above",
            "s3:GetBucket*": "bucket-level reads (location, versioning) of S3 clients",
            "s3:List*": "listing the job's prefixes before reading or replacing them",
            "s3:DeleteObject*": "the load step replaces whole tables under its own prefixes",
            "s3:Abort*": "aborting the job's own failed multipart uploads",
            "kms:ReEncrypt*": "re-encryption under the lake key (bucket grants)",
            "kms:GenerateDataKey*": "data keys of the lake key for SSE-KMS objects and volumes",
        }.items():
            acknowledge(
                role,
                wildcard_action(action),
                f"From the grant_* calls on the lake's KMS-encrypted buckets and key: {why}; "
                f"scoped to the resources of the {model} jobs.",
            )


def _has_indexes(role: str) -> bool:
    return any(spec.role == role and spec.indexes for spec in TABLES)
