"""Staging between S3 and local folders: a mirror is an exact copy, a derived table replaces."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from exportintel.etl.staging import Mirror, publish, pull

BUCKET = "lake"


def _keys(s3: object) -> set[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])  # type: ignore[attr-defined]
    return {item["Key"] for item in listed}


@mock_aws
def test_pull_copies_new_objects_and_forgets_files_the_prefix_no_longer_holds(
    tmp_path: Path,
) -> None:
    s3 = boto3.client("s3", region_name="ap-northeast-2")
    s3.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    s3.put_object(Bucket=BUCKET, Key="t/year=1/a.parquet", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="other/b.parquet", Body=b"b")
    mirror = Mirror(BUCKET, "t/", tmp_path / "t")
    # A file left by an earlier lake, and Spark's marker files, are in the folder.
    (tmp_path / "t" / "year=0").mkdir(parents=True)
    (tmp_path / "t" / "year=0" / "old.parquet").write_bytes(b"old")
    (tmp_path / "t" / "_SUCCESS").write_bytes(b"")

    assert pull(s3, mirror) == 1

    files = {p.relative_to(tmp_path / "t").as_posix() for p in (tmp_path / "t").rglob("*")
             if p.is_file()}  # fmt: skip
    assert files == {"year=1/a.parquet", "_SUCCESS"}
    assert (tmp_path / "t" / "year=1" / "a.parquet").read_bytes() == b"a"


@mock_aws
def test_publish_replaces_the_prefix_with_the_folder(tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="ap-northeast-2")
    s3.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    s3.put_object(Bucket=BUCKET, Key="t/year=2020/stale.parquet", Body=b"stale")
    s3.put_object(Bucket=BUCKET, Key="u/kept.parquet", Body=b"other table")
    folder = tmp_path / "t"
    (folder / "year=2021").mkdir(parents=True)
    (folder / "year=2021" / "part-0.parquet").write_bytes(b"new")
    (folder / "year=2021" / ".part-0.parquet.crc").write_bytes(b"crc")

    assert publish(s3, Mirror(BUCKET, "t/", folder)) == 1

    assert _keys(s3) == {"t/year=2021/part-0.parquet", "u/kept.parquet"}
