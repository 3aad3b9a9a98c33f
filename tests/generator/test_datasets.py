"""Every contract dataset: where it is, how big, and that it keeps its contract."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import orjson
import pytest

from exportintel.contracts import get_contract
from exportintel.generate.writer import JsonlShards
from tests.generator.conftest import DATASETS, Generated


def test_one_folder_per_contract_and_a_manifest(small: Generated) -> None:
    assert sorted(small.summary.datasets) == DATASETS
    manifest = small.manifest["datasets"]
    for name in DATASETS:
        assert manifest[name]["files"] == [f"{name}/{name}-00000.jsonl"]
        assert manifest[name]["rows"] == len(small.lines(name)) == small.summary.datasets[name].rows
    assert "total" in small.summary.render() and "web_events" in small.summary.render()


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("exporters", 2_000, 2_050),
        ("buyers", 10_000, 10_250),
        ("web_events", 185_000, 215_000),
        ("firm_financials", 14_000, 20_000),  # a row per firm-year since founding
        ("credit_evaluations", 14_000, 22_000),  # about one grade per firm-year
        ("export_history", 15_000, 60_000),
        ("match_history", 10_000, 20_000),  # five to ten per exporter
        ("fair_participation", 8_000, 30_000),
        ("fx_rates", 80_000, 100_000),  # ~29 currencies x ~3,200 ECB days
        ("commodity_prices", 30_000, 35_000),  # 10 commodities x business days
        ("country_risk", 100, 400),
        ("trade_flows", 100_000, 130_000),
    ],
)
def test_sizes_at_small_scale(small: Generated, name: str, low: int, high: int) -> None:
    assert low <= small.summary.datasets[name].rows <= high


@pytest.mark.parametrize("name", DATASETS)
def test_good_records_keep_the_contract_and_broken_ones_are_counted(
    small: Generated, name: str
) -> None:
    entry = small.manifest["datasets"][name]
    good = small.good(name)
    # What validation rejects is exactly what the manifest reports as malformed...
    assert small.invalid(name) == entry["malformed"]
    # ...and the rest are good records plus exact duplicates.
    assert len(good) + entry["malformed"] + entry["duplicates"] == entry["rows"]
    fields = set(get_contract(name).field_names)
    assert all(set(record) == fields for record in good)
    if entry["rows"] >= 5_000:
        share = entry["malformed"] / entry["rows"]
        assert 0.005 <= share <= 0.02
        assert entry["duplicates"] > 0
        assert {"bad_type", "missing_required", "out_of_range"} <= set(entry["kinds"])


def test_duplicates_repeat_a_record_with_its_primary_key(small: Generated) -> None:
    repeated = [line for line, n in Counter(small.lines("match_history")).items() if n > 1]
    assert repeated
    keys = [orjson.loads(line)["match_id"] for line in repeated]
    assert len(keys) == len(set(keys))


def test_dates_and_timestamps_are_iso_with_zones(small: Generated) -> None:
    events = small.good("web_events")[:1000]
    assert all(e["event_time"].endswith("Z") for e in events)
    assert all(r["updated_at"].endswith("+09:00") for r in small.good("exporters"))
    years = {int(e["event_time"][:4]) for e in small.good("web_events")}
    assert years == set(range(2016, 2026))
    assert all(len(r["evaluated_on"]) == 10 for r in small.good("credit_evaluations"))


def test_ids_and_arrays_look_right(small: Generated) -> None:
    exporters = small.good("exporters")
    assert [r["firm_id"] for r in exporters[:2]] == ["EXP000001", "EXP000002"]
    counts = [len(r["hs_codes"]) for r in exporters]
    assert min(counts) >= 1 and max(counts) <= 5
    chapters = [len({code[:2] for code in r["hs_codes"]}) for r in exporters]
    assert max(chapters) <= 2
    assert all(r["price_min_usd"] <= r["price_max_usd"] for r in exporters)


def test_shards_roll_over_at_the_row_limit(tmp_path: Path) -> None:
    shards = JsonlShards(tmp_path, "rows", max_rows=3)
    shards.write_records({"n": i} for i in range(7))
    files = shards.close()
    assert [f.name for f in files] == ["rows-00000.jsonl", "rows-00001.jsonl", "rows-00002.jsonl"]
    counts = [len(f.read_bytes().splitlines()) for f in files]
    assert counts == [3, 3, 1] and shards.rows == 7


def test_fx_rates_are_real_ecb_cross_rates(small: Generated) -> None:
    usd = np.array([r["krw_per_unit"] for r in small.good("fx_rates") if r["currency"] == "USD"])
    assert len(usd) > 2_500
    assert usd.min() > 900 and usd.max() < 1600
    currencies = {r["currency"] for r in small.good("fx_rates")}
    assert {"USD", "EUR", "JPY", "CNY", "GBP", "AUD", "CAD", "HKD", "SGD", "INR", "IDR", "MYR",
            "PHP", "THB", "MXN", "BRL", "ZAR", "TRY"} <= currencies  # fmt: skip
    assert {r["source"] for r in small.good("fx_rates")} == {"ECB"}
