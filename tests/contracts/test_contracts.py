"""The declared contracts: coverage of the required datasets, PII classes, generated docs."""

from __future__ import annotations

from pathlib import Path

from exportintel.contracts import PiiClass, Treatment, all_contracts, get_contract
from exportintel.contracts.dictionary import render_dictionary
from exportintel.contracts.tables import curated_table, raw_table

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "exporters", "buyers", "firm_financials", "credit_evaluations", "match_history",
    "fair_participation", "export_history", "web_events", "fx_rates", "commodity_prices",
    "country_risk", "trade_flows",
}  # fmt: skip


def test_every_required_dataset_has_a_contract() -> None:
    assert {c.name for c in all_contracts()} >= REQUIRED


def test_firm_financials_carry_the_yearly_firm_data_the_models_need() -> None:
    names = set(get_contract("firm_financials").field_names)
    assert {
        "employees", "net_income_krw_mn", "revenue_growth_pct", "operating_profit_krw_mn",
        "capital_krw_mn", "target_language_staff", "overseas_marketing_staff", "exhibitions",
        "certifications",
    } <= names  # fmt: skip


def test_contact_persons_and_user_ids_are_personal_and_never_kept_in_clear() -> None:
    for contract in all_contracts():
        for field in contract.fields:
            if field.name.startswith("contact_") or field.name in ("user_id", "cookie_id"):
                assert field.pii == PiiClass.DIRECT, (contract.name, field.name)
            if field.pii == PiiClass.DIRECT:
                assert field.effective_treatment != Treatment.KEEP, (contract.name, field.name)
            if field.pii == PiiClass.FREE_TEXT:
                assert field.effective_treatment == Treatment.SCRUB, (contract.name, field.name)


def test_cookie_ids_are_dropped_without_consent() -> None:
    events = get_contract("web_events")
    assert events.field("cookie_id").effective_treatment == Treatment.DROP_WITHOUT_CONSENT
    assert "cookie_consent" in events.field_names


def test_firm_names_are_business_identifiers() -> None:
    assert get_contract("exporters").field("firm_name").pii == PiiClass.BUSINESS
    assert get_contract("buyers").field("buyer_name").pii == PiiClass.BUSINESS


def test_curated_tables_hold_no_dropped_field_and_use_partition_projection() -> None:
    for contract in all_contracts():
        table = curated_table(contract)
        columns = {c.name for c in table.columns}
        dropped = {f.name for f in contract.fields if f.effective_treatment == Treatment.DROP}
        assert not columns & dropped, contract.name
        if contract.partition_key:
            assert table.parameters["projection.enabled"] == "true"
            assert [k.name for k in table.partition_keys] == [contract.partition_key]
            assert "${bucket}" in table.parameters["storage.location.template"]


def test_glue_input_points_at_the_zone_bucket() -> None:
    spec = raw_table(get_contract("web_events")).to_glue_input("raw-bucket")
    assert spec["StorageDescriptor"]["Location"] == "s3://raw-bucket/web_events/"
    assert spec["Parameters"]["storage.location.template"] == (
        "s3://raw-bucket/web_events/dt=${dt}/"
    )
    assert spec["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("JsonSerDe")
    curated = curated_table(get_contract("web_events")).to_glue_input("cur")
    assert curated["PartitionKeys"] == [
        {"Name": "event_month", "Type": "string", "Comment": "Month of event_time"}
    ]


def test_data_dictionary_is_current() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_dictionary(), (
        "docs/data-dictionary.md is stale: run `exportintel dictionary`"
    )


def test_dictionary_shows_class_unit_and_rules_per_field() -> None:
    text = render_dictionary()
    assert (
        "| `contact_email` | string | no | e-mail address | - | personal direct identifier "
        "| pseudonymise |" in text
    )
    assert "| `advisory_level` | int | yes | 0 to 4 | level | none | keep |" in text
