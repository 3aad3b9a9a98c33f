"""The one shape of the serving Lambda functions, shared by the API and the live counters.

Every serving function runs the same way: a bundle folder (`infra.bundling`) with
`handler.lambda_handler`, Python 3.11 on x86_64, X-Ray tracing, Powertools' service name and
metrics namespace in its environment, a log group of its own kept `log_retention_days`, and an
explicit role that may write to that log group only. What differs (environment, memory,
timeout, concurrency, and the grants the caller adds to `role`) is passed in. Keeping it here,
outside `infra.api`, lets `infra.counters` use it without depending on the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import AssetHashType, CfnResource, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from exportintel.serving.functions import ENVIRONMENT_ENV, METRICS_NAMESPACE
from exportintel.settings import EnvironmentSettings
from infra.bundling import LambdaBundle
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.removal import data_removal_policy

# Python 3.11 and x86_64 like the collectors: the bundles hold cp311 manylinux x86_64 wheels.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
HANDLER = "handler.lambda_handler"


def set_retention(log_group: logs.LogGroup, days: int) -> None:
    """Keep `log_group`'s events `days` days.

    The L2 only takes the RetentionDays enum; the setting is a plain number of days.
    """
    cast(logs.CfnLogGroup, log_group.node.default_child).retention_in_days = days


class ServingFunction(Construct):
    """A serving Lambda with its own role and log group; the caller adds the grants.

    The role is explicit: the default one carries the AWSLambdaBasicExecutionRole managed
    policy (logs on every group), while this one writes to its own log group only.
    """

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        service: str,
        description: str,
        bundle: LambdaBundle,
        environment: Mapping[str, str],
        memory_mib: int,
        timeout: Duration,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(self, "Logs", removal_policy=data_removal_policy(settings))
        set_retention(self.log_group, settings.log_retention_days)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Serving function {service} ({settings.name})",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(bundle.folder),
                # The bundle folder is named by this hash already: no need to fingerprint it.
                asset_hash=bundle.content_hash,
                asset_hash_type=AssetHashType.CUSTOM,
            ),
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            memory_size=memory_mib,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **environment,
                ENVIRONMENT_ENV: settings.name,
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
        )
        self._depend_on_policy_only()
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to Python 3.11 on purpose: Glue 5.1 and the project's environment run "
            "3.11, the bundle's compiled wheels are cp311, and the core package is tested on "
            "that one version. Move every runtime together when Glue moves.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no "
            "resource-level permissions.",
        )

    def _depend_on_policy_only(self) -> None:
        """Keep the function's DependsOn on its role's policy, drop the one on the role.

        `lambda.Function` makes the function depend on the whole role construct; the role
        itself is already a dependency through `Fn::GetAtt` (cfn-lint W3005), while the policy
        must exist before the function first runs. Grants added later land in the same policy.
        """
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is None or not isinstance(policy.node.default_child, CfnResource):
            return
        cfn_function = cast(lambda_.CfnFunction, self.function.node.default_child)
        cfn_function.add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy.node.default_child)]
        )

    def grant_read_secret(self, secret: secretsmanager.ISecret) -> None:
        """`secret.grant_read` for a secret of another stack, in this role's policy only.

        On the secret itself, `grant_read` also adds the role to the secret's key policy
        (through a kms:ViaService principal, which only a resource policy can take): the
        platform stack would refer to this stack's role while this stack refers to the
        platform's outputs, a cycle. The key's policy lets the account's IAM policies grant
        its use, so the same permissions go into this role's policy: read the secret, and
        decrypt with its key through Secrets Manager only.
        """
        imported = secretsmanager.Secret.from_secret_complete_arn(
            self, f"{secret.node.id}Reference", secret.secret_arn
        )
        imported.grant_read(self.role)
        if secret.encryption_key is not None:
            iam.Grant.add_to_principal(
                grantee=self.role,
                actions=["kms:Decrypt"],
                resource_arns=[secret.encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{Stack.of(self).region}.amazonaws.com"
                    }
                },
            )

    def acknowledge_key_wildcards(self, why: str) -> None:
        """The KMS wildcard actions of encrypting grants (`why`: which grants, on what)."""
        for action, what in {
            "kms:ReEncrypt*": "re-encryption with the platform's data key",
            "kms:GenerateDataKey*": "data keys of the platform's data key",
        }.items():
            acknowledge(self.role, wildcard_action(action), f"{why}: {what}, that key only.")

    def acknowledge_index_wildcards(self, tables: Sequence[dynamodb.Table], why: str) -> None:
        """The `<table>/index/*` resources DynamoDB grants add for tables with indexes."""
        for table in tables:
            acknowledge(
                self.role,
                wildcard_resource(self, f"{table.table_arn}/index/*"),
                f"{why}: the queries go through the table's global secondary indexes, whose "
                "ARNs are the table's ARN under /index/; this table's indexes only.",
            )
