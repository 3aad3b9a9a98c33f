"""Side features on hand-made tables: the latest firm year, the grade index, the raw-material
and exchange-rate trends and their signs, firms not founded yet, the contracts' columns and
no personal field."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from pyspark.sql import DataFrame, Row, SparkSession

from exportintel.continuity.features import RAW_MATERIALS
from exportintel.contracts import PiiClass, get_contract
from exportintel.contracts.tables import curated_table
from exportintel.matching.sides import (
    buyer_sides,
    default_as_of,
    exporter_sides,
    latest_figures,
    latest_grade,
)
from tests.continuity.handmade import figures, frame, grade, price, rate

AS_OF = dt.date(2025, 6, 30)  # the last day of fx_rates below; 365 days before: 2024-06-30
E1, E2, E3 = "EXP000001", "EXP000002", "EXP000003"
B1, B2, B3, B4, B5, B6 = (f"BUY000000{i}" for i in range(1, 7))
Record = dict[str, Any]
Rows = dict[str, dict[str, Any]]


def exporter(firm: str, founded: int, codes: list[str], names: list[str] | None) -> Record:
    return {
        "firm_id": firm, "business_reg_no": "123-45-67890", "firm_name": f"Firm {firm}",
        "region": "Busan", "hs_codes": codes, "product_names": names, "price_min_usd": 2.0,
        "price_max_usd": 3.5, "monthly_capacity_units": 5000, "founding_year": founded,
        "contact_name": "<pseudonym>", "contact_phone": "<pseudonym>",
        "contact_email": "<pseudonym>", "updated_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    }  # fmt: skip


def buyer(buyer_id: str, country: str, currency: str, *, founded: int = 2000,
          bad_credit: bool = False) -> Record:  # fmt: skip
    return {
        "buyer_id": buyer_id, "buyer_name": f"Buyer {buyer_id}", "country_code": country,
        "currency": currency, "hs_codes_wanted": ["851712", "330499", "851810"],
        "products_wanted": ["phones", "lotion"], "desired_price_min_usd": 1.0,
        "desired_price_max_usd": 4.0, "desired_volume_units": 1200,
        "annual_revenue_usd": 5e6, "founding_year": founded, "employees": 40,
        "bad_credit": bad_credit, "contact_name": "<pseudonym>", "contact_phone": None,
        "contact_email": None, "updated_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    }  # fmt: skip


# fmt: off
TABLES: dict[str, list[Record]] = {
    "exporters": [
        exporter(E1, 2010, ["850440", "392690", "851712"], ["power adapter", "phone case"]),
        exporter(E2, 2020, ["190230"], None),  # food: no raw material of its own
        exporter(E3, 2026, ["850440"], ["adapter"]),  # founded after the as-of year
    ],
    "firm_financials": [
        figures(E1, 2022, 2), figures(E1, 2023, 3),
        figures(E1, 2026, 9),  # a later year than the as-of year: not known yet
    ],
    "credit_evaluations": [
        grade(1, E1, "2024-03-01", "BBB"),
        grade(2, E1, "2025-05-01", "A", "NICE"), grade(3, E1, "2025-05-01", "BB", "KED"),
        grade(4, E1, "2025-07-01", "D"),  # after as_of
    ],
    "commodity_prices": [
        # copper (chapter 85): up 25 % over the year; the price of 2025-07-01 is after as_of
        price("2024-06-28", "copper", 8000), price("2025-06-27", "copper", 10_000),
        price("2025-07-01", "copper", 1),
        # polyethylene: down 10 %; the last quote of the 7 days up to each end counts
        price("2024-06-25", "polyethylene", 2000), price("2024-06-27", "polyethylene", 1000),
        price("2025-06-30", "polyethylene", 900),
        # cotton: its start quote is older than 7 days: no change
        price("2024-06-20", "cotton", 2000), price("2025-06-30", "cotton", 2500),
        price("2024-06-28", "brent_crude", 80), price("2025-06-30", "brent_crude", 40),
    ],
    "buyers": [
        buyer(B1, "USA", "USD"),
        buyer(B2, "DEU", "EUR", bad_credit=True),
        buyer(B3, "RUS", "RUB"),  # the ECB stopped quoting the rouble: the dollar's trend
        buyer(B4, "JPN", "JPY"),  # its start quote is stale: the dollar's trend
        buyer(B5, "KOR", "KRW"),
        buyer(B6, "USA", "USD", founded=2026),  # not founded by the as-of year
    ],
    "fx_rates": [
        rate("2024-06-28", "USD", 1300), rate("2025-06-30", "USD", 1400),
        rate("2024-06-30", "EUR", 1500), rate("2025-06-27", "EUR", 1450),
        rate("2024-06-28", "RUB", 15), rate("2022-03-01", "RUB", 14),
        rate("2024-06-20", "JPY", 9.0), rate("2025-06-30", "JPY", 9.5),
    ],
}
# fmt: on


@pytest.fixture(scope="module")
def tables(spark: SparkSession) -> dict[str, DataFrame]:
    return {name: frame(spark, name, rows) for name, rows in TABLES.items()}


def _exporters(tables: dict[str, DataFrame], as_of: dt.date = AS_OF) -> DataFrame:
    return exporter_sides(
        tables["exporters"], tables["firm_financials"], tables["credit_evaluations"],
        tables["commodity_prices"], as_of=as_of,
    )  # fmt: skip


@pytest.fixture(scope="module")
def exporters(tables: dict[str, DataFrame]) -> Rows:
    return {r["exporter_id"]: r.asDict() for r in _exporters(tables).collect()}


@pytest.fixture(scope="module")
def buyers(tables: dict[str, DataFrame]) -> Rows:
    built = buyer_sides(tables["buyers"], tables["fx_rates"], as_of=AS_OF)
    return {r["buyer_id"]: r.asDict() for r in built.collect()}


def test_the_as_of_date_defaults_to_the_last_rate(tables: dict[str, DataFrame]) -> None:
    assert default_as_of(tables["fx_rates"]) == AS_OF


def test_one_row_per_firm_founded_by_the_as_of_year(exporters: Rows, buyers: Rows) -> None:
    assert sorted(exporters) == [E1, E2]
    assert sorted(buyers) == [B1, B2, B3, B4, B5]
    assert {r["as_of"] for r in (*exporters.values(), *buyers.values())} == {AS_OF}


def test_the_offer_of_an_exporter(exporters: Rows) -> None:
    row = exporters[E1]
    assert row["hs_codes"] == ["850440", "392690", "851712"]
    assert row["hs_chapters"] == ["39", "85"]
    assert row["main_hs_chapter"] == "85"  # the first code listed
    assert row["product_text"] == "power adapter; phone case"
    assert exporters[E2]["product_text"] is None
    assert (row["price_min_usd"], row["price_max_usd"], row["monthly_capacity_units"]) == (
        2.0, 3.5, 5000,
    )  # fmt: skip
    assert (row["region"], row["firm_age"], exporters[E2]["firm_age"]) == ("Busan", 15, 5)


def test_the_figures_of_the_latest_firm_year_up_to_the_as_of_year(exporters: Rows) -> None:
    row = exporters[E1]
    expected = figures(E1, 2023, 3)
    assert row["figures_year"] == 2023
    for name in ("employees", "net_income_krw_mn", "revenue_growth_pct",
                 "operating_profit_krw_mn", "capital_krw_mn", "target_language_staff",
                 "overseas_marketing_staff", "exhibitions", "certifications"):  # fmt: skip
        assert row[name] == expected[name], name
    assert exporters[E2]["figures_year"] is None and exporters[E2]["employees"] is None


def test_the_latest_grade_as_an_index(exporters: Rows, tables: dict[str, DataFrame]) -> None:
    # A (2) and BB (4) issued on the last day up to as_of; D comes later.
    assert exporters[E1]["credit_grade"] == 3.0
    assert exporters[E2]["credit_grade"] is None
    # Earlier, the grade of the day then: BBB, or none before the first one.
    evaluations = tables["credit_evaluations"]
    assert latest_grade(evaluations, dt.date(2024, 6, 30)).collect() == [
        Row(firm_id=E1, credit_grade=3.0)
    ]
    assert latest_grade(evaluations, dt.date(2024, 2, 29)).collect() == []
    figures_2024 = latest_figures(tables["firm_financials"], dt.date(2024, 6, 30)).first()
    assert figures_2024 is not None and figures_2024["figures_year"] == 2023


def test_the_raw_material_trend_of_the_main_chapter(exporters: Rows) -> None:
    assert exporters[E1]["raw_material"] == "copper"
    assert exporters[E1]["raw_material_change"] == pytest.approx(math.log(10_000 / 8000))
    # Food has no raw material of its own: the mean of the raw materials that have a change
    # (copper and polyethylene; cotton has no start quote, crude oil is no raw material).
    assert exporters[E2]["raw_material"] is None
    assert exporters[E2]["raw_material_change"] == pytest.approx(
        (math.log(10_000 / 8000) + math.log(900 / 1000)) / 2
    )


def test_the_buyer_s_wishes_and_stability(buyers: Rows) -> None:
    row = buyers[B2]
    assert row["hs_chapters_wanted"] == ["33", "85"]
    assert row["main_hs_chapter"] == "85"
    assert row["product_text"] == "phones; lotion"
    assert (row["country_code"], row["currency"], row["bad_credit"]) == ("DEU", "EUR", True)
    assert (row["desired_price_min_usd"], row["desired_price_max_usd"]) == (1.0, 4.0)
    assert (row["desired_volume_units"], row["annual_revenue_usd"]) == (1200, 5e6)
    assert (row["firm_age"], row["employees"]) == (25, 40)
    assert not buyers[B1]["bad_credit"]


def test_the_exchange_rate_trend_of_the_buyer_s_currency(buyers: Rows) -> None:
    dollar = math.log(1400 / 1300)
    # The won weakened against the dollar: positive, Korean goods cheaper for a US buyer.
    assert buyers[B1]["fx_change"] == pytest.approx(dollar) and dollar > 0
    assert buyers[B1]["fx_currency"] == "USD"
    # ... and strengthened against the euro: negative.
    assert buyers[B2]["fx_change"] == pytest.approx(math.log(1450 / 1500))
    assert buyers[B2]["fx_change"] < 0
    assert buyers[B2]["fx_currency"] == "EUR"
    # Not quoted at both ends: the dollar's trend, said so.
    for stale in (B3, B4):
        assert (buyers[stale]["fx_currency"], buyers[stale]["fx_change"]) == (
            "USD", pytest.approx(dollar),
        )  # fmt: skip
    assert (buyers[B5]["fx_currency"], buyers[B5]["fx_change"]) == ("KRW", 0.0)


def test_without_a_dollar_rate_a_buyer_keeps_its_row(tables: dict[str, DataFrame]) -> None:
    rates = tables["fx_rates"].where("currency <> 'USD'")
    rows = {r["buyer_id"]: r for r in buyer_sides(tables["buyers"], rates, as_of=AS_OF).collect()}
    assert sorted(rows) == [B1, B2, B3, B4, B5]
    assert (rows[B1]["fx_currency"], rows[B1]["fx_change"]) == (None, None)
    assert rows[B2]["fx_currency"] == "EUR"


@pytest.mark.parametrize("name", ["matching_exporters", "matching_buyers"])
def test_the_columns_are_the_contract_s_and_none_is_personal(
    name: str, tables: dict[str, DataFrame]
) -> None:
    built = (
        _exporters(tables)
        if name == "matching_exporters"
        else buyer_sides(tables["buyers"], tables["fx_rates"], as_of=AS_OF)
    )
    contract = get_contract(name)
    declared = [(c.name, c.type) for c in curated_table(contract).columns]
    assert [(f.name, f.dataType.simpleString()) for f in built.schema] == declared
    assert not contract.personal_fields()
    source = get_contract("exporters" if name == "matching_exporters" else "buyers")
    personal = {f.name for f in source.fields if f.pii in (PiiClass.DIRECT, PiiClass.QUASI)}
    assert personal and not personal & set(built.columns)


def test_the_raw_materials_are_the_continuity_lookup_s() -> None:
    allowed = get_contract("matching_exporters").field("raw_material").allowed
    assert set(allowed or ()) == set(RAW_MATERIALS)
