"""A hand-made curated lake small enough to compute every feature by hand.

Observed years 2018-2023. Three firms:

- EXP000001 (Seoul, founded 2000) exports 2018-2021 and 2023: electrical goods (chapter 85)
  to the USA, plastics (39) to China; a zero-valued record to Viet Nam in 2020 is no export.
  No firm figures for 2020 (the features of 2020 use 2019's).
- EXP000002 (Busan, founded 2019) exports cosmetics (33) to Viet Nam in 2020 and 2021
  (and to Russia in 2021): a novice.
- EXP000003 (no agency record) exports food (19) to Russia in 2019 and 2022.

Market data covers 2019-2023; the values of 2019 and 2020 are chosen so that the features of
2020 are simple to write down (see test_features.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from exportintel.contracts import get_contract
from exportintel.contracts.schemas import arrow_schema, spark_ddl
from exportintel.curation import partition_value

Record = dict[str, Any]
DOUBLE = pa.float64()
TABLES = (
    "export_history",
    "exporters",
    "firm_financials",
    "credit_evaluations",
    "fx_rates",
    "commodity_prices",
    "country_risk",
    "trade_flows",
)


def frame(spark: SparkSession, dataset: str, records: Iterable[Record]) -> DataFrame:
    """A curated table as Spark reads it: declared types, the partition key filled in."""
    contract = get_contract(dataset)
    schema = arrow_schema(contract)
    rows = []
    for record in records:
        full = {**record}
        if contract.partition_key is not None:
            full[contract.partition_key] = partition_value(contract, record)
        # Declared types, as curation writes them: 1000 in a double column is 1000.0.
        rows.append(tuple(
            float(full[name]) if full.get(name) is not None and schema.field(name).type == DOUBLE
            else full.get(name)
            for name in schema.names
        ))  # fmt: skip
    # Materialised in the JVM: a Python-made frame would start Python workers at every scan.
    return spark.createDataFrame(rows, spark_ddl(schema)).localCheckpoint(eager=True)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def export(firm: str, year: int, hs: str, country: str, value: float) -> Record:
    return {"firm_id": firm, "year": year, "hs_code": hs, "destination_country": country,
            "export_value_usd": value}  # fmt: skip


def exporter(firm: str, region: str, founded: int) -> Record:
    return {
        "firm_id": firm, "business_reg_no": "123-45-67890", "firm_name": firm, "region": region,
        "hs_codes": ["850440"], "price_min_usd": 1.0, "price_max_usd": 2.0,
        "monthly_capacity_units": 100, "founding_year": founded,
        "updated_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    }  # fmt: skip


def figures(firm: str, year: int, k: float) -> Record:
    """Firm figures that differ by firm and year through `k`."""
    return {
        "firm_id": firm, "year": year, "employees": int(10 * k), "revenue_krw_mn": 1000 * k,
        "net_income_krw_mn": 50 * k, "revenue_growth_pct": 3 * k,
        "operating_profit_krw_mn": 60 * k, "capital_krw_mn": 500.0, "target_language_staff": int(k),
        "overseas_marketing_staff": int(k) + 1, "exhibitions": int(k) + 2,
        "certifications": int(k) + 3,
    }  # fmt: skip


def grade(n: int, firm: str, on: str, grade_: str, bureau: str = "NICE") -> Record:
    return {"evaluation_id": f"E{n}", "firm_id": firm, "evaluated_on": day(on), "grade": grade_,
            "bureau": bureau}  # fmt: skip


def rate(on: str, currency: str, krw: float) -> Record:
    return {"rate_date": day(on), "currency": currency, "krw_per_unit": krw, "source": "ECB"}


def price(on: str, commodity: str, usd: float) -> Record:
    unit = "barrel" if commodity.endswith("crude") else "tonne"
    return {"price_date": day(on), "commodity": commodity, "price_usd": usd, "unit": unit}


def advisory(country: str, on: str, level: int) -> Record:
    return {"country_code": country, "effective_date": day(on), "advisory_level": level,
            "cause": "none" if level == 0 else "unrest"}  # fmt: skip


def flow(reporter: str, partner: str, hs: str, year: int, flow_: str, value: float) -> Record:
    return {"reporter_code": reporter, "partner_code": partner, "hs_code": hs, "year": year,
            "flow": flow_, "trade_value_usd": value, "net_weight_kg": None}  # fmt: skip


@dataclass(frozen=True)
class Lake:
    """The curated tables as records, per table."""

    tables: dict[str, list[Record]]

    def frames(self, spark: SparkSession) -> dict[str, DataFrame]:
        return {name: frame(spark, name, rows) for name, rows in self.tables.items()}

    def changed_after(self, when: Callable[[str, Record], bool],
                      change: Callable[[str, Record], Record | None],
                      added: dict[str, list[Record]] | None = None) -> Lake:  # fmt: skip
        """Every record `when` selects replaced by `change` (None deletes it), plus `added`."""
        tables: dict[str, list[Record]] = {}
        for name, rows in self.tables.items():
            kept = []
            for row in rows:
                new = change(name, row) if when(name, row) else row
                if new is not None:
                    kept.append(new)
            tables[name] = kept + list((added or {}).get(name, []))
        return replace(self, tables=tables)


F1, F2, F3 = "EXP000001", "EXP000002", "EXP000003"


# fmt: off
def handmade_lake() -> Lake:
    years = range(2019, 2024)
    later = (2021, 2022, 2023)
    return Lake({
        "export_history": [
            export(F1, 2018, "850440", "USA", 1000),
            export(F1, 2019, "850440", "USA", 1200), export(F1, 2019, "392690", "CHN", 300),
            export(F1, 2020, "850440", "USA", 1500), export(F1, 2020, "392690", "CHN", 500),
            export(F1, 2020, "850440", "VNM", 0.0),
            export(F1, 2021, "850440", "USA", 800),
            export(F1, 2023, "850440", "USA", 900),
            export(F2, 2020, "330499", "VNM", 2000),
            export(F2, 2021, "330499", "VNM", 2500), export(F2, 2021, "330499", "RUS", 500),
            export(F3, 2019, "190230", "RUS", 700),
            export(F3, 2022, "190230", "RUS", 100),
        ],
        "exporters": [exporter(F1, "Seoul", 2000), exporter(F2, "Busan", 2019)],
        "firm_financials": [
            *(figures(F1, y, y - 2017) for y in (2018, 2019, 2021, 2022, 2023)),
            *(figures(F2, y, 10 + y - 2018) for y in years),
        ],
        "credit_evaluations": [
            grade(1, F1, "2019-06-01", "BBB"),
            grade(2, F1, "2020-12-31", "A", "NICE"), grade(3, F1, "2020-12-31", "BBB", "KED"),
            grade(4, F1, "2021-01-01", "D"),
            grade(5, F2, "2021-03-01", "B"),
        ],
        "fx_rates": [
            rate("2019-01-02", "USD", 1100), rate("2019-06-03", "USD", 1200),
            rate("2020-01-02", "USD", 1150), rate("2020-06-01", "USD", 1200),
            rate("2020-12-31", "USD", 1250),
            rate("2019-01-02", "CNY", 170), rate("2019-06-03", "CNY", 170),
            rate("2020-01-02", "CNY", 180), rate("2020-06-01", "CNY", 180),
            # The rouble quoted on one day of 2020 only: too few days for a yearly mean.
            rate("2019-01-02", "RUB", 18), rate("2019-06-03", "RUB", 18),
            rate("2020-01-02", "RUB", 15),
            *(rate(f"{y}-03-02", c, v) for y in later
              for c, v in (("USD", 1300), ("CNY", 190), ("RUB", 14))),
        ],
        "commodity_prices": [
            price("2019-02-01", "brent_crude", 60), price("2019-08-01", "brent_crude", 70),
            price("2020-02-03", "brent_crude", 40), price("2020-08-03", "brent_crude", 42),
            price("2019-02-01", "copper", 6000), price("2020-02-03", "copper", 6600),
            price("2019-02-01", "polyethylene", 1000), price("2020-02-03", "polyethylene", 900),
            price("2019-02-01", "cotton", 2000), price("2020-02-03", "cotton", 2000),
            # From 2021 each raw material moves by its own yearly factor.
            *(price(f"{y}-02-01", c, v * g ** (y - 2020)) for y in later
              for c, v, g in (("brent_crude", 70, 1.0), ("copper", 7000, 1.1),
                              ("polyethylene", 950, 0.9), ("cotton", 2100, 1.2))),
        ],
        "country_risk": [
            advisory("USA", "2014-01-01", 0), advisory("CHN", "2014-01-01", 0),
            advisory("CHN", "2020-12-31", 2),
            advisory("VNM", "2020-03-23", 2), advisory("VNM", "2021-01-01", 0),
            advisory("RUS", "2022-02-24", 4),
        ],
        "trade_flows": [
            flow("KOR", "USA", "85", 2019, "export", 100),
            flow("KOR", "USA", "85", 2020, "export", 120),
            flow("KOR", "CHN", "39", 2019, "export", 50),
            flow("KOR", "CHN", "39", 2020, "export", 40),
            # China reports its imports from Korea: preferred over Korea's exports.
            flow("CHN", "KOR", "39", 2019, "import", 60),
            flow("CHN", "KOR", "39", 2020, "import", 66),
            flow("KOR", "VNM", "33", 2019, "export", 10),
            flow("KOR", "VNM", "33", 2020, "export", 20),
            # Detail rows (HS6) are not chapter totals: ignored.
            flow("KOR", "USA", "850440", 2019, "export", 1),
            flow("KOR", "USA", "850440", 2020, "export", 1000),
            *(flow("KOR", c, h, y, "export", 100 + y - 2020) for y in later
              for c, h in (("USA", "85"), ("CHN", "39"), ("VNM", "33"), ("RUS", "19"))),
        ],
    })
# fmt: on
