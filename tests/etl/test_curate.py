"""Raw to curated under local Spark: validation, quarantine, personal data, dedupe, merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from exportintel.contracts import get_contract
from exportintel.contracts.schemas import arrow_schema, spark_ddl
from exportintel.etl import curate as curate_module
from exportintel.etl.curate import ReconciliationError, RunSummary, curate_dataset
from exportintel.privacy import pseudonymise

KEY = bytes(range(32))


def event(n: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "event_time": "2026-05-01T10:00:00+09:00",
        "event_type": "search",
        "user_id": f"user-{n}",
        "cookie_id": f"cookie-{n}",
        "cookie_consent": n % 2 == 0,
        "session_id": f"s-{n}",
        "actor_type": "buyer",
        "page": "/search",
        "search_keyword": "red ginseng",
        "user_agent": "Mozilla/5.0",
    }
    record.update(overrides)
    return record


def write_lines(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


class Lake:
    """A throwaway local lake: raw, curated and quarantine folders of one test."""

    def __init__(self, root: Path, spark: SparkSession) -> None:
        self.root, self.spark = root, spark
        self.runs = 0

    def raw(self, dataset: str, day: str = "2026-05-01") -> Path:
        return self.root / "raw" / dataset / f"dt={day}"

    def run(self, dataset: str, raw_path: Path | None = None) -> RunSummary:
        self.runs += 1
        return curate_dataset(
            self.spark,
            contract=get_contract(dataset),
            raw_path=str(raw_path or self.root / "raw" / dataset),
            curated_path=str(self.root / "curated" / dataset),
            quarantine_path=str(self.root / "quarantine"),
            key=KEY,
            run_id=f"run-{self.runs}",
        )

    def read(self, path: Path, dataset: str) -> list[dict[str, Any]]:
        schema = spark_ddl(arrow_schema(get_contract(dataset)))
        frame = self.spark.read.schema(schema).parquet(str(path))
        return [row.asDict() for row in frame.collect()]

    def curated(self, dataset: str) -> list[dict[str, Any]]:
        return self.read(self.root / "curated" / dataset, dataset)

    def quarantine(self) -> list[dict[str, Any]]:
        return self.read(self.root / "quarantine", "quarantine")


@pytest.fixture
def lake(tmp_path: Path, spark: SparkSession) -> Lake:
    return Lake(tmp_path, spark)


def test_good_events_are_typed_treated_and_partitioned_by_seoul_month(lake: Lake) -> None:
    write_lines(lake.raw("web_events"), "a.jsonl", [
        json.dumps(event(1, event_time="2026-04-30T23:30:00+00:00")),
        json.dumps(event(2, search_keyword="call 010-1234-5678 or kim@example.com")),
    ])  # fmt: skip
    summary = lake.run("web_events")
    assert (summary.read, summary.written, summary.quarantined, summary.duplicates) == (2, 2, 0, 0)
    rows = {r["event_id"][-1]: r for r in lake.curated("web_events")}
    # 23:30 UTC on 30 April is 08:30 on 1 May in Seoul: a May event.
    assert rows["1"]["event_month"] == "2026-05"
    assert rows["1"]["user_id"] == pseudonymise("user-1", KEY)
    assert rows["1"]["cookie_id"] is None  # no consent: dropped
    assert rows["2"]["cookie_id"] == pseudonymise("cookie-2", KEY)  # consent: pseudonymised
    assert rows["2"]["search_keyword"] == "call [PHONE] or [EMAIL]"
    assert "user_agent" not in rows["1"]
    files = list((lake.root / "curated" / "web_events").rglob("*.parquet"))
    assert files and all(".snappy." in f.name for f in files)
    assert {f.parent.name for f in files} == {"event_month=2026-05"}


def test_no_raw_personal_data_reaches_curated_or_quarantine(lake: Lake) -> None:
    exporter = {
        "firm_id": "EXP000001", "business_reg_no": "123-45-67890", "firm_name": "Hanbit Co",
        "region": "Busan", "hs_codes": ["330499"], "product_names": ["mask pack 02-555-1234"],
        "price_min_usd": 1.5, "price_max_usd": 3.0, "monthly_capacity_units": 10000,
        "founding_year": 2005, "contact_name": "Kim Minji", "contact_phone": "+82-10-2222-3333",
        "contact_email": "minji.kim@hanbit.co.kr", "contact_address": "12 Haeundae-ro, Busan",
        "updated_at": "2026-01-02T09:00:00+09:00",
    }  # fmt: skip
    broken = {**exporter, "firm_id": "EXP000002", "founding_year": "long ago"}
    write_lines(lake.raw("exporters"), "x.jsonl", [json.dumps(exporter), json.dumps(broken)])
    summary = lake.run("exporters")
    assert (summary.written, summary.quarantined) == (1, 1)
    secrets = ["Kim Minji", "2222-3333", "minji.kim@hanbit.co.kr", "Haeundae-ro", "555-1234"]
    stored = json.dumps(lake.curated("exporters") + lake.quarantine(), default=str)
    assert [s for s in secrets if s in stored] == []
    assert "Hanbit Co" in stored  # business identifiers stay searchable


@pytest.mark.parametrize(
    ("line", "reason_code"),
    [
        ("{not json", "record: unparseable"),
        ("[1, 2]", "record: not_an_object"),
        (json.dumps({k: v for k, v in event(3).items() if k != "page"}), "page: missing_required"),
        (json.dumps(event(4, cookie_consent="yes")), "cookie_consent: bad_type"),
        (json.dumps(event(5, dwell_seconds=-1)), "dwell_seconds: out_of_range"),
        (json.dumps(event(6, event_type="purchase")), "event_type: not_allowed"),
        (json.dumps(event(7, hs_chapter="99")), "hs_chapter: bad_format"),
    ],
)
def test_every_kind_of_broken_record_is_quarantined_with_its_reason(
    lake: Lake, line: str, reason_code: str
) -> None:
    write_lines(lake.raw("web_events"), "b.jsonl", [json.dumps(event(1)), line])
    summary = lake.run("web_events")
    assert summary.quarantined_by_reason == {reason_code: 1}
    [stored] = lake.quarantine()
    assert stored["reason_code"] == reason_code
    assert stored["dataset"] == "web_events"
    assert stored["source_file"].endswith("dt=2026-05-01/b.jsonl")
    assert stored["reason"]


def test_a_replayed_batch_adds_nothing(lake: Lake) -> None:
    write_lines(lake.raw("web_events"), "c.jsonl",
                [json.dumps(event(n)) for n in range(5)] + ['{"broken": true}'])  # fmt: skip
    first = lake.run("web_events")
    second = lake.run("web_events")
    assert (first.written, first.duplicates) == (5, 0)
    assert (second.written, second.duplicates, second.quarantined) == (0, 5, 1)
    assert len(lake.curated("web_events")) == 5
    assert len(lake.quarantine()) == 1  # the same rejection is stored once


def test_a_second_batch_of_the_same_day_is_merged_not_overwritten(lake: Lake) -> None:
    day = lake.raw("web_events")
    write_lines(day, "morning.jsonl", [json.dumps(event(n)) for n in range(3)])
    lake.run("web_events", raw_path=day / "morning.jsonl")
    write_lines(day, "evening.jsonl", [json.dumps(event(n)) for n in range(2, 6)])
    evening = lake.run("web_events", raw_path=day / "evening.jsonl")
    assert (evening.read, evening.written, evening.duplicates) == (4, 3, 1)
    assert sorted(r["event_id"][-1] for r in lake.curated("web_events")) == list("012345")


def test_duplicates_within_a_batch_are_counted(lake: Lake) -> None:
    line = json.dumps(event(9))
    write_lines(lake.raw("web_events"), "d.jsonl", [line, line, line])
    summary = lake.run("web_events")
    assert (summary.read, summary.written, summary.duplicates) == (3, 1, 2)
    assert summary.reconciled


def test_a_lost_record_fails_the_run(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    write_lines(lake.raw("web_events"), "e.jsonl", [json.dumps(event(n)) for n in range(4)])
    real = curate_module.curate_lines

    def losing_one(lines, contract, key):  # type: ignore[no-untyped-def]
        return real(lines, contract, key).where(f"event_id != '{event(2)['event_id']}'")

    monkeypatch.setattr(curate_module, "curate_lines", losing_one)
    with pytest.raises(ReconciliationError, match='"read": 4'):
        lake.run("web_events")
