"""The catalog unit: databases, a table per contract, the analysts' workgroup, queries, policy."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from exportintel.contracts import all_contracts
from exportintel.queries import named_queries
from exportintel.resources import athena_workgroup_name
from exportintel.settings import DEV, PROD, EnvironmentSettings
from infra.catalog import ATHENA_ENGINE_VERSION, ATHENA_RESULTS_PREFIX
from infra.platform_stack import PlatformStack
from tests.infra.support import get_att_arn, logical_id, mentions, of_type, properties


def _tables(template: Template, database: str) -> dict[str, dict[str, Any]]:
    """Table inputs by table name, for the tables of one Glue database."""
    return {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
        for t in of_type(template, "AWS::Glue::Table").values()
        if t["Properties"]["DatabaseName"] == database
    }


def _analyst_statements(stack: PlatformStack, template: Template) -> list[dict[str, Any]]:
    document = properties(template, logical_id(stack, stack.catalog.analyst_policy))
    statements: list[dict[str, Any]] = document["PolicyDocument"]["Statement"]
    return statements


def test_raw_and_curated_databases_take_their_names_from_settings(
    dev_template: Template,
) -> None:
    names = {
        d["Properties"]["DatabaseInput"]["Name"]
        for d in of_type(dev_template, "AWS::Glue::Database").values()
    }
    assert names == {DEV.raw_database, DEV.curated_database}


def test_every_contract_has_its_tables(dev_template: Template) -> None:
    contracts = all_contracts()
    landing = {c.name for c in contracts if c.lands_in_raw}
    assert landing, "the registry has source contracts"
    assert set(_tables(dev_template, DEV.raw_database)) == landing
    assert set(_tables(dev_template, DEV.curated_database)) == {c.name for c in contracts}


def test_raw_tables_are_json_projected_by_landing_day_over_the_raw_bucket(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    raw_ref = {"Ref": logical_id(dev_stack, dev_stack.data_lake.raw_bucket)}
    for name, table in _tables(dev_template, DEV.raw_database).items():
        params = table["Parameters"]
        assert params["classification"] == "json", name
        assert params["projection.enabled"] == "true", name
        assert params["projection.dt.type"] == "date", name
        assert params["projection.dt.format"] == "yyyy-MM-dd", name
        assert params["storage.location.template"] == {
            "Fn::Join": ["", ["s3://", raw_ref, f"/{name}/dt=${{dt}}/"]]
        }, name
        assert table["PartitionKeys"] == [
            {"Name": "dt", "Type": "string", "Comment": "Landing day, yyyy-MM-dd"}
        ]
        assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == (
            "org.openx.data.jsonserde.JsonSerDe"
        )


def test_curated_tables_are_parquet_over_their_zone_bucket_with_projection(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    lake = dev_stack.data_lake
    zone_refs = {
        "curated": {"Ref": logical_id(dev_stack, lake.curated_bucket)},
        "quarantine": {"Ref": logical_id(dev_stack, lake.quarantine_bucket)},
    }
    contracts = {c.name: c for c in all_contracts()}
    tables = _tables(dev_template, DEV.curated_database)
    for name, table in tables.items():
        contract = contracts[name]
        location = table["StorageDescriptor"]["Location"]
        assert location == {"Fn::Join": ["", ["s3://", zone_refs[contract.zone], f"/{name}/"]]}
        assert table["Parameters"]["classification"] == "parquet", name
        if contract.partition_key is None:
            assert table["PartitionKeys"] == [], name
            continue
        key = contract.partition_key
        assert [k["Name"] for k in table["PartitionKeys"]] == [key], name
        assert table["Parameters"]["projection.enabled"] == "true", name
        assert table["Parameters"][f"projection.{key}.type"] in ("date", "integer"), name
        assert mentions(table["Parameters"]["storage.location.template"], f"{key}=${{{key}}}/")
    assert any(contracts[n].partition_key for n in tables), "some curated table is partitioned"


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_workgroup_enforces_encrypted_results_and_the_scan_cutoff(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    props = properties(template, logical_id(stack, stack.catalog.workgroup))
    assert props["Name"] == athena_workgroup_name(settings)
    config = props["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["PublishCloudWatchMetricsEnabled"] is True
    assert config["BytesScannedCutoffPerQuery"] == settings.athena_bytes_scanned_cutoff
    assert config["EngineVersion"] == {"SelectedEngineVersion": ATHENA_ENGINE_VERSION}
    results = config["ResultConfiguration"]
    assert results["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS",
        "KmsKey": get_att_arn(logical_id(stack, stack.data_lake.key)),
    }
    results_ref = {"Ref": logical_id(stack, stack.data_lake.athena_results_bucket)}
    assert results["OutputLocation"] == {
        "Fn::Join": ["", ["s3://", results_ref, f"/{ATHENA_RESULTS_PREFIX}"]]
    }
    assert DEV.athena_bytes_scanned_cutoff != PROD.athena_bytes_scanned_cutoff


def test_named_queries_run_in_the_workgroup_over_the_curated_database(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    queries = of_type(dev_template, "AWS::Athena::NamedQuery")
    assert len(queries) == len(named_queries()) >= 5
    workgroup_ref = {"Ref": logical_id(dev_stack, dev_stack.catalog.workgroup)}
    by_name = {q["Properties"]["Name"]: q["Properties"] for q in queries.values()}
    for query in named_queries():
        props = by_name[query.name]
        assert props["WorkGroup"] == workgroup_ref
        assert props["Database"] == DEV.curated_database
        assert props["QueryString"] == query.sql
        assert props["Description"]


def test_analyst_policy_never_reaches_the_raw_zone(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    raw_bucket = logical_id(dev_stack, dev_stack.data_lake.raw_bucket)
    for statement in _analyst_statements(dev_stack, dev_template):
        assert statement["Effect"] == "Allow"
        assert not mentions(statement["Resource"], raw_bucket), statement["Sid"]
        assert not mentions(statement["Resource"], DEV.raw_database), statement["Sid"]
        assert statement["Resource"] != "*", statement["Sid"]
    dev_template.has_resource_properties(
        "AWS::IAM::ManagedPolicy", {"Description": dev_stack.catalog.analyst_policy.description}
    )


def test_analyst_policy_reads_curated_through_the_workgroup(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    statements = {s["Sid"]: s for s in _analyst_statements(dev_stack, dev_template)}
    curated_bucket = logical_id(dev_stack, dev_stack.data_lake.curated_bucket)
    athena = statements["AthenaQueriesInAnalystsWorkgroup"]
    assert "athena:StartQueryExecution" in athena["Action"]
    # Only the analysts' workgroup: its ARN ends with a reference to the workgroup's name.
    parts = athena["Resource"]["Fn::Join"][1]
    assert parts[-2:] == [
        ":workgroup/",
        {"Ref": logical_id(dev_stack, dev_stack.catalog.workgroup)},
    ]
    glue = statements["GlueReadCuratedCatalog"]
    assert set(glue["Action"]) >= {"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"}
    assert mentions(glue["Resource"], f"database/{DEV.curated_database}")
    assert mentions(glue["Resource"], f"table/{DEV.curated_database}/*")
    reads = statements["ReadAnalystZones"]
    assert sorted(reads["Action"]) == ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"]
    assert mentions(reads["Resource"], curated_bucket)
    results = statements["ReadWriteOwnQueryResults"]
    assert mentions(results["Resource"], f"/{ATHENA_RESULTS_PREFIX}*")
    assert statements["UseDataLakeKey"]["Resource"] == get_att_arn(
        logical_id(dev_stack, dev_stack.data_lake.key)
    )


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_catalog_is_retained_in_prod_only(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    template: Template = request.getfixturevalue(f"{env}_template")
    expected = "Retain" if settings.retain_data else "Delete"
    for type_ in ("AWS::Glue::Database", "AWS::Glue::Table"):
        for resource_id, found in of_type(template, type_).items():
            assert found["DeletionPolicy"] == expected, resource_id


def test_analysts_read_quarantine_only_under_quarantine_table_prefixes(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    statements = {s["Sid"]: s for s in _analyst_statements(dev_stack, dev_template)}
    quarantine_id = logical_id(dev_stack, dev_stack.data_lake.quarantine_bucket)
    quarantine_arn = get_att_arn(quarantine_id)
    resources = statements["ReadAnalystZones"]["Resource"]
    on_quarantine = [r for r in resources if mentions(r, quarantine_id)]
    tables = sorted(c.name for c in all_contracts() if c.zone == "quarantine")
    expected = (
        [quarantine_arn] + [{"Fn::Join": ["", [quarantine_arn, f"/{name}/*"]]} for name in tables]
        if tables
        else []
    )
    assert on_quarantine == expected
