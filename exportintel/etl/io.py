"""Small I/O the jobs need besides Spark: text objects and the pseudonymisation key."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse


def write_text(uri: str, text: str) -> None:
    """Write a small text object to an S3 URI or a local path."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        import boto3

        boto3.client("s3").put_object(
            Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), Body=text.encode("utf-8")
        )
    else:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def pseudonymisation_key(secret_id: str) -> bytes:
    """The HMAC key from Secrets Manager (hex text), never logged."""
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    key = bytes.fromhex(value.strip())
    if len(key) < 32:
        raise ValueError(f"secret {secret_id} holds a key shorter than 32 bytes")
    return key
