"""Staging between S3 and a local folder: what stands in for Glue's S3 connector offline, and
what the pipeline's load step uses to replace a table in the lake.

boto3 only (no Spark), so a processing job without Spark or Java can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Mirror:
    """An S3 prefix and the local folder that mirrors it."""

    bucket: str
    prefix: str  # ends with "/"
    folder: Path

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def _remote(s3: Any, mirror: Mirror) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=mirror.bucket, Prefix=mirror.prefix
    ):
        for item in page.get("Contents", []):
            sizes[item["Key"]] = item["Size"]
    return sizes


def pull(s3: Any, mirror: Mirror) -> int:
    """Make the folder a copy of the prefix: download the objects not yet mirrored (same key
    and size), delete local data files the prefix no longer holds (a lake rebuilt from
    scratch must not meet the last run's files). Returns the object count."""
    remote = _remote(s3, mirror)
    for key, size in remote.items():
        if key.endswith("/"):
            continue
        target = mirror.folder / key.removeprefix(mirror.prefix)
        if target.is_file() and target.stat().st_size == size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(mirror.bucket, key, str(target))
    if mirror.folder.is_dir():
        for path in mirror.folder.rglob("*"):
            hidden = path.name.startswith((".", "_"))  # Spark's checksums and markers
            key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
            if path.is_file() and not hidden and key not in remote:
                path.unlink()
    return len(remote)


def push(s3: Any, mirror: Mirror) -> int:
    """Upload the data files the run added (Spark's `_SUCCESS` and checksums stay local)."""
    remote = _remote(s3, mirror)
    uploaded = 0
    for path in sorted(mirror.folder.rglob("*.parquet")):
        key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
        if key not in remote:
            s3.upload_file(str(path), mirror.bucket, key)
            uploaded += 1
    return uploaded


def publish(s3: Any, mirror: Mirror) -> int:
    """Replace the prefix with the folder's data files: a derived table is rewritten whole,
    so objects the new run did not write must go. Returns the files uploaded."""
    stale = set(_remote(s3, mirror))
    uploaded = 0
    for path in sorted(mirror.folder.rglob("*.parquet")):
        key = mirror.prefix + path.relative_to(mirror.folder).as_posix()
        s3.upload_file(str(path), mirror.bucket, key)
        stale.discard(key)
        uploaded += 1
    for start in range(0, len(stale), 1000):
        batch = sorted(stale)[start : start + 1000]
        s3.delete_objects(
            Bucket=mirror.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
    return uploaded
