"""Typed per-environment settings: every difference between dev, prod and local lives here.

Plain dataclasses (no CDK import) so the CDK app, the local emulation and the CLI read the same
values. Logical resource names also come from here; physical names of buckets, streams and roles
are left to CloudFormation so several environments can share an account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_REGION = "ap-northeast-2"
PROJECT = "exportintel"


@dataclass(frozen=True, kw_only=True)
class FirehoseBuffering:
    """Firehose buffering hints: the larger, the fewer and bigger raw objects (cheaper to scan);
    the smaller, the fresher the lake. Dynamic partitioning requires at least 64 MiB."""

    size_mib: int = 64
    interval_seconds: int = 300


@dataclass(frozen=True, kw_only=True)
class EnvironmentSettings:
    name: str  # "dev", "prod" or "local"
    region: str = DEFAULT_REGION
    account: str | None = None  # None: the account of the deploying credentials
    # Retain buckets, keys and tables on stack deletion (prod) or destroy them (dev).
    retain_data: bool = False
    raw_retention_days: int = 90
    curated_infrequent_access_after_days: int = 90
    noncurrent_version_retention_days: int = 30
    access_log_retention_days: int = 365
    athena_results_retention_days: int = 30
    # CloudWatch Logs retention of delivery-error logs; must be a value CloudWatch accepts.
    log_retention_days: int = 90
    athena_bytes_scanned_cutoff: int = 10 * 1024**3
    kinesis_shards: int = 1
    kinesis_retention_hours: int = 24
    clickstream_buffering: FirehoseBuffering = field(default_factory=FirehoseBuffering)
    # External feeds are small and infrequent: the maximum interval keeps object counts low.
    feeds_buffering: FirehoseBuffering = field(
        default_factory=lambda: FirehoseBuffering(size_mib=64, interval_seconds=900)
    )

    @property
    def raw_database(self) -> str:
        return f"{PROJECT}_{self.name}_raw"

    @property
    def curated_database(self) -> str:
        return f"{PROJECT}_{self.name}_curated"

    @property
    def stage_id(self) -> str:
        return self.name.capitalize()


DEV = EnvironmentSettings(name="dev", raw_retention_days=30)
PROD = EnvironmentSettings(
    name="prod",
    retain_data=True,
    raw_retention_days=400,
    kinesis_shards=2,
    kinesis_retention_hours=168,
    athena_bytes_scanned_cutoff=100 * 1024**3,
    log_retention_days=365,
)
LOCAL = EnvironmentSettings(name="local")

ENVIRONMENTS: dict[str, EnvironmentSettings] = {s.name: s for s in (DEV, PROD)}
