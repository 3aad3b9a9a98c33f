"""The Glue catalog over the lake and the analysts' Athena workgroup.

Tables come from the contract registry through `exportintel.contracts.tables`, so a new
contract is new tables with no change here:
- every contract that lands in raw (`Contract.lands_in_raw`: sources, not derived datasets) gets a
  JSON table in the raw database, platform only;
- every contract gets the analysts' Parquet table in the curated database, over the bucket of its
  zone (`Contract.zone`: the curated bucket, or the quarantine bucket for quarantined records).
Named analyst queries from `exportintel.queries` are published in the workgroup.

Glue Data Catalog encryption settings (`AWS::Glue::DataCatalogEncryptionSettings`) are one per
account and region, shared by every environment in the account, so they are not owned by an
environment's stack: set them once per account (they protect catalog metadata, not data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from exportintel.contracts import Contract, all_contracts
from exportintel.contracts.tables import catalog_entries, curated_table
from exportintel.queries import named_queries
from exportintel.resources import athena_workgroup_name
from exportintel.settings import EnvironmentSettings
from infra.nag import acknowledge, wildcard_resource
from infra.removal import data_removal_policy

ATHENA_ENGINE_VERSION = "Athena engine version 3"
# Query results of the analysts' workgroup land under this prefix of the athena-results bucket.
ATHENA_RESULTS_PREFIX = "analysts/"

_TABLE_INPUT_KEYS = frozenset(
    {"Name", "Description", "TableType", "Parameters", "PartitionKeys", "StorageDescriptor"}
)
_STORAGE_KEYS = frozenset(
    {"Columns", "Location", "InputFormat", "OutputFormat", "SerdeInfo", "Parameters", "Compressed"}
)
_SERDE_KEYS = frozenset({"Name", "SerializationLibrary", "Parameters"})


def _check_keys(what: str, given: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"{what}: keys {sorted(unknown)} have no mapping to CfnTable properties")


def _columns(columns: Sequence[Mapping[str, str]]) -> list[glue.CfnTable.ColumnProperty]:
    return [
        glue.CfnTable.ColumnProperty(name=c["Name"], type=c["Type"], comment=c.get("Comment"))
        for c in columns
    ]


def table_input(glue_input: Mapping[str, Any]) -> glue.CfnTable.TableInputProperty:
    """Glue's `TableInput` (as `TableSpec.to_glue_input` returns it) as the CDK L1 property.

    Strict on purpose: a key this mapping does not know fails synth instead of silently
    disappearing from the deployed table.
    """
    _check_keys("TableInput", glue_input, _TABLE_INPUT_KEYS)
    storage = glue_input["StorageDescriptor"]
    _check_keys("StorageDescriptor", storage, _STORAGE_KEYS)
    serde = storage["SerdeInfo"]
    _check_keys("SerdeInfo", serde, _SERDE_KEYS)
    return glue.CfnTable.TableInputProperty(
        name=glue_input["Name"],
        description=glue_input.get("Description"),
        table_type=glue_input.get("TableType"),
        parameters=glue_input.get("Parameters"),
        partition_keys=_columns(glue_input.get("PartitionKeys", [])),
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
            columns=_columns(storage["Columns"]),
            location=storage.get("Location"),
            input_format=storage.get("InputFormat"),
            output_format=storage.get("OutputFormat"),
            compressed=storage.get("Compressed"),
            parameters=storage.get("Parameters"),
            serde_info=glue.CfnTable.SerdeInfoProperty(
                name=serde.get("Name"),
                serialization_library=serde.get("SerializationLibrary"),
                parameters=serde.get("Parameters"),
            ),
        ),
    )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", name) if part)


class Catalog(Construct):
    """Raw and curated databases (a table per contract), analysts' workgroup and policy."""

    raw_database: glue.CfnDatabase
    curated_database: glue.CfnDatabase
    raw_tables: dict[str, glue.CfnTable]
    curated_tables: dict[str, glue.CfnTable]
    workgroup: athena.CfnWorkGroup
    named_queries: dict[str, athena.CfnNamedQuery]
    analyst_policy: iam.ManagedPolicy

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        quarantine_bucket: s3.IBucket,
        athena_results_bucket: s3.IBucket,
        key: kms.IKey,
        contracts: Sequence[Contract] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        contracts = all_contracts() if contracts is None else tuple(contracts)
        self.settings = settings
        data_removal = data_removal_policy(settings)

        self.raw_database = glue.CfnDatabase(
            self,
            "RawDatabase",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=settings.raw_database,
                description="RAW zone as landed, platform only: analysts query the curated "
                "database.",
                location_uri=raw_bucket.s3_url_for_object(),
            ),
        )
        self.curated_database = glue.CfnDatabase(
            self,
            "CuratedDatabase",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=settings.curated_database,
                description="CURATED zone: validated, pseudonymised Parquet for analysts.",
                location_uri=curated_bucket.s3_url_for_object(),
            ),
        )
        self.raw_tables = {}
        self.curated_tables = {}
        zone_buckets = {"raw": raw_bucket, "curated": curated_bucket,
                        "quarantine": quarantine_bucket}  # fmt: skip
        databases = {
            "raw": (self.raw_database, settings.raw_database),
            "curated": (self.curated_database, settings.curated_database),
        }
        for entry in catalog_entries(contracts):
            database, database_name = databases[entry.database]
            table = glue.CfnTable(
                self,
                f"{entry.database.capitalize()}{_pascal(entry.table.name)}Table",
                catalog_id=stack.account,
                database_name=database_name,
                table_input=table_input(
                    entry.table.to_glue_input(zone_buckets[entry.bucket_zone].bucket_name)
                ),
            )
            table.add_resource_dependency(database)
            tables = self.raw_tables if entry.database == "raw" else self.curated_tables
            tables[entry.table.name] = table
        for resource in (
            self.raw_database,
            self.curated_database,
            *self.raw_tables.values(),
            *self.curated_tables.values(),
        ):
            resource.apply_removal_policy(data_removal)

        self.workgroup = athena.CfnWorkGroup(
            self,
            "AnalystsWorkGroup",
            name=athena_workgroup_name(settings),
            description=f"Analysts' queries over {settings.curated_database}",
            state="ENABLED",
            # Dev stacks must delete cleanly even when analysts saved queries in the workgroup.
            recursive_delete_option=not settings.retain_data,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.athena_bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=athena_results_bucket.s3_url_for_object(ATHENA_RESULTS_PREFIX),
                    expected_bucket_owner=stack.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )

        self.named_queries = {}
        for query in named_queries():
            named = athena.CfnNamedQuery(
                self,
                f"{_pascal(query.name)}Query",
                name=query.name,
                description=query.description[:1024] or query.name,
                database=settings.curated_database,
                query_string=query.sql,
                work_group=self.workgroup.ref,
            )
            # The workgroup is referenced (implicit dependency); the database only by name.
            named.add_resource_dependency(self.curated_database)
            self.named_queries[query.name] = named

        # Analysts read what their tables read: the whole curated bucket (it exists for them)
        # and, in the quarantine bucket, only the prefixes of quarantine-zone tables. Never raw.
        quarantine_prefixes = sorted(
            curated_table(c).prefix for c in contracts if c.zone == "quarantine"
        )
        readable = [(curated_bucket, ["*"])]
        if quarantine_prefixes:
            readable.append((quarantine_bucket, [f"{p}*" for p in quarantine_prefixes]))
        self.analyst_policy = self._analyst_policy(
            readable_objects=readable, athena_results_bucket=athena_results_bucket, key=key
        )

    def _analyst_policy(
        self,
        *,
        readable_objects: Sequence[tuple[s3.IBucket, Sequence[str]]],
        athena_results_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> iam.ManagedPolicy:
        """Query the curated database through the workgroup; nothing on raw (bucket or database).

        A managed policy rather than a role: the agency attaches it to whatever identity its
        analysts use (IAM Identity Center permission set, federated role).
        """
        stack = Stack.of(self)
        settings = self.settings
        workgroup_arn = stack.format_arn(
            service="athena", resource="workgroup", resource_name=self.workgroup.ref
        )
        data_catalog_arn = stack.format_arn(
            service="athena", resource="datacatalog", resource_name="AwsDataCatalog"
        )
        glue_catalog_arn = stack.format_arn(service="glue", resource="catalog")
        curated_database_arn = stack.format_arn(
            service="glue", resource="database", resource_name=settings.curated_database
        )
        curated_tables_arn = stack.format_arn(
            service="glue", resource="table", resource_name=f"{settings.curated_database}/*"
        )
        results_objects_arn = athena_results_bucket.arn_for_objects(f"{ATHENA_RESULTS_PREFIX}*")

        policy = iam.ManagedPolicy(
            self,
            "AnalystPolicy",
            description=(
                f"Export Intelligence analysts ({settings.name}): Athena on workgroup "
                f"{athena_workgroup_name(settings)} over {settings.curated_database}; no raw "
                "zone."
            ),
            statements=[
                iam.PolicyStatement(
                    sid="AthenaQueriesInAnalystsWorkgroup",
                    actions=[
                        "athena:StartQueryExecution",
                        "athena:StopQueryExecution",
                        "athena:GetQueryExecution",
                        "athena:GetQueryResults",
                        "athena:GetQueryResultsStream",
                        "athena:GetQueryRuntimeStatistics",
                        "athena:BatchGetQueryExecution",
                        "athena:ListQueryExecutions",
                        "athena:GetWorkGroup",
                        "athena:GetNamedQuery",
                        "athena:BatchGetNamedQuery",
                        "athena:ListNamedQueries",
                    ],
                    resources=[workgroup_arn],
                ),
                iam.PolicyStatement(
                    sid="AthenaBrowseDataCatalog",
                    actions=[
                        "athena:GetDataCatalog",
                        "athena:GetDatabase",
                        "athena:ListDatabases",
                        "athena:GetTableMetadata",
                        "athena:ListTableMetadata",
                    ],
                    resources=[data_catalog_arn],
                ),
                iam.PolicyStatement(
                    sid="GlueReadCuratedCatalog",
                    actions=[
                        "glue:GetDatabase",
                        "glue:GetDatabases",
                        "glue:GetTable",
                        "glue:GetTables",
                        "glue:GetPartition",
                        "glue:GetPartitions",
                        "glue:BatchGetPartition",
                    ],
                    resources=[glue_catalog_arn, curated_database_arn, curated_tables_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadAnalystZones",
                    actions=["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[
                        arn
                        for bucket, patterns in readable_objects
                        for arn in (
                            bucket.bucket_arn,
                            *(bucket.arn_for_objects(p) for p in patterns),
                        )
                    ],
                ),
                iam.PolicyStatement(
                    sid="ReadWriteOwnQueryResults",
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                        "s3:ListBucket",
                        "s3:ListBucketMultipartUploads",
                        "s3:GetBucketLocation",
                    ],
                    resources=[athena_results_bucket.bucket_arn, results_objects_arn],
                ),
                iam.PolicyStatement(
                    sid="UseDataLakeKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                ),
            ],
        )
        acknowledge(
            policy,
            wildcard_resource(self, curated_tables_arn),
            "Analysts read every table of the curated database (one per contract, and derived "
            "tables added later); the wildcard stops at that database.",
        )
        for bucket, patterns in readable_objects:
            for pattern in patterns:
                acknowledge(
                    policy,
                    wildcard_resource(self, bucket.arn_for_objects(pattern)),
                    "Athena reads the Parquet objects of whichever curated-database table the "
                    f"analyst queries; `{pattern}` stays inside the objects of those tables "
                    "(curated zone, or a quarantine-zone table's prefix; never raw).",
                )
        acknowledge(
            policy,
            wildcard_resource(self, results_objects_arn),
            "Athena writes and reads back query results under the workgroup's output prefix "
            f"`{ATHENA_RESULTS_PREFIX}` of the athena-results bucket.",
        )
        return policy
