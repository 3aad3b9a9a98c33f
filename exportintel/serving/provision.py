"""Creating a serving table from its spec, for the local emulation and the tests.

In AWS the CDK app creates the tables (exportintel.serving.tables has the specs); locally and
in tests the same specs go through `create_table`, so keys, indexes and the TTL attribute
cannot drift from what the code reading them expects. On-demand billing, every index
projecting all attributes, as in AWS; encryption and backups are the CDK app's business.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from exportintel.serving.tables import Key, TableSpec


def create_table(client: Any, spec: TableSpec, name: str) -> None:
    """Create table `name` from `spec` with a DynamoDB client. An existing table is kept and
    given the indexes the spec has gained since it was made (an emulation started by an
    earlier version keeps its data and still answers every route)."""
    attributes: dict[str, str] = {}

    def key_schema(partition: Key, sort: Key | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
        attributes[partition.name] = partition.type
        if sort is not None:
            schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
            attributes[sort.name] = sort.type
        return schema

    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(spec.partition_key, spec.sort_key),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    request["AttributeDefinitions"] = [
        {"AttributeName": attribute, "AttributeType": kind}
        for attribute, kind in attributes.items()
    ]
    try:
        client.create_table(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        _add_missing_indexes(client, name, request)
    client.get_waiter("table_exists").wait(TableName=name)
    if spec.ttl_attribute is not None:
        _enable_ttl(client, name, spec.ttl_attribute)


def _add_missing_indexes(client: Any, name: str, request: dict[str, Any]) -> None:
    """Create, one per update as DynamoDB requires, the spec's indexes the table lacks."""
    table = client.describe_table(TableName=name)["Table"]
    existing = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in existing:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=request["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )


def _enable_ttl(client: Any, name: str, attribute: str) -> None:
    # Enabling TTL twice is an error in DynamoDB: look first.
    current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
    )
