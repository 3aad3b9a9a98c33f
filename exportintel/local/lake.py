"""The curated zone of the (emulated) S3 lake, mirrored table by table in a work folder.

The local model steps read and write tables where AWS keeps them (the curated bucket), with a
local copy for Spark and pandas, which cannot read `s3://` offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exportintel.etl.staging import Mirror, publish, pull
from exportintel.resources import Resources


class NotReady(RuntimeError):
    """An earlier step has not run: the message says which command runs it."""


@dataclass(frozen=True)
class LocalLake:
    """The curated zone of the (emulated) S3 lake, mirrored table by table in a work folder."""

    resources: Resources
    workdir: Path

    def mirror(self, table: str) -> Mirror:
        bucket = self.resources.curated_bucket
        return Mirror(bucket, f"{table}/", self.workdir / "curated" / table)

    def pull(self, table: str) -> Path:
        import boto3

        mirror = self.mirror(table)
        pull(boto3.client("s3"), mirror)
        return mirror.folder

    def publish(self, table: str) -> int:
        import boto3

        return publish(boto3.client("s3"), self.mirror(table))


def has_data(folder: Path) -> bool:
    """A table folder holding at least one Parquet file."""
    return folder.is_dir() and any(folder.rglob("*.parquet"))
