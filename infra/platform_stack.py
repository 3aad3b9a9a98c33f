"""The platform stack: composes the lake, ingestion, catalog, ETL and collector units."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from exportintel.resources import Resources, output_key
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.catalog import Catalog
from infra.collectors import Collectors
from infra.data_lake import DataLake
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl
from infra.ingestion import Ingestion


class PlatformStack(Stack):
    """Data lake, ingestion, catalog, curation jobs and collectors of one environment."""

    data_lake: DataLake
    ingestion: Ingestion
    catalog: Catalog
    etl: Etl
    derived_jobs: DerivedJobs
    collectors: Collectors

    def __init__(
        self, scope: Construct, id_: str, *, settings: EnvironmentSettings, **kwargs: Any
    ) -> None:
        tags = {"project": PROJECT, "environment": settings.name}
        super().__init__(
            scope,
            id_,
            description=f"Export Intelligence Platform ({settings.name}): data lake, ingestion, "
            "catalog, curation jobs, feed collectors",
            # Stack-level tags: CloudFormation tags the stack and propagates them to resources.
            tags=tags,
            **kwargs,
        )
        self.settings = settings
        # Resource tags in the template too, so they hold whatever way the stack is deployed.
        for key, value in tags.items():
            Tags.of(self).add(key, value)

        self.data_lake = DataLake(self, "DataLake", settings=settings)
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            settings=settings,
            raw_bucket=self.data_lake.raw_bucket,
            key=self.data_lake.key,
        )
        self.catalog = Catalog(
            self,
            "Catalog",
            settings=settings,
            raw_bucket=self.data_lake.raw_bucket,
            curated_bucket=self.data_lake.curated_bucket,
            quarantine_bucket=self.data_lake.quarantine_bucket,
            athena_results_bucket=self.data_lake.athena_results_bucket,
            key=self.data_lake.key,
        )
        self.etl = Etl(
            self,
            "Etl",
            settings=settings,
            raw_bucket=self.data_lake.raw_bucket,
            curated_bucket=self.data_lake.curated_bucket,
            quarantine_bucket=self.data_lake.quarantine_bucket,
            artifacts_bucket=self.data_lake.artifacts_bucket,
            key=self.data_lake.key,
        )
        self.derived_jobs = DerivedJobs(
            self,
            "DerivedJobs",
            etl=self.etl,
            curated_bucket=self.data_lake.curated_bucket,
            artifacts_bucket=self.data_lake.artifacts_bucket,
            key=self.data_lake.key,
        )
        self.collectors = Collectors(
            self,
            "Collectors",
            settings=settings,
            feeds_delivery=self.ingestion.feeds_delivery,
            key=self.data_lake.key,
        )
        self._outputs()

    def _outputs(self) -> None:
        """Stack outputs: every name `exportintel.resources.Resources` reads back, and more.

        Output keys are `output_key(field)`, so `Resources.from_stack_outputs` finds the
        physical names CloudFormation generated.
        """
        lake, ingestion, catalog = self.data_lake, self.ingestion, self.catalog
        names: dict[str, tuple[str, str]] = {
            "raw_bucket": (lake.raw_bucket.bucket_name, "Raw zone bucket (platform only)"),
            "curated_bucket": (lake.curated_bucket.bucket_name, "Curated zone bucket"),
            "quarantine_bucket": (
                lake.quarantine_bucket.bucket_name,
                "Records that broke their contract, with the reason",
            ),
            "athena_results_bucket": (
                lake.athena_results_bucket.bucket_name,
                "Athena query results",
            ),
            "artifacts_bucket": (lake.artifacts_bucket.bucket_name, "Job code and models"),
            "clickstream_stream": (
                ingestion.clickstream.stream_name,
                "Kinesis data stream for web events",
            ),
            "clickstream_firehose": (
                ingestion.clickstream_delivery.ref,
                "Firehose delivery stream: clickstream into raw/web_events/",
            ),
            "feeds_firehose": (
                ingestion.feeds_delivery.ref,
                "Firehose delivery stream (direct PUT) for feeds; records carry `_dataset`",
            ),
            "raw_database": (self.settings.raw_database, "Glue database of the raw zone"),
            "curated_database": (
                self.settings.curated_database,
                "Glue database analysts query",
            ),
            "athena_workgroup": (catalog.workgroup.ref, "Athena workgroup for analysts"),
            "pseudonymisation_secret": (
                self.etl.pseudonymisation_secret.secret_arn,
                "Secret with the pseudonymisation (HMAC) key; never rotated",
            ),
        }
        missing = {f.name for f in fields(Resources)} - set(names)
        if missing:
            raise ValueError(f"no stack output for Resources fields {sorted(missing)}")
        extra = {
            "AccessLogsBucket": (
                lake.access_logs_bucket.bucket_name,
                "S3 server access logs of the data lake buckets",
            ),
            "DataKeyArn": (lake.key.key_arn, "Customer-managed key of the lake and streams"),
            "AnalystPolicyArn": (
                catalog.analyst_policy.managed_policy_arn,
                "Managed policy to attach to analysts' identities",
            ),
            "CollectorsDeadLetterQueueUrl": (
                self.collectors.dead_letter_queue.queue_url,
                "Failed collector runs (after retries), for inspection and replay",
            ),
            "CollectorsDeadLetterQueueArn": (
                self.collectors.dead_letter_queue.queue_arn,
                "Dead-letter queue of the collectors",
            ),
            "IdempotencyTable": (
                self.collectors.idempotency_table.table_name,
                "Collector runs already done (Powertools idempotency)",
            ),
        }
        for feed, secret in self.collectors.api_key_secrets.items():
            extra[f"{output_key(feed)}ApiKeySecretArn"] = (
                secret.secret_arn,
                f"API key of the {feed} feed: set it with put-secret-value",
            )
        outputs = {output_key(name): value for name, value in names.items()} | extra
        for id_, (value, description) in outputs.items():
            CfnOutput(self, id_, value=value, description=description)
