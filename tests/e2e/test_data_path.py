"""The data path end to end on the emulation: generate, ingest, pump, curate, query.

One small lake per session (tests/lake.py); every test here reads it, none rebuilds it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from exportintel.contracts import get_contract
from exportintel.privacy import EMAIL_PATTERN, PHONE_PATTERN
from exportintel.queries import named_queries
from exportintel.query import glue_resolver, run_local
from tests.lake import SmallLake

pytestmark = pytest.mark.slow

PERSONAL_FIELDS = ("contact_name", "contact_phone", "contact_email", "contact_address",
                   "user_id", "cookie_id")  # fmt: skip


def test_every_record_is_accounted_for_from_file_to_curated(small_lake: SmallLake) -> None:
    accepted = {r.dataset: r.tally.accepted for r in small_lake.ingested.datasets}
    generated = {name: d.rows for name, d in small_lake.generated.datasets.items()}
    assert small_lake.ingested.ok
    assert accepted == generated  # every generated line was accepted by the services
    for name, summary in small_lake.summaries.items():
        produced = small_lake.generated.datasets[name]
        assert summary.reconciled, name
        assert summary.read == accepted[name], name  # nothing accepted was lost on the way
        assert summary.quarantined == produced.malformed, name
        assert summary.duplicates == produced.duplicates, name


def _planted(data: Path) -> tuple[set[str], set[str]]:
    """What the generator put in personal fields, and the phones and e-mails typed into text."""
    values: set[str] = set()
    typed: set[str] = set()
    for path in data.glob("*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            values.update(v for n in PERSONAL_FIELDS if isinstance(v := record.get(n), str) and v)
            for text in (record.get("search_keyword"), record.get("officer_note")):
                if isinstance(text, str):
                    typed.update(re.findall(PHONE_PATTERN, text))
                    typed.update(re.findall(EMAIL_PATTERN, text))
    return values, typed


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        if value.startswith("{"):  # a quarantined record, stored as JSON text
            with contextlib.suppress(json.JSONDecodeError):
                yield from _strings(json.loads(value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _stored_strings(*folders: Path) -> set[str]:
    stored: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*.parquet")):
            stored.update(_strings(pq.read_table(path).to_pylist()))
    return stored


def test_no_raw_personal_data_reaches_curated_or_quarantine(small_lake: SmallLake) -> None:
    values, typed = _planted(small_lake.data)
    assert len(values) > 1_000 and len(typed) > 10  # the generator did plant personal data
    stored = _stored_strings(small_lake.workdir / "curated", small_lake.workdir / "quarantine")
    assert len(stored) > 10_000
    assert values & stored == set()
    text = "\n".join(stored)
    assert [t for t in typed if t in text] == []


def test_quarantine_is_queryable_with_reasons(small_lake: SmallLake) -> None:
    sql = "SELECT dataset, count(*) AS n FROM quarantine GROUP BY dataset"
    with small_lake.aws_environment():
        rows = run_local(sql, glue_resolver(small_lake.resources.curated_database)).to_pylist()
    found = {r["dataset"]: r["n"] for r in rows}
    expected = {n: s.quarantined for n, s in small_lake.summaries.items() if s.quarantined}
    assert found == expected


def test_named_queries_answer_on_the_curated_lake(small_lake: SmallLake) -> None:
    with small_lake.aws_environment():
        resolve = glue_resolver(small_lake.resources.curated_database)
        answers = {q.name: run_local(q.sql, resolve) for q in named_queries()}
    assert all(table.num_rows > 0 for table in answers.values()), {
        name: table.num_rows for name, table in answers.items()
    }
    top = answers["top_hs_chapters_by_year"].to_pylist()
    assert all(r["rank_in_year"] <= 10 for r in top)


def test_curated_tables_hold_what_the_contracts_declare(small_lake: SmallLake) -> None:
    events = pq.read_table(small_lake.workdir / "curated" / "web_events")
    declared = {f.name for f in get_contract("web_events").fields} - {"user_agent"}
    assert set(events.column_names) == declared | {"event_month"}
    assert all(v is None or v.startswith("p_") for v in events.column("user_id").to_pylist())


def test_a_replayed_run_adds_nothing(small_lake: SmallLake) -> None:
    before = {n: s.written for n, s in small_lake.summaries.items()}
    again = small_lake.run_etl("replay")
    assert {n: s.written for n, s in again.items()} == dict.fromkeys(before, 0)
    assert all(s.reconciled for s in again.values())
    assert {n: s.duplicates + s.quarantined for n, s in again.items()} == {
        n: s.read for n, s in again.items()
    }


def test_the_query_command_prints_a_named_query_and_explains_errors(
    small_lake: SmallLake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exportintel.cli import main, target

    monkeypatch.setattr(target, "resolve", lambda stack_outputs: small_lake.resources)
    with small_lake.aws_environment():
        assert main(["query", "--named", "match_outcomes_by_channel", "--format", "csv"]) == 0
        header = capsys.readouterr().out.splitlines()[0]
        assert header == '"year","channel","requests","meeting_rate","deal_rate","deal_value_usd"'
        assert main(["query", "SELECT nope FROM exporters"]) == 2
        assert "query error" in capsys.readouterr().err
        assert main(["query", "SELECT * FROM exporterz"]) == 2
        assert "unknown table 'exporterz'" in capsys.readouterr().err
