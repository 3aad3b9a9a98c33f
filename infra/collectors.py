"""External-feed collectors: a scheduled Lambda per feed, its API key, retries and dead letters.

One function per entry of `exportintel.collectors.feeds.FEEDS` (handler
`lambdas/collectors/handler.py`, environment FEED), all from one code folder built at synth
without Docker (`infra.bundling.collector_bundle`). Each function puts the feed's records on the
direct-PUT feeds Firehose, which lands them in raw under `<dataset>/`.

A run is started by an EventBridge rule on the feed's schedule (`EnvironmentSettings
.collector_schedules`, UTC). Failures are retried twice at each stage (EventBridge delivering
the event, Lambda running it asynchronously); what still fails ends in one KMS-encrypted
dead-letter queue, watched by an alarm. Retries are safe: a run for a feed and day that already
succeeded is answered from the idempotency table (Powertools, DynamoDB, key `id`, TTL
`expiration`), and re-sent records are deduplicated when curated.

API keys: each feed that needs one has a Secrets Manager secret, created with a random
placeholder (never a valid key) and encrypted with the lake key. An operator sets the real key
once, and again whenever the provider reissues it:

    aws secretsmanager put-secret-value --secret-id <ApiKeySecretArn output of the feed> \\
        --secret-string '<key issued by the provider>'

CloudFormation never overwrites the value afterwards (the placeholder is generated only when the
secret is created). Until then the feed's runs fail at the provider and end in the
dead-letter queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

from aws_cdk import AssetHashType, CfnResource, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from exportintel.collectors.feeds import FEEDS, Feed
from exportintel.settings import EnvironmentSettings
from infra.bundling import LambdaBundle, collector_bundle
from infra.nag import acknowledge, wildcard_action
from infra.removal import data_removal_policy

# Python 3.11 like Glue 5.1 and the project's environment: the bundle's compiled wheels are
# cp311, and one interpreter version runs the core package everywhere.
RUNTIME = lambda_.Runtime.PYTHON_3_11
# The bundle is built from manylinux x86_64 wheels.
ARCHITECTURE = lambda_.Architecture.X86_64
HANDLER = "handler.lambda_handler"
SERVICE_NAME = "collectors"
# Powertools' DynamoDB persistence layer defaults: partition key and expiry attribute.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
# Lambda's asynchronous retries after a failed run, and EventBridge's after a failed delivery.
RETRY_ATTEMPTS = 2


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", name) if part)


class Collectors(Construct):
    """Collector functions with their schedules, API-key secrets, idempotency table and DLQ."""

    functions: dict[str, lambda_.Function]
    rules: dict[str, events.Rule]
    api_key_secrets: dict[str, secretsmanager.Secret]
    log_groups: dict[str, logs.LogGroup]
    idempotency_table: dynamodb.Table
    dead_letter_queue: sqs.Queue
    dead_letter_alarm: cloudwatch.Alarm

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        feeds_delivery: firehose.CfnDeliveryStream,
        key: kms.IKey,
        feeds: Mapping[str, Feed] | None = None,
        bundle: LambdaBundle | None = None,
    ) -> None:
        super().__init__(scope, id_)
        feeds = FEEDS if feeds is None else feeds
        self.settings = settings
        scheduled = {name for name, _ in settings.collector_schedules}
        if scheduled != set(feeds):
            raise ValueError(
                f"collector schedules ({sorted(scheduled)}) and feeds ({sorted(feeds)}) differ"
            )
        removal = data_removal_policy(settings)
        max_event_age = Duration.hours(settings.collector_max_event_age_hours)

        self.idempotency_table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(
                name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING
            ),
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=removal,
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(settings.dead_letter_retention_days),
            removal_policy=removal,
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the collectors (failed scheduled "
            "runs from EventBridge and Lambda); messages are inspected and replayed by hand, "
            "never consumed by a program that could fail them again.",
        )
        # EventBridge sends undeliverable events to the queue, which SQS encrypts with the lake
        # key on EventBridge's behalf. Rules of this account and region only; naming the rules
        # themselves would make the key depend on the functions that depend on it.
        stack = Stack.of(self)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="events", resource="rule", resource_name="*"
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=f"Export Intelligence ({settings.name}): a collector run failed "
            "after its retries; its event waits in the collectors' dead-letter queue.",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        bundle = collector_bundle() if bundle is None else bundle
        code = lambda_.Code.from_asset(
            str(bundle.folder),
            # The bundle folder is named by this hash already: no need to fingerprint 70 MB.
            asset_hash=bundle.content_hash,
            asset_hash_type=AssetHashType.CUSTOM,
        )
        delivery = firehose.DeliveryStream.from_delivery_stream_attributes(
            self,
            "FeedsDelivery",
            delivery_stream_arn=feeds_delivery.attr_arn,
            delivery_stream_name=feeds_delivery.ref,
        )

        self.functions = {}
        self.rules = {}
        self.api_key_secrets = {}
        self.log_groups = {}
        for name, feed in feeds.items():
            pascal = _pascal(name)
            environment = {
                "FEED": name,
                "FEEDS_DELIVERY_STREAM": feeds_delivery.ref,
                "IDEMPOTENCY_TABLE": self.idempotency_table.table_name,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            }
            secret = None
            if feed.needs_key:
                secret = secretsmanager.Secret(
                    self,
                    f"{pascal}ApiKey",
                    description=f"Export Intelligence ({settings.name}): API key of the "
                    f"{name} feed ({feed.description}). Set by an operator with "
                    "put-secret-value; created with a random placeholder.",
                    encryption_key=key,
                    generate_secret_string=secretsmanager.SecretStringGenerator(
                        exclude_punctuation=True, password_length=32
                    ),
                    removal_policy=removal,
                )
                acknowledge(
                    secret,
                    "AwsSolutions-SMG4",
                    f"The {name} API key is issued and revoked by the provider in its own "
                    "portal; Secrets Manager cannot rotate it. Operators replace it with "
                    "put-secret-value when the provider reissues it.",
                )
                environment["API_KEY_SECRET_ARN"] = secret.secret_arn
                self.api_key_secrets[name] = secret

            log_group = logs.LogGroup(self, f"{pascal}Logs", removal_policy=removal)
            # The L2 only takes the RetentionDays enum; the setting is a plain number of days.
            cast(
                logs.CfnLogGroup, log_group.node.default_child
            ).retention_in_days = settings.log_retention_days
            # An explicit role: the default one carries the AWSLambdaBasicExecutionRole managed
            # policy (logs on every group); this one writes to its own log group only.
            role = iam.Role(
                self,
                f"{pascal}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Collector of the {name} feed",
            )
            log_group.grant_write(role)
            function = lambda_.Function(
                self,
                f"{pascal}Function",
                description=f"Collect the {name} feed into raw/{feed.dataset}/",
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=HANDLER,
                code=code,
                role=role,
                log_group=log_group,
                timeout=Duration.seconds(settings.collector_timeout_seconds),
                memory_size=settings.collector_memory_mib,
                reserved_concurrent_executions=settings.collector_reserved_concurrency,
                tracing=lambda_.Tracing.ACTIVE,
                environment=environment,
            )
            function.configure_async_invoke(
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=max_event_age,
                on_failure=destinations.SqsDestination(self.dead_letter_queue),
            )
            delivery.grant_put_records(function)
            self.idempotency_table.grant_read_write_data(function)
            if secret is not None:
                secret.grant_read(function)

            schedule = settings.collector_schedule(name)
            rule = events.Rule(
                self,
                f"{pascal}Schedule",
                description=f"Run the {name} collector ({schedule.expression()}, UTC)",
                schedule=events.Schedule.cron(
                    minute=schedule.minute,
                    hour=schedule.hour,
                    day=schedule.day,
                    month=schedule.month,
                    week_day=schedule.week_day,
                ),
                targets=[
                    targets.LambdaFunction(
                        function,
                        retry_attempts=RETRY_ATTEMPTS,
                        max_event_age=max_event_age,
                        dead_letter_queue=self.dead_letter_queue,
                    )
                ],
            )
            self._depend_on_policy_only(function, role)
            self.functions[name] = function
            self.rules[name] = rule
            self.log_groups[name] = log_group
            self._acknowledge(function, role)

    def _depend_on_policy_only(self, function: lambda_.Function, role: iam.Role) -> None:
        """Keep the function's DependsOn on its role's policy, drop the one on the role.

        `lambda.Function` makes the function depend on the whole role construct; the role
        itself is already a dependency through `Fn::GetAtt` (cfn-lint W3005), while the policy
        must exist before the function first runs.
        """
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is None or not isinstance(policy.node.default_child, CfnResource):
            return
        cfn_function = cast(lambda_.CfnFunction, function.node.default_child)
        cfn_function.add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy.node.default_child)]
        )

    def _acknowledge(self, function: lambda_.Function, role: iam.Role) -> None:
        acknowledge(
            function,
            "AwsSolutions-L1",
            "Pinned to Python 3.11 on purpose: Glue 5.1 and the project's environment run "
            "3.11, the bundle's compiled wheels are cp311, and the core package is tested on "
            "that one version. Move every runtime together when Glue moves.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no "
            "resource-level permissions.",
        )
        for action, why in {
            "kms:ReEncrypt*": "re-encryption with the lake key",
            "kms:GenerateDataKey*": "data keys of the lake key",
        }.items():
            acknowledge(
                role,
                wildcard_action(action),
                f"From grant_read_write_data on the idempotency table and the dead-letter "
                f"destination's send grant, both encrypted with the lake key: {why}, "
                "that key only.",
            )
