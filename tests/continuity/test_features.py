"""Features at the end of year T: hand-computed values, the contract's columns, no leakage."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from exportintel.continuity.features import FEATURES, FeatureInputs, build_features
from exportintel.continuity.status import export_status_frame
from exportintel.contracts import get_contract
from exportintel.contracts.tables import curated_table
from tests.continuity import handmade as hm
from tests.continuity.handmade import F1, F2, F3, Lake, Record, handmade_lake

T = 2020
Rows = dict[tuple[str, int], dict[str, Any]]


def build(spark: SparkSession, lake: Lake) -> DataFrame:
    tables = lake.frames(spark)
    status = export_status_frame(tables["export_history"], tables["exporters"])
    # Materialised, as the job reads it from the export_status table.
    status = status.localCheckpoint(eager=True)
    return build_features(FeatureInputs(**tables, export_status=status))


def rows_of(built: DataFrame) -> Rows:
    return {(r["firm_id"], r["year"]): r.asDict() for r in built.collect()}


@pytest.fixture(scope="module")
def built(spark: SparkSession) -> DataFrame:
    return build(spark, handmade_lake())


@pytest.fixture(scope="module")
def baseline(built: DataFrame) -> Rows:
    return rows_of(built)


def test_one_row_per_firm_year_with_exports(baseline: Rows) -> None:
    assert sorted(baseline) == [
        (F1, 2018), (F1, 2019), (F1, 2020), (F1, 2021), (F1, 2023),
        (F2, 2020), (F2, 2021), (F3, 2019), (F3, 2022),
    ]  # fmt: skip


def test_the_columns_are_the_contract_s(built: DataFrame) -> None:
    table = curated_table(get_contract("continuity_features"))
    declared = [(c.name, c.type) for c in (*table.columns, *table.partition_keys)]
    assert [(f.name, f.dataType.simpleString()) for f in built.schema] == declared
    assert len(FEATURES) == 24


def test_firm_1_in_2020_by_hand(baseline: Rows) -> None:
    row = baseline[(F1, T)]
    # Destinations weighted by the export value of 2020: USA 1500, China 500 (Viet Nam: 0).
    w_usa, w_chn = 0.75, 0.25
    expected = {
        "region": "Seoul", "hs_chapter": "85",
        # No figures for 2020: those of 2019 (k = 2).
        "target_language_staff": 2.0, "overseas_marketing_staff": 3.0, "exhibitions": 4.0,
        "certifications": 5.0, "employees": 20.0, "net_income_krw_mn": 100.0,
        "revenue_growth_pct": 6.0,
        "firm_age": 20.0,
        "years_exported": 3.0, "years_since_first_export": 2.0, "novice": 0.0,
        "exported_prev_year": 1.0,
        "export_value_log": math.log(2000), "export_value_growth": math.log(2000 / 1500),
        "export_value_slope": (math.log(2000) - math.log(1000)) / 2,
        "destinations": 2.0, "hs_codes": 2.0,
        "fx_change": w_usa * math.log(1200 / 1150) + w_chn * math.log(180 / 170),
        "oil_change": math.log(41 / 65),
        "raw_material_change": math.log(6600 / 6000),  # chapter 85: copper
        "crisis_level_mean": w_chn * 2, "crisis_level_max": 2.0,  # China's level 2 of 31 Dec
        "credit_grade": 2.5,  # A and BBB on 31 December; the D of 1 January is not known yet
        # China's own import figures (60 -> 66) rather than Korea's exports (50 -> 40).
        "trade_flow_growth": w_usa * math.log(120 / 100) + w_chn * math.log(66 / 60),
        "label": 1,  # exported in 2021
    }  # fmt: skip
    assert {k: row[k] for k in expected} == pytest.approx(expected)


def test_a_novice_founded_in_2019(baseline: Rows) -> None:
    row = baseline[(F2, T)]
    expected = {
        "region": "Busan", "hs_chapter": "33", "firm_age": 1.0, "novice": 1.0,
        "years_exported": 1.0, "years_since_first_export": 0.0,
        "exported_prev_year": 0.0,  # 2019 is a year of the firm without exports
        "export_value_growth": None, "export_value_slope": None,
        "fx_change": math.log(1200 / 1150),  # Viet Nam: the dong is not quoted, USD
        "raw_material_change": math.log(900 / 1000),  # chapter 33: polyethylene
        "crisis_level_mean": 2.0, "credit_grade": None,  # the first grade comes in 2021
        "trade_flow_growth": math.log(2), "label": 1,
    }  # fmt: skip
    assert {k: row[k] for k in expected} == pytest.approx(expected)


def test_a_firm_without_agency_record_and_unlabelled_years(baseline: Rows) -> None:
    early, late = baseline[(F3, 2019)], baseline[(F3, 2022)]
    assert (early["region"], early["firm_age"], early["target_language_staff"]) == (None,) * 3
    assert early["exported_prev_year"] == 0.0  # 2018 is observed: an X
    assert early["novice"] == 1.0
    assert early["fx_change"] is None  # no rates for 2018: no change over 2019
    assert early["label"] == 0  # no exports in 2020 or 2021
    assert late["label"] is None  # 2024 is after the last observed year (2023)
    # Chapter 19 (food) has no raw material of its own: the mean change of all of them.
    mean_change = (math.log(1.1) + math.log(0.9) + math.log(1.2)) / 3
    assert late["raw_material_change"] == pytest.approx(mean_change)
    assert baseline[(F1, 2021)]["label"] == 1  # exported in 2023
    assert baseline[(F1, 2023)]["label"] is None


# ------------------------------------------------------------------------- no leakage

DATED = {
    "export_history": lambda r: r["year"] > T,
    "firm_financials": lambda r: r["year"] > T,
    "trade_flows": lambda r: r["year"] > T,
    "credit_evaluations": lambda r: r["evaluated_on"] > dt.date(T, 12, 31),
    "fx_rates": lambda r: r["rate_date"] > dt.date(T, 12, 31),
    "commodity_prices": lambda r: r["price_date"] > dt.date(T, 12, 31),
    "country_risk": lambda r: r["effective_date"] > dt.date(T, 12, 31),
}
NUMBERS = ("export_value_usd", "employees", "net_income_krw_mn", "revenue_growth_pct",
           "target_language_staff", "certifications", "krw_per_unit", "price_usd",
           "trade_value_usd")  # fmt: skip


def _after_t(table: str, record: Record) -> bool:
    return table in DATED and DATED[table](record)


def _changed(table: str, record: Record) -> Record | None:
    if table == "export_history" and record["firm_id"] == F2:
        return None  # F2 stops exporting after 2020
    new = dict(record)
    for name in NUMBERS:
        if new.get(name) is not None:
            new[name] = type(new[name])(new[name] * 7 + 3)
    if table == "credit_evaluations":
        new["grade"] = "CCC"
    if table == "country_risk":
        new["advisory_level"] = 4 - new["advisory_level"]
    return new


def test_nothing_dated_after_t_changes_the_features_of_t(spark: SparkSession,
                                                         baseline: Rows) -> None:  # fmt: skip
    # Given the same lake with every data point dated after 2020 changed, and more added
    later = handmade_lake().changed_after(_after_t, _changed, added={
        "export_history": [hm.export(F1, 2021, "870899", "JPN", 50.0),
                           hm.export(F3, 2021, "190230", "USA", 9.0)],
        "credit_evaluations": [hm.grade(9, F2, "2021-01-01", "AAA")],
        "fx_rates": [hm.rate("2021-01-01", "VND", 0.05), hm.rate("2021-01-01", "USD", 2000)],
        "commodity_prices": [hm.price("2021-01-01", "brent_crude", 200)],
        "country_risk": [hm.advisory("USA", "2021-01-01", 4)],
        "trade_flows": [hm.flow("VNM", "KOR", "33", 2021, "import", 1e9)],
    })  # fmt: skip
    # When the features are built again
    changed = rows_of(build(spark, later))
    # Then every feature of 2020 and before is the same
    for key, row in baseline.items():
        if key[1] <= T:
            before = {k: v for k, v in row.items() if k != "label"}
            after = {k: v for k, v in changed[key].items() if k != "label"}
            assert after == before, key
    # ... while the change did reach the later years and the label of 2020 (no vacuous test)
    assert changed[(F1, 2021)]["destinations"] != baseline[(F1, 2021)]["destinations"]
    assert (F2, 2021) not in changed
    assert (baseline[(F2, T)]["label"], changed[(F2, T)]["label"]) == (1, 0)
