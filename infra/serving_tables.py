"""The serving tables: one DynamoDB table per `exportintel.serving.tables.TABLES` spec.

Keys, indexes and the TTL attribute come from the specs, which the local emulation provisions
from too, so the two cannot drift apart. Every table is on demand (staff traffic is small and
spiky; nothing to size), encrypted with the platform's customer-managed key, recoverable to any
second of the last 35 days, and named by CloudFormation: several environments share an account,
and the functions learn the names from their environment (`TableSpec.env_var`).
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from exportintel.serving.tables import TABLES, Key, TableSpec
from exportintel.settings import EnvironmentSettings
from infra.removal import data_removal_policy

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class ServingTables(Construct):
    """The tables the API functions and the live counters read and write, by role."""

    tables: dict[str, dynamodb.Table]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        key: kms.IKey,
        specs: tuple[TableSpec, ...] = TABLES,
    ) -> None:
        super().__init__(scope, id_)
        removal = data_removal_policy(settings)
        self.tables = {}
        for spec in specs:
            table = dynamodb.Table(
                self,
                spec.construct_id,
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=spec.ttl_attribute,
                removal_policy=removal,
                # Where data is retained (prod), a stray delete through the console or API is
                # refused too, not only a stack deletion.
                deletion_protection=settings.retain_data,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.tables[spec.role] = table

    def table(self, role: str) -> dynamodb.Table:
        if role not in self.tables:
            raise KeyError(f"no serving table {role!r}; tables: {', '.join(self.tables)}")
        return self.tables[role]

    def of(self, spec: TableSpec) -> dynamodb.Table:
        """The table created from `spec`."""
        return self.table(spec.role)
