"""Model versions in the artifacts bucket: which one serves, which served before, roll-back.

    models/<model>/<version>/...                 one training run (its job name is the version)
    models/<model>/<version>/gate.json           the quality gate's verdict on it
    models/<model>/current.json                  the version that scores (and so serves)
    models/<model>/promotions/<time>-<version>.json   every change of current.json, kept

Training never touches `current.json`: a version becomes current only when it passes the gate
(`promote`), so a failed gate leaves the previous version serving. `rollback` makes the version
that was current before the present one current again; the next scoring run (`exportintel
pipeline run --matching score`, or the state machine started with `{"matching": "score"}`)
then refills the serving tables with it.

boto3 only, so the pipeline's Lambda functions use it as well as the local runner.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

PREFIX = "models"


class NoVersion(LookupError):
    """No version to serve (nothing promoted yet, or nothing to roll back to)."""


def model_prefix(model: str) -> str:
    return f"{PREFIX}/{model}"


def version_prefix(model: str, version: str) -> str:
    return f"{model_prefix(model)}/{version}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _get_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )


def current(s3: Any, bucket: str, model: str) -> dict[str, Any] | None:
    """`current.json` (`model_version`, `model_uri`, `promoted_at`, `reason`), or None."""
    return _get_json(s3, bucket, f"{model_prefix(model)}/current.json")


def require_current(s3: Any, bucket: str, model: str) -> dict[str, Any]:
    found = current(s3, bucket, model)
    if found is None:
        raise NoVersion(f"no {model} model serves yet: train one (mode `train`)")
    return found


def record_verdict(s3: Any, bucket: str, model: str, version: str, verdict: Any) -> str:
    key = f"{version_prefix(model, version)}/gate.json"
    _put_json(s3, bucket, key, verdict)
    return key


def verdict(s3: Any, bucket: str, model: str, version: str) -> dict[str, Any] | None:
    return _get_json(s3, bucket, f"{version_prefix(model, version)}/gate.json")


def promote(
    s3: Any,
    bucket: str,
    model: str,
    version: str,
    model_uri: str,
    *,
    reason: str,
    previous_version: str | None = None,
) -> dict[str, Any]:
    """Make `version` current; the change is kept under `promotions/`. `previous_version` (what
    a roll-back from it reaches) defaults to the version current until now."""
    now = _now()
    if previous_version is None:
        previous = current(s3, bucket, model)
        previous_version = previous["model_version"] if previous else None
    record = {
        "model_version": version,
        "model_uri": model_uri,
        "promoted_at": now.isoformat(timespec="seconds"),
        "reason": reason,
        "previous_version": previous_version,
    }
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    _put_json(s3, bucket, f"{model_prefix(model)}/promotions/{stamp}-{version}.json", record)
    _put_json(s3, bucket, f"{model_prefix(model)}/current.json", record)
    return record


def promotions(s3: Any, bucket: str, model: str) -> list[dict[str, Any]]:
    """Every promotion and roll-back, oldest first."""
    prefix = f"{model_prefix(model)}/promotions/"
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    found = (_get_json(s3, bucket, key) for key in sorted(keys))
    return [record for record in found if record is not None]


def rollback(s3: Any, bucket: str, model: str) -> dict[str, Any]:
    """Make current again the version that was current before the present one."""
    now = require_current(s3, bucket, model)
    earlier = now.get("previous_version")
    # The first promotion of each version says what preceded it when it first served.
    first: dict[str, dict[str, Any]] = {}
    for record in promotions(s3, bucket, model):
        first.setdefault(record["model_version"], record)
    if not earlier or earlier not in first:
        raise NoVersion(f"{model} {now['model_version']} has no earlier version to roll back to")
    target = first[earlier]
    return promote(
        s3,
        bucket,
        model,
        earlier,
        target["model_uri"],
        reason=f"rolled back from {now['model_version']}",
        # A further roll-back goes on back in time, not forth to the version left.
        previous_version=target.get("previous_version") or "",
    )
