"""Athena SQL on DuckDB: transpilation, clear errors, and the named queries' answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exportintel.contracts import get_contract
from exportintel.contracts.schemas import arrow_schema
from exportintel.queries import get_named_query
from exportintel.query import QueryError, folder_resolver, run_local, transpile

UTC = dt.UTC


def write_table(root: Path, name: str, rows: list[dict[str, Any]]) -> None:
    contract = get_contract(name)
    schema = arrow_schema(contract)
    table = pa.Table.from_pylist([{f: r.get(f) for f in schema.names} for r in rows], schema)
    key = contract.partition_key
    pq.write_to_dataset(table, str(root / name), partition_cols=[key] if key else None)


def export(firm: str, year: int, hs: str, country: str, value: float) -> dict[str, Any]:
    return {"firm_id": firm, "year": year, "hs_code": hs, "destination_country": country,
            "export_value_usd": value, "year_partition": year}  # fmt: skip


def web(session: str, kind: str, n: int) -> dict[str, Any]:
    return {"event_id": f"e{n}", "event_time": dt.datetime(2026, 5, 1, 1, n, tzinfo=UTC),
            "event_type": kind, "cookie_consent": False, "session_id": session,
            "actor_type": "buyer", "page": "/p", "event_month": "2026-05"}  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curated")
    write_table(root, "export_history", [
        export("EXP000001", 2024, "850440", "USA", 100.0),
        export("EXP000002", 2024, "330499", "VNM", 50.0),
        export("EXP000003", 2024, "850490", "JPN", 30.0),
        export("EXP000001", 2025, "850440", "USA", 200.0),
        export("EXP000002", 2025, "330499", "VNM", 10.0),
    ])  # fmt: skip
    write_table(root, "exporters", [
        {"firm_id": f"EXP00000{i}", "firm_name": f"Firm {i}", "region": region,
         "hs_codes": ["850440"], "price_min_usd": 1.0, "price_max_usd": 2.0,
         "monthly_capacity_units": 1, "founding_year": 2000, "business_reg_no": "123-45-67890",
         "updated_at": dt.datetime(2026, 1, 1, tzinfo=UTC)}
        for i, region in ((1, "Seoul"), (2, "Busan"), (3, "Jeju"))
    ])  # fmt: skip
    write_table(root, "fx_rates", [
        {"rate_date": dt.date(2024, 1, 2), "currency": "USD", "krw_per_unit": 1300.0,
         "source": "ECB", "rate_year": 2024},
        {"rate_date": dt.date(2024, 6, 3), "currency": "USD", "krw_per_unit": 1400.0,
         "source": "ECB", "rate_year": 2024},
        {"rate_date": dt.date(2025, 1, 2), "currency": "USD", "krw_per_unit": 1450.0,
         "source": "ECB", "rate_year": 2025},
        {"rate_date": dt.date(2025, 1, 2), "currency": "JPY", "krw_per_unit": 9.5,
         "source": "ECB", "rate_year": 2025},
    ])  # fmt: skip
    write_table(root, "buyers", [
        {"buyer_id": "BUY0000001", "buyer_name": "A", "country_code": "VNM", "currency": "VND",
         "hs_codes_wanted": ["330499", "330410"], "desired_price_min_usd": 1.0,
         "desired_price_max_usd": 4.0, "desired_volume_units": 5, "founding_year": 2001,
         "bad_credit": False, "updated_at": dt.datetime(2026, 1, 1, tzinfo=UTC)},
        {"buyer_id": "BUY0000002", "buyer_name": "B", "country_code": "VNM", "currency": "VND",
         "hs_codes_wanted": ["330499"], "desired_price_min_usd": 1.0,
         "desired_price_max_usd": 8.0, "desired_volume_units": 5, "founding_year": 2001,
         "bad_credit": True, "updated_at": dt.datetime(2026, 1, 1, tzinfo=UTC)},
    ])  # fmt: skip
    write_table(root, "web_events", [
        web("s1", "profile_view", 1), web("s1", "save", 2), web("s1", "inquiry", 3),
        web("s2", "profile_view", 4), web("s2", "page_view", 5),
    ])  # fmt: skip
    write_table(root, "match_history", [
        {"match_id": f"m{i}", "exporter_id": "EXP000001", "buyer_id": "BUY0000001",
         "requested_by": "buyer", "channel": "fair", "requested_on": dt.date(2025, 3, i),
         "meeting_held": i == 1, "deal_closed": i == 1, "deal_value_usd": 500.0 if i == 1 else None,
         "requested_year": 2025}
        for i in (1, 2)
    ])  # fmt: skip
    return root


def named(lake: Path, name: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = run_local(
        get_named_query(name).sql, folder_resolver(str(lake))
    ).to_pylist()
    return result


def test_top_hs_chapters_by_year(lake: Path) -> None:
    rows = named(lake, "top_hs_chapters_by_year")
    assert [(r["year"], r["rank_in_year"], r["hs_chapter"], r["export_value_usd"],
             r["exporters"]) for r in rows] == [
        (2025, 1, "85", 200.0, 1), (2025, 2, "33", 10.0, 1),
        (2024, 1, "85", 130.0, 2), (2024, 2, "33", 50.0, 1),
    ]  # fmt: skip
    assert rows[0]["share_of_year"] == pytest.approx(200 / 210)


def test_firms_that_stopped_exporting(lake: Path) -> None:
    rows = named(lake, "firms_that_stopped_exporting")
    assert rows == [{"firm_id": "EXP000003", "region": "Jeju",
                     "export_value_usd_year_before": 30.0, "stopped_in_year": 2025}]  # fmt: skip


def test_krw_moves_vs_export_values(lake: Path) -> None:
    rows = named(lake, "krw_moves_vs_export_values")
    assert [r["year"] for r in rows] == [2024, 2025]
    assert rows[0]["krw_per_usd"] == pytest.approx(1350.0)
    assert rows[1]["krw_per_usd_change"] == pytest.approx(1450 / 1350 - 1)
    assert rows[1]["export_change"] == pytest.approx(210 / 180 - 1)


def test_buyers_by_country_and_hs_chapter_skips_bad_credit(lake: Path) -> None:
    rows = named(lake, "buyers_by_country_and_hs_chapter")
    assert rows == [{"country_code": "VNM", "hs_chapter": "33", "buyers": 1,
                     "avg_max_price_usd": 4.0}]  # fmt: skip


def test_fair_funnel(lake: Path) -> None:
    [row] = named(lake, "fair_funnel_view_to_inquiry")
    assert (row["sessions"], row["viewed"], row["saved"], row["inquired"]) == (2, 2, 1, 1)
    assert row["view_to_inquiry_rate"] == pytest.approx(0.5)


def test_match_outcomes_by_channel(lake: Path) -> None:
    [row] = named(lake, "match_outcomes_by_channel")
    assert (row["year"], row["channel"], row["requests"]) == (2025, "fair", 2)
    assert (row["meeting_rate"], row["deal_rate"], row["deal_value_usd"]) == (0.5, 0.5, 500.0)


def test_partition_pruning_reads_only_the_asked_year(lake: Path) -> None:
    sql = "SELECT count(*) AS n FROM export_history WHERE year_partition = 2025"
    assert run_local(sql, folder_resolver(str(lake))).to_pylist() == [{"n": 2}]


def test_an_unknown_table_is_named_in_the_error(lake: Path) -> None:
    with pytest.raises(QueryError, match="no contract named 'exporterz'"):
        run_local("SELECT * FROM exporterz", folder_resolver(str(lake)))


def test_bad_sql_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="does not parse"):
        transpile("SELEC firm_id FROM exporters")
    with pytest.raises(QueryError, match="one statement"):
        transpile("SELECT 1; SELECT 2")


def test_athena_functions_are_transpiled() -> None:
    duck = transpile("SELECT date_format(event_time, '%Y-%m') AS m FROM web_events")
    assert "STRFTIME" in duck.upper()


def test_a_table_not_written_yet_reads_as_empty(tmp_path: Path) -> None:
    rows = run_local("SELECT count(*) AS n FROM trade_flows", folder_resolver(str(tmp_path)))
    assert rows.to_pylist() == [{"n": 0}]
