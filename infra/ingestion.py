"""Ingestion into the raw zone: the clickstream Kinesis stream and two Firehose delivery streams.

Prefixes, the partition query and the landing-day rule come from `exportintel.ingest.layout`,
which producers and the local emulation follow too.

- Clickstream: web and fair sites put events on a KMS-encrypted Kinesis data stream (the live
  counters read it too); a Firehose delivery stream copies it into raw under
  `web_events/dt=<landing day>/`. Producers end each record with a newline, so raw objects are
  JSON Lines without a processor.
- External feeds: producers put JSON records on a direct-PUT Firehose delivery stream; each
  record names its contract in `_dataset`, which dynamic partitioning turns into the key prefix
  `<dataset>/dt=<landing day>/`, the layout the raw Glue tables project. Producers end each
  record with a newline (the emulated Firehose runs no processors either), so no
  AppendDelimiterToRecord processor is needed; the ETL skips blank lines all the same.

Landing days are UTC (Firehose's default) on purpose: Athena evaluates the `NOW` bound of the
raw tables' date projection in UTC, so a Seoul-time landing day would hide the newest partition
for nine hours a day.

The L1 `CfnDeliveryStream` is used rather than the L2 `DeliveryStream`: the L2 S3 destination
always grants its role read-write (delete included) on the whole bucket, while these roles get
put access on their own prefixes only.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from exportintel.ingest.layout import (
    CLICKSTREAM_DATASET,
    CLICKSTREAM_ERROR_PREFIX,
    CLICKSTREAM_PREFIX,
    FEEDS_ERROR_PREFIX,
    FEEDS_PARTITION_QUERY,
    FEEDS_PREFIX,
)
from exportintel.settings import EnvironmentSettings, FirehoseBuffering
from infra.nag import acknowledge, wildcard_action, wildcard_resource
from infra.removal import data_removal_policy

# Firehose refuses dynamic partitioning with a smaller buffer.
DYNAMIC_PARTITIONING_MIN_BUFFER_MIB = 64
# How long Firehose retries delivering a partition before it writes the records to the error
# prefix (300 s is the service default, stated so the template says what happens).
DYNAMIC_PARTITIONING_RETRY_SECONDS = 300
_LOG_STREAM = "S3Delivery"
_Cfn = firehose.CfnDeliveryStream


def _buffering_hints(buffering: FirehoseBuffering) -> _Cfn.BufferingHintsProperty:
    return _Cfn.BufferingHintsProperty(
        interval_in_seconds=buffering.interval_seconds, size_in_m_bs=buffering.size_mib
    )


class Ingestion(Construct):
    """Clickstream stream and delivery, plus the dynamically partitioned feeds delivery.

    Buffering (typed settings, `EnvironmentSettings.*_buffering`):
    - clickstream 64 MiB / 300 s: Glue reads raw in daily batches and live counters read the
      Kinesis stream itself, so S3 freshness is secondary; large objects keep the number of
      objects (and Glue/Athena per-object overhead) low, and at low traffic the 5-minute interval
      still lands data within minutes.
    - feeds 64 MiB / 900 s: 64 MiB is the floor dynamic partitioning accepts, and buffers are kept
      per partition (dataset), so the longest interval Firehose allows (900 s) is used: feeds are
      small and infrequent, and a short interval would write one tiny object per dataset per flush.
    """

    clickstream: kinesis.Stream
    clickstream_delivery: firehose.CfnDeliveryStream
    clickstream_delivery_role: iam.Role
    clickstream_log_group: logs.LogGroup
    feeds_delivery: firehose.CfnDeliveryStream
    feeds_delivery_role: iam.Role
    feeds_log_group: logs.LogGroup

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        raw_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        if settings.feeds_buffering.size_mib < DYNAMIC_PARTITIONING_MIN_BUFFER_MIB:
            raise ValueError(
                f"feeds_buffering.size_mib={settings.feeds_buffering.size_mib}: dynamic "
                f"partitioning needs at least {DYNAMIC_PARTITIONING_MIN_BUFFER_MIB} MiB"
            )
        self._settings = settings
        self._raw_bucket = raw_bucket
        self._key = key
        removal_policy = data_removal_policy(settings)

        self.clickstream = kinesis.Stream(
            self,
            "ClickstreamStream",
            stream_mode=kinesis.StreamMode.PROVISIONED,
            shard_count=settings.kinesis_shards,
            retention_period=Duration.hours(settings.kinesis_retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.clickstream,
            "AwsSolutions-KDS3",
            "The stream uses the data lake's customer-managed key, not aws/kinesis, on purpose: "
            "one key policy and one rotation schedule govern clickstream data at rest in the "
            "stream and in the raw bucket, and access to it is auditable per principal.",
        )

        # Clickstream: Kinesis -> Firehose -> raw/web_events/.
        self.clickstream_log_group = self._error_log_group(
            "ClickstreamDeliveryLogs", removal_policy
        )
        self.clickstream_delivery_role, clickstream_grants = self._delivery_role(
            "ClickstreamDeliveryRole",
            "Firehose: read the clickstream stream, write raw/web_events/",
            self.clickstream_log_group,
            [f"{CLICKSTREAM_DATASET}/*", f"errors/{CLICKSTREAM_DATASET}/*"],
        )
        clickstream_grants.append(self.clickstream.grant_read(self.clickstream_delivery_role))
        self.clickstream_delivery = firehose.CfnDeliveryStream(
            self,
            "ClickstreamDelivery",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=_Cfn.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=self.clickstream.stream_arn,
                role_arn=self.clickstream_delivery_role.role_arn,
            ),
            extended_s3_destination_configuration=self._s3_destination(
                role=self.clickstream_delivery_role,
                log_group=self.clickstream_log_group,
                prefix=CLICKSTREAM_PREFIX,
                error_output_prefix=CLICKSTREAM_ERROR_PREFIX,
                buffering=settings.clickstream_buffering,
            ),
        )
        # Firehose checks its role when the stream is created: the grants must exist first.
        self.clickstream_delivery.node.add_dependency(*clickstream_grants)
        acknowledge(
            self.clickstream_delivery,
            "AwsSolutions-KDF1",
            "Firehose rejects server-side encryption on a delivery stream whose source is a "
            "Kinesis data stream; the source stream is encrypted with the customer-managed key "
            "and so is every object Firehose writes to the raw bucket.",
        )

        # External feeds: direct PUT -> dynamic partitioning by `_dataset`.
        self.feeds_log_group = self._error_log_group("FeedsDeliveryLogs", removal_policy)
        self.feeds_delivery_role, feeds_grants = self._delivery_role(
            "FeedsDeliveryRole",
            "Firehose: write external feeds into raw/<dataset>/",
            self.feeds_log_group,
            ["*"],
        )
        feeds_destination = self._s3_destination(
            role=self.feeds_delivery_role,
            log_group=self.feeds_log_group,
            prefix=FEEDS_PREFIX,
            error_output_prefix=FEEDS_ERROR_PREFIX,
            buffering=settings.feeds_buffering,
            dynamic_partitioning=True,
        )
        self.feeds_delivery = firehose.CfnDeliveryStream(
            self,
            "FeedsDelivery",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=_Cfn.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="CUSTOMER_MANAGED_CMK", key_arn=key.key_arn
            ),
            extended_s3_destination_configuration=feeds_destination,
        )
        self.feeds_delivery.node.add_dependency(*feeds_grants)
        acknowledge(
            self.feeds_delivery_role,
            wildcard_resource(self, raw_bucket.arn_for_objects("*")),
            "Dynamic partitioning writes each record under the prefix named by its `_dataset` "
            "field (one per registered contract, growing with the registry), so object puts "
            "cannot be narrowed below the raw bucket; the role can put objects there but not "
            "read or delete them.",
        )

    def _error_log_group(self, id_: str, removal_policy: RemovalPolicy) -> logs.LogGroup:
        log_group = logs.LogGroup(self, id_, removal_policy=removal_policy)
        # The L2 only takes the RetentionDays enum; the setting is a plain number of days.
        cfn_log_group = cast(logs.CfnLogGroup, log_group.node.default_child)
        cfn_log_group.retention_in_days = self._settings.log_retention_days
        logs.LogStream(
            self,
            f"{id_}Stream",
            log_group=log_group,
            log_stream_name=_LOG_STREAM,
            removal_policy=removal_policy,
        )
        return log_group

    def _delivery_role(
        self,
        id_: str,
        description: str,
        log_group: logs.LogGroup,
        key_patterns: list[str],
    ) -> tuple[iam.Role, list[iam.Grant]]:
        """A Firehose role that can put objects under `key_patterns` of raw, and its grants.

        Beyond the puts: decrypt with the data lake key (multipart uploads to SSE-KMS), the
        bucket-level calls Firehose makes before writing, and writing its error log group.
        """
        role = iam.Role(
            self,
            id_,
            assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description=description,
        )
        grants = [self._raw_bucket.grant_put(role, pattern) for pattern in key_patterns]
        # Multipart uploads to an SSE-KMS bucket need kms:Decrypt on top of the put grant's
        # kms:GenerateDataKey*/Encrypt.
        grants.append(self._key.grant_decrypt(role))
        # The bucket-level calls Firehose makes before writing (AWS's documented S3 destination
        # policy); no grant_* method gives exactly these without object read access.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self._raw_bucket.bucket_arn],
            )
        )
        grants.append(log_group.grant_write(role))

        acknowledge(
            role,
            wildcard_action("s3:Abort*"),
            "From raw_bucket.grant_put: Firehose aborts its own failed multipart uploads under "
            "the role's key prefixes.",
        )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                role,
                wildcard_action(action),
                "From raw_bucket.grant_put on the KMS-encrypted raw bucket: Firehose generates "
                "data keys with the data lake key to write SSE-KMS objects; scoped to that key.",
            )
        for pattern in key_patterns:
            if pattern != "*":
                acknowledge(
                    role,
                    wildcard_resource(self, self._raw_bucket.arn_for_objects(pattern)),
                    f"Object puts are limited to the `{pattern}` prefix of the raw bucket that "
                    "this delivery stream (and its error output) writes to.",
                )
        return role, grants

    def _s3_destination(
        self,
        *,
        role: iam.IRole,
        log_group: logs.LogGroup,
        prefix: str,
        error_output_prefix: str,
        buffering: FirehoseBuffering,
        dynamic_partitioning: bool = False,
    ) -> _Cfn.ExtendedS3DestinationConfigurationProperty:
        processing = None
        partitioning = None
        if dynamic_partitioning:
            partitioning = _Cfn.DynamicPartitioningConfigurationProperty(
                enabled=True,
                retry_options=_Cfn.RetryOptionsProperty(
                    duration_in_seconds=DYNAMIC_PARTITIONING_RETRY_SECONDS
                ),
            )
            processing = _Cfn.ProcessingConfigurationProperty(
                enabled=True,
                processors=[
                    _Cfn.ProcessorProperty(
                        type="MetadataExtraction",
                        parameters=[
                            _Cfn.ProcessorParameterProperty(
                                parameter_name="MetadataExtractionQuery",
                                parameter_value=FEEDS_PARTITION_QUERY,
                            ),
                            _Cfn.ProcessorParameterProperty(
                                parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"
                            ),
                        ],
                    ),
                ],
            )
        return _Cfn.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=self._raw_bucket.bucket_arn,
            role_arn=role.role_arn,
            prefix=prefix,
            error_output_prefix=error_output_prefix,
            buffering_hints=_buffering_hints(buffering),
            compression_format="UNCOMPRESSED",
            encryption_configuration=_Cfn.EncryptionConfigurationProperty(
                kms_encryption_config=_Cfn.KMSEncryptionConfigProperty(
                    awskms_key_arn=self._key.key_arn
                )
            ),
            cloud_watch_logging_options=_Cfn.CloudWatchLoggingOptionsProperty(
                enabled=True,
                log_group_name=log_group.log_group_name,
                log_stream_name=_LOG_STREAM,
            ),
            dynamic_partitioning_configuration=partitioning,
            processing_configuration=processing,
        )
