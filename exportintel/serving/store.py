"""The serving tables as boto3 `Table` resources, named by the environment (one variable per
table, `TableSpec.env_var`), and DynamoDB values turned into plain JSON-ready Python."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3

from exportintel.serving.tables import TableSpec


def table(spec: TableSpec, environ: Mapping[str, str] | None = None) -> Any:
    """The boto3 Table of `spec`, named by its environment variable."""
    env = os.environ if environ is None else environ
    name = env.get(spec.env_var)
    if not name:
        raise RuntimeError(f"{spec.env_var} is not set: the function's {spec.role} table")
    return boto3.resource("dynamodb").Table(name)


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as int or float, sets as sorted lists, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set):
        return sorted(plain(v) for v in value)
    return value


def number(value: float | int) -> Decimal:
    """A float as the Decimal DynamoDB takes (6 significant decimals are plenty for scores)."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(round(float(value), 6)))


def batch_get(table_: Any, key_name: str, ids: list[str], attributes: list[str]) -> dict[str, Any]:
    """Items by key, 100 per call, unprocessed keys retried: {id: item}."""
    client = table_.meta.client
    found: dict[str, Any] = {}
    names = {f"#a{i}": a for i, a in enumerate(attributes)}
    projection = ", ".join(names)
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 100):
        request: dict[str, Any] = {
            table_.name: {
                "Keys": [{key_name: i} for i in unique[start : start + 100]],
                "ProjectionExpression": projection,
                "ExpressionAttributeNames": names,
            }
        }
        for _ in range(8):
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table_.name, []):
                found[item[key_name]] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
    return found
