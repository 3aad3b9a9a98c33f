"""A new data source is a new contract: its tables follow with no change to the infrastructure."""

from __future__ import annotations

import json
from collections.abc import Iterator

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from exportintel.contracts import (
    Contract,
    Field,
    FieldType,
    PiiClass,
    get_contract,
    register,
    unregister,
)
from exportintel.contracts.dictionary import render_dictionary
from exportintel.contracts.validation import validate_record
from exportintel.curation import curate_line
from exportintel.settings import DEV
from infra.application import cdk_json_context
from infra.catalog import Catalog
from infra.data_lake import DataLake

FAIR_SURVEYS = Contract(
    name="fair_surveys",
    description="Post-fair satisfaction surveys of exhibitors and visitors.",
    origin="external feed",
    primary_key=("survey_id",),
    partition_key="survey_year",
    partition_source="answered_on",
    fields=(
        Field(name="survey_id", type=FieldType.STRING, description="Survey response id"),
        Field(
            name="respondent_email",
            type=FieldType.STRING,
            description="Respondent's e-mail",
            format="email",
            pii=PiiClass.DIRECT,
        ),
        Field(name="answered_on", type=FieldType.DATE, description="Day of the answer"),
        Field(
            name="satisfaction",
            type=FieldType.INT,
            description="Overall satisfaction",
            minimum=1,
            maximum=5,
        ),
    ),
)

# A dataset the platform derives (no raw landing): a curated table only.
SURVEY_SCORES = Contract(
    name="survey_scores",
    description="Satisfaction per fair, derived from the surveys.",
    origin="derived",
    primary_key=("fair_id",),
    fields=(
        Field(name="fair_id", type=FieldType.STRING, description="Fair id"),
        Field(name="mean_satisfaction", type=FieldType.DOUBLE, description="Mean score"),
    ),
)


@pytest.fixture
def registered_contracts() -> Iterator[tuple[Contract, ...]]:
    added = (register(FAIR_SURVEYS), register(SURVEY_SCORES))
    try:
        yield added
    finally:
        for contract in added:
            unregister(contract.name)


def _catalog_template() -> Template:
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "CatalogOnly", env=cdk.Environment(region=DEV.region))
    lake = DataLake(stack, "DataLake", settings=DEV)
    Catalog(
        stack,
        "Catalog",
        settings=DEV,
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        quarantine_bucket=lake.quarantine_bucket,
        athena_results_bucket=lake.athena_results_bucket,
        key=lake.key,
    )
    return Template.from_stack(stack)


def _table_names(template: Template, database: str) -> set[str]:
    return {
        t["Properties"]["TableInput"]["Name"]
        for t in template.find_resources("AWS::Glue::Table").values()
        if t["Properties"]["DatabaseName"] == database
    }


def test_a_registered_contract_gets_its_tables(
    registered_contracts: tuple[Contract, ...],
) -> None:
    # Given a new source and a new derived dataset declared only as contracts
    assert get_contract("fair_surveys") is FAIR_SURVEYS
    # When the catalog is built from the registry
    template = _catalog_template()
    # Then the source has a raw and a curated table, the derived dataset a curated one
    assert "fair_surveys" in _table_names(template, DEV.raw_database)
    assert {"fair_surveys", "survey_scores"} <= _table_names(template, DEV.curated_database)
    assert "survey_scores" not in _table_names(template, DEV.raw_database)
    template.has_resource_properties(
        "AWS::Glue::Table",
        {
            "DatabaseName": DEV.curated_database,
            "TableInput": {
                "Name": "fair_surveys",
                "PartitionKeys": [{"Name": "survey_year", "Type": "int"}],
                "Parameters": {
                    "projection.enabled": "true",
                    "projection.survey_year.type": "integer",
                },
            },
        },
    )


def test_a_registered_contract_gets_validation_curation_and_a_dictionary_entry(
    registered_contracts: tuple[Contract, ...],
) -> None:
    # Given the same contract, and no other code
    contract = get_contract("fair_surveys")
    good = {"survey_id": "s-1", "respondent_email": "lee@fair.kr", "answered_on": "2026-05-02",
            "satisfaction": 5}  # fmt: skip
    # Then validation applies its rules
    assert validate_record(contract, good).ok
    assert validate_record(contract, {**good, "satisfaction": 6}).reason == (
        "satisfaction: out_of_range: 6 is above the maximum 5"
    )
    # And curation pseudonymises its personal field and derives its partition
    curated = curate_line(contract, json.dumps(good), bytes(range(32))).record
    assert curated is not None
    assert curated["respondent_email"].startswith("p_")
    assert curated["survey_year"] == 2026
    # And the data dictionary documents it
    dictionary = render_dictionary()
    assert "## fair_surveys" in dictionary
    assert (
        "| `respondent_email` | string | yes | e-mail address | - | personal direct" in dictionary
    )


def test_unregistering_removes_the_tables_again() -> None:
    template = _catalog_template()
    assert "fair_surveys" not in _table_names(template, DEV.curated_database)


def test_contracts_can_be_given_explicitly() -> None:
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "Explicit", env=cdk.Environment(region=DEV.region))
    lake = DataLake(stack, "DataLake", settings=DEV)
    catalog = Catalog(
        stack,
        "Catalog",
        settings=DEV,
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        quarantine_bucket=lake.quarantine_bucket,
        athena_results_bucket=lake.athena_results_bucket,
        key=lake.key,
        contracts=[FAIR_SURVEYS],
    )
    assert set(catalog.raw_tables) == set(catalog.curated_tables) == {"fair_surveys"}
    Template.from_stack(stack).resource_count_is("AWS::Glue::Table", 2)
