"""The data lake: one customer-managed key and the zone buckets it encrypts.

Zones: raw (as landed, platform only), curated (validated, pseudonymised Parquet for analysts),
quarantine (records that broke their contract, with the reason), athena_results (query output)
and artifacts (job code, models). Every zone bucket sends server access logs to one access-logs
bucket. Bucket names are left to CloudFormation so dev and prod can share an account.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from exportintel.settings import EnvironmentSettings
from infra.removal import data_removal_policy

_ACCESS_LOGS_BY_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
# Multipart uploads that never complete still cost storage; S3 cleans them up after this.
_ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7)


class DataLake(Construct):
    """KMS key plus raw, curated, quarantine, athena-results, artifacts and access-logs buckets."""

    key: kms.Key
    access_logs_bucket: s3.Bucket
    raw_bucket: s3.Bucket
    curated_bucket: s3.Bucket
    quarantine_bucket: s3.Bucket
    athena_results_bucket: s3.Bucket
    artifacts_bucket: s3.Bucket

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, id_)
        # Server access logs are delivered by bucket policy, never by ACL: the buckets keep ACLs
        # disabled (BucketOwnerEnforced) whatever flags the enclosing app sets.
        self.node.set_context(_ACCESS_LOGS_BY_BUCKET_POLICY, True)
        self._settings = settings
        self._removal_policy = data_removal_policy(settings)

        # No alias: an alias is a physical name, and several environments share an account.
        self.key = kms.Key(
            self,
            "DataKey",
            description=f"Export Intelligence Platform ({settings.name}): data lake and streams",
            enable_key_rotation=True,
            removal_policy=self._removal_policy,
            pending_window=None if settings.retain_data else Duration.days(7),
        )

        # S3 delivers server access logs only to SSE-S3 buckets; delivery is granted by this
        # bucket's policy (one statement per source bucket and prefix), so ACLs stay disabled.
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(settings.access_log_retention_days),
                    noncurrent_version_expiration=Duration.days(
                        settings.noncurrent_version_retention_days
                    ),
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
            removal_policy=self._removal_policy,
            auto_delete_objects=not settings.retain_data,
        )

        noncurrent = Duration.days(settings.noncurrent_version_retention_days)
        self.raw_bucket = self._zone_bucket(
            "RawBucket",
            "raw",
            [
                s3.LifecycleRule(
                    id="expire-raw",
                    expiration=Duration.days(settings.raw_retention_days),
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
        )
        self.curated_bucket = self._zone_bucket(
            "CuratedBucket",
            "curated",
            [
                s3.LifecycleRule(
                    id="curated-to-infrequent-access",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(
                                settings.curated_infrequent_access_after_days
                            ),
                        )
                    ],
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
        )
        # Quarantined records are raw records that broke their contract: same retention as raw.
        self.quarantine_bucket = self._zone_bucket(
            "QuarantineBucket",
            "quarantine",
            [
                s3.LifecycleRule(
                    id="expire-quarantine",
                    expiration=Duration.days(settings.raw_retention_days),
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
        )
        self.athena_results_bucket = self._zone_bucket(
            "AthenaResultsBucket",
            "athena-results",
            [
                s3.LifecycleRule(
                    id="expire-query-results",
                    expiration=Duration.days(settings.athena_results_retention_days),
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
        )
        self.artifacts_bucket = self._zone_bucket(
            "ArtifactsBucket",
            "artifacts",
            [
                s3.LifecycleRule(
                    id="expire-old-artifact-versions",
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
        )

    @property
    def zone_buckets(self) -> dict[str, s3.Bucket]:
        """The KMS-encrypted buckets by zone name (the access-logs bucket is not a zone)."""
        return {
            "raw": self.raw_bucket,
            "curated": self.curated_bucket,
            "quarantine": self.quarantine_bucket,
            "athena_results": self.athena_results_bucket,
            "artifacts": self.artifacts_bucket,
        }

    def _zone_bucket(
        self, id_: str, log_prefix: str, lifecycle_rules: Sequence[s3.LifecycleRule]
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            id_,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            # One data key per bucket instead of a KMS call per object: cheaper, same protection.
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=list(lifecycle_rules),
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=f"{log_prefix}/",
            target_object_key_format=s3.TargetObjectKeyFormat.partitioned_prefix(
                s3.PartitionDateSource.EVENT_TIME
            ),
            removal_policy=self._removal_policy,
            auto_delete_objects=not self._settings.retain_data,
        )
