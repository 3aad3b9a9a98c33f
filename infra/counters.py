"""Live counters: a Lambda reading the clickstream stream into the counters table.

The handler (`lambdas/counters/handler.py`) folds each web event into the counters once (an
idempotency marker per event id), so Lambda's retries are safe. The event-source mapping
reports partial batch failures (a retry starts from the first failed record), halves a failing
batch, retries `counters_retry_attempts` times and skips records older than
`counters_max_record_age_hours`; what it gives up on goes, as a pointer to the shard and
sequence numbers, to a KMS-encrypted dead-letter queue watched by an alarm. The records
themselves stay in the stream (and in raw, through Firehose) for inspection and replay.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from exportintel.serving.functions import COUNTER_TABLES, KEY_SECRET_ENV
from exportintel.settings import EnvironmentSettings
from infra.bundling import LambdaBundle, counters_bundle
from infra.nag import acknowledge
from infra.removal import data_removal_policy
from infra.serving_function import ServingFunction
from infra.serving_tables import ServingTables

SERVICE_NAME = "counters"


class LiveCounters(Construct):
    """The counters function, its Kinesis event source and its dead-letter queue."""

    handler: ServingFunction
    event_source: event_sources.KinesisEventSource
    dead_letter_queue: sqs.Queue
    dead_letter_alarm: cloudwatch.Alarm

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        tables: ServingTables,
        clickstream: kinesis.IStream,
        key: kms.IKey,
        pseudonymisation_secret: secretsmanager.ISecret,
        bundle: LambdaBundle | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if settings.counters_max_record_age_hours > settings.kinesis_retention_hours:
            raise ValueError(
                f"counters_max_record_age_hours={settings.counters_max_record_age_hours} "
                f"exceeds the stream's retention ({settings.kinesis_retention_hours} h)"
            )
        removal = data_removal_policy(settings)
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
            "This queue is itself the on-failure destination of the counters' event source: "
            "it holds pointers to clickstream records the counters gave up on, read by an "
            "operator, never consumed by a program that could fail them again.",
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=f"Export Intelligence ({settings.name}): the live counters gave "
            "up on clickstream records; their shard and sequence numbers wait in the "
            "counters' dead-letter queue.",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        environment = {spec.env_var: tables.of(spec).table_name for spec in COUNTER_TABLES}
        environment[KEY_SECRET_ENV] = pseudonymisation_secret.secret_arn
        self.handler = ServingFunction(
            self,
            "CountersFunction",
            settings=settings,
            service=SERVICE_NAME,
            description="Fold clickstream events into the live counters",
            bundle=counters_bundle() if bundle is None else bundle,
            environment=environment,
            memory_mib=settings.counters_memory_mib,
            timeout=Duration.seconds(settings.counters_timeout_seconds),
        )
        for spec in COUNTER_TABLES:
            tables.of(spec).grant_read_write_data(self.handler.role)
        self.handler.grant_read_secret(pseudonymisation_secret)
        # The event source grants reading the stream (and decrypting it) and sending to the
        # dead-letter queue.
        self.event_source = event_sources.KinesisEventSource(
            clickstream,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=settings.counters_batch_size,
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=settings.counters_retry_attempts,
            max_record_age=Duration.hours(settings.counters_max_record_age_hours),
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
        )
        self.handler.function.add_event_source(self.event_source)

        self.handler.acknowledge_key_wildcards(
            "From grant_read_write_data on the counters table and the dead-letter "
            "destination's send grant, both encrypted with the platform's data key"
        )
        self.handler.acknowledge_index_wildcards(
            [tables.of(spec) for spec in COUNTER_TABLES if spec.indexes],
            "The counters function ranks items on the table's `board` index",
        )

    @property
    def function(self) -> lambda_.Function:
        return self.handler.function
