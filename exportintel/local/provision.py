"""Create the platform's resources on the emulation from the single sources, idempotently.

Names come from `Resources.local(settings)` (serving tables: `local_table_name`), Glue tables
from `catalog_entries` (`to_glue_input`, the same definitions the CDK catalog unit deploys),
DynamoDB tables from the serving specs, delivery-stream prefixes from
`exportintel.ingest.layout`. Running it again converges: existing resources are kept,
Glue tables are updated to the current contracts and the secret to the persisted key.

Differences from AWS, on purpose: buckets, the stream and Firehose use one emulated KMS key
found by alias (CDK keys have no alias: aliases are physical names); the IAM roles Firehose
would assume are placeholders (moto does not check them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exportintel.contracts import all_contracts
from exportintel.contracts.tables import catalog_entries
from exportintel.ingest import layout
from exportintel.resources import ZONES, Resources
from exportintel.serving.provision import create_table
from exportintel.serving.tables import TABLES, local_table_name
from exportintel.settings import PROJECT, EnvironmentSettings

ACCOUNT_ID = "123456789012"  # moto's default account

ClientFactory = Callable[[str], Any]


def pseudonymisation_secret_name(settings: EnvironmentSettings) -> str:
    """The Secrets Manager secret holding the HMAC key (hex) on the emulation."""
    return Resources.local(settings).pseudonymisation_secret


def kms_alias(settings: EnvironmentSettings) -> str:
    return f"alias/{PROJECT}-{settings.name}-data"


def _placeholder_role(settings: EnvironmentSettings, purpose: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{PROJECT}-{settings.name}-{purpose}"


@dataclass
class Inventory:
    """What exists on the emulation for one environment (the `local status` counts)."""

    buckets: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)
    delivery_streams: list[str] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)  # database -> tables
    secrets: list[str] = field(default_factory=list)
    dynamodb_tables: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"buckets           {len(self.buckets):>3}  {', '.join(self.buckets)}",
            f"kinesis streams   {len(self.streams):>3}  {', '.join(self.streams)}",
            f"firehose streams  {len(self.delivery_streams):>3}  "
            f"{', '.join(self.delivery_streams)}",
        ]
        for database, tables in sorted(self.tables.items()):
            lines.append(f"glue tables       {len(tables):>3}  in {database}")
        lines.append(f"secrets           {len(self.secrets):>3}  {', '.join(self.secrets)}")
        lines.append(f"dynamodb tables   {len(self.dynamodb_tables):>3}")
        return "\n".join(lines)


def provision(client: ClientFactory, settings: EnvironmentSettings, key: bytes) -> Inventory:
    """Create (or converge) every resource of `settings` on the emulation behind `client`."""
    resources = Resources.local(settings)
    key_arn = _data_key(client("kms"), settings)
    _buckets(client("s3"), resources, settings, key_arn)
    stream_arn = _stream(client("kinesis"), resources, settings, key_arn)
    _delivery_streams(client("firehose"), resources, settings, key_arn, stream_arn)
    _catalog(client("glue"), resources)
    _secret(client("secretsmanager"), settings, key, key_arn)
    for spec in TABLES:
        create_table(client("dynamodb"), spec, local_table_name(spec, settings.name))
    return inventory(client, settings)


def _data_key(kms: Any, settings: EnvironmentSettings) -> str:
    alias = kms_alias(settings)
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        pass
    metadata = kms.create_key(
        Description=f"Export Intelligence Platform ({settings.name}): data lake and streams"
    )["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
    return str(metadata["Arn"])


def _buckets(s3: Any, resources: Resources, settings: EnvironmentSettings, key_arn: str) -> None:
    for zone in ZONES:
        bucket = resources.bucket(zone)
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": settings.region},
            )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


def _stream(kinesis: Any, resources: Resources, settings: EnvironmentSettings, key_arn: str) -> str:
    name = resources.clickstream_stream
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(
            StreamName=name,
            ShardCount=settings.kinesis_shards,
            StreamModeDetails={"StreamMode": "PROVISIONED"},
        )
    kinesis.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    if summary["RetentionPeriodHours"] < settings.kinesis_retention_hours:
        kinesis.increase_stream_retention_period(
            StreamName=name, RetentionPeriodHours=settings.kinesis_retention_hours
        )
    if summary.get("EncryptionType", "NONE") == "NONE":
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key_arn)
    return str(summary["StreamARN"])


def _s3_destination(
    *,
    bucket: str,
    role_arn: str,
    key_arn: str,
    prefix: str,
    error_prefix: str,
    size_mib: int,
    interval_seconds: int,
) -> dict[str, Any]:
    return {
        "RoleARN": role_arn,
        "BucketARN": f"arn:aws:s3:::{bucket}",
        "Prefix": prefix,
        "ErrorOutputPrefix": error_prefix,
        "BufferingHints": {"SizeInMBs": size_mib, "IntervalInSeconds": interval_seconds},
        "CompressionFormat": "UNCOMPRESSED",
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}},
    }


def _delivery_streams(
    firehose: Any,
    resources: Resources,
    settings: EnvironmentSettings,
    key_arn: str,
    stream_arn: str,
) -> None:
    existing = set(firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"])
    if resources.clickstream_firehose not in existing:
        role = _placeholder_role(settings, "clickstream-delivery")
        buffering = settings.clickstream_buffering
        firehose.create_delivery_stream(
            DeliveryStreamName=resources.clickstream_firehose,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
            ExtendedS3DestinationConfiguration=_s3_destination(
                bucket=resources.raw_bucket,
                role_arn=role,
                key_arn=key_arn,
                prefix=layout.CLICKSTREAM_PREFIX,
                error_prefix=layout.CLICKSTREAM_ERROR_PREFIX,
                size_mib=buffering.size_mib,
                interval_seconds=buffering.interval_seconds,
            ),
        )
    if resources.feeds_firehose not in existing:
        role = _placeholder_role(settings, "feeds-delivery")
        buffering = settings.feeds_buffering
        destination = _s3_destination(
            bucket=resources.raw_bucket,
            role_arn=role,
            key_arn=key_arn,
            prefix=layout.FEEDS_PREFIX,
            error_prefix=layout.FEEDS_ERROR_PREFIX,
            size_mib=buffering.size_mib,
            interval_seconds=buffering.interval_seconds,
        )
        destination["DynamicPartitioningConfiguration"] = {
            "Enabled": True,
            "RetryOptions": {"DurationInSeconds": 300},
        }
        destination["ProcessingConfiguration"] = {
            "Enabled": True,
            "Processors": [
                {
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {
                            "ParameterName": "MetadataExtractionQuery",
                            "ParameterValue": layout.FEEDS_PARTITION_QUERY,
                        },
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                },
                # As in the CDK unit; moto runs no processors (see raw_layout).
                {"Type": "AppendDelimiterToRecord", "Parameters": []},
            ],
        }
        firehose.create_delivery_stream(
            DeliveryStreamName=resources.feeds_firehose,
            DeliveryStreamType="DirectPut",
            DeliveryStreamEncryptionConfigurationInput={
                "KeyType": "CUSTOMER_MANAGED_CMK",
                "KeyARN": key_arn,
            },
            ExtendedS3DestinationConfiguration=destination,
        )


def _catalog(glue: Any, resources: Resources) -> None:
    databases = {
        "raw": (resources.raw_database, "RAW zone, platform only"),
        "curated": (
            resources.curated_database,
            "CURATED zone: validated, pseudonymised Parquet for analysts",
        ),
    }
    for name, description in databases.values():
        with contextlib.suppress(glue.exceptions.AlreadyExistsException):
            glue.create_database(DatabaseInput={"Name": name, "Description": description})
    for entry in catalog_entries(all_contracts()):
        database = databases[entry.database][0]
        table_input = entry.table.to_glue_input(resources.bucket(entry.bucket_zone))
        try:
            glue.create_table(DatabaseName=database, TableInput=table_input)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=database, TableInput=table_input)


def _secret(secretsmanager: Any, settings: EnvironmentSettings, key: bytes, key_arn: str) -> None:
    name = pseudonymisation_secret_name(settings)
    value = key.hex()
    try:
        secretsmanager.create_secret(
            Name=name,
            Description="HMAC-SHA256 key of the pseudonyms (hex); stable across restarts",
            KmsKeyId=key_arn,
            SecretString=value,
        )
        return
    except secretsmanager.exceptions.ResourceExistsException:
        pass
    current = secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    if current != value:
        # The state folder's key file is the source of truth: the secret follows it.
        secretsmanager.put_secret_value(SecretId=name, SecretString=value)


def inventory(client: ClientFactory, settings: EnvironmentSettings) -> Inventory:
    """The resources of `settings` that exist now (other environments' are not counted)."""
    resources = Resources.local(settings)
    prefix = f"{PROJECT}-{settings.name}-"
    result = Inventory()
    buckets = client("s3").list_buckets()["Buckets"]
    result.buckets = sorted(b["Name"] for b in buckets if b["Name"].startswith(prefix))
    streams = client("kinesis").list_streams()["StreamNames"]
    result.streams = sorted(s for s in streams if s.startswith(prefix))
    names = client("firehose").list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
    result.delivery_streams = sorted(n for n in names if n.startswith(prefix))
    glue = client("glue")
    for database in (resources.raw_database, resources.curated_database):
        try:
            pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
            result.tables[database] = sorted(t["Name"] for p in pages for t in p["TableList"])
        except glue.exceptions.EntityNotFoundException:
            result.tables[database] = []
    secrets = client("secretsmanager").list_secrets()["SecretList"]
    result.secrets = sorted(
        s["Name"] for s in secrets if s["Name"].startswith(f"{PROJECT}/{settings.name}/")
    )
    dynamodb = client("dynamodb").list_tables()["TableNames"]
    result.dynamodb_tables = sorted(t for t in dynamodb if t.startswith(prefix))
    return result
