"""`exportintel ingest`: routes by contract origin, reconciles counts, and every record lands."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from exportintel.cli import main
from exportintel.contracts import get_contract
from exportintel.ingest import layout
from exportintel.ingest.delivery import RetryPolicy
from exportintel.ingest.runner import (
    IngestClients,
    ingest,
    partition_key,
    read_lines,
    tag_with_dataset,
)
from exportintel.local.emulation import EmulatedAws, environ
from exportintel.local.pump import Pump
from exportintel.resources import Resources, output_key
from exportintel.settings import LOCAL
from tests.ingest.fakes import ScriptedFirehose, ScriptedKinesis, ScriptedS3
from tests.local.harness import RunningEmulation

MALFORMED = '{"event_id": "broken'  # as the generator's ~1% malformed lines may look
NOON = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)


def _write(folder: Path, dataset: str, part: int, lines: list[str]) -> Path:
    path = folder / dataset / f"{dataset}-{part:05d}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _web_event(i: int) -> str:
    return json.dumps(
        {
            "event_id": f"00000000-0000-4000-8000-{i:012d}",
            "event_time": "2026-03-09T01:02:03+00:00",
            "event_type": "page_view",
            "session_id": f"sess-{i % 4}",
            "cookie_consent": True,
            "actor_type": "buyer",
            "page": f"/buyers/{i}",
            "search_keyword": "화장품 cosmetics",
        },
        ensure_ascii=False,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A small generator-shaped folder: every route, a malformed line, a blank line."""
    folder = tmp_path / "generated"
    _write(folder, "web_events", 0, [_web_event(i) for i in range(0, 25)])
    _write(folder, "web_events", 1, [_web_event(i) for i in range(25, 40)] + [MALFORMED])
    fx = [
        json.dumps({"rate_date": f"2026-03-0{d}", "currency": c, "krw_per_unit": 1400.0 + d})
        for d in range(1, 4)
        for c in ("USD", "JPY")
    ]
    _write(folder, "fx_rates", 0, [*fx, "", "not json at all"])
    _write(folder, "country_risk", 0, [json.dumps({"country_code": "UA", "level": 4})])
    _write(folder, "exporters", 0, [json.dumps({"firm_id": f"E{i:06d}"}) for i in range(7)])
    _write(folder, "exporters", 1, [json.dumps({"firm_id": "E100000", "firm_name": "한빛"})])
    _write(folder, "buyers", 0, [json.dumps({"buyer_id": "B000001"})])
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    (folder / "notes").mkdir()
    return folder


def _inputs(folder: Path, dataset: str) -> list[bytes]:
    return [
        line for path in sorted((folder / dataset).glob("*.jsonl")) for _, line in read_lines(path)
    ]


def test_feed_records_carry_their_dataset_and_keep_their_bytes() -> None:
    assert tag_with_dataset(b'{"a": 1}', "fx_rates") == b'{"_dataset":"fx_rates","a": 1}'
    assert tag_with_dataset(b"{}", "fx_rates") == b'{"_dataset":"fx_rates"}'
    assert json.loads(tag_with_dataset(b'{"_dataset": "x", "a": 1}', "fx_rates")) == {
        "_dataset": "fx_rates",
        "a": 1,
    }
    assert json.loads(tag_with_dataset(b"not json", "fx_rates")) == {
        "_dataset": "fx_rates",
        layout.MALFORMED_FIELD: "not json",
    }
    assert json.loads(tag_with_dataset(b"[1, 2]", "fx_rates"))[layout.MALFORMED_FIELD] == "[1, 2]"


def test_partition_keys_follow_the_session() -> None:
    assert partition_key(b'{"session_id": "s1", "event_id": "e1"}') == "s1"
    assert partition_key(b'{"event_id": "e1"}') == "e1"
    assert partition_key(b'{"session_id": "' + b"x" * 300 + b'"}') == "x" * 256
    assert partition_key(b"broken") == hashlib.md5(b"broken", usedforsecurity=False).hexdigest()


def test_counts_reconcile_and_failures_are_dead_lettered(data: Path, tmp_path: Path) -> None:
    """Given throttling on every route and one feed record Firehose never accepts,
    when ingested, then the report adds up per dataset and the lost ones are on disk."""
    fx_lines = _inputs(data, "fx_rates")
    never = tag_with_dataset(fx_lines[2], "fx_rates") + b"\n"
    kinesis = ScriptedKinesis([{0: "ProvisionedThroughputExceededException", 3: "InternalFailure"}])
    firehose = ScriptedFirehose(always_fail={never: "ServiceUnavailableException"})
    s3 = ScriptedS3({"exporters-00001.jsonl": ["SlowDown"], "buyers-00000.jsonl": ["NoSuchBucket"]})
    clients = IngestClients(kinesis=kinesis, firehose=firehose, s3=s3)
    sleeps: list[float] = []
    dead = tmp_path / "dead"

    report = ingest(
        data,
        Resources.local(LOCAL),
        clients,
        dead_letter_dir=dead,
        policy=RetryPolicy(max_attempts=3),
        sleep=sleeps.append,
        jitter=lambda: 0.0,
        now=lambda: NOON,
    )

    rows = {r.dataset: r for r in report.datasets}
    assert set(rows) == {"buyers", "country_risk", "exporters", "fx_rates", "web_events"}
    assert report.ignored_folders == ["notes"]
    counts = {n: (r.route, r.files, r.tally.sent, r.tally.accepted, r.tally.retried,
                  r.tally.failed) for n, r in rows.items()}  # fmt: skip
    assert counts == {
        "web_events": ("kinesis", 2, 41, 41, 2, 0),
        "fx_rates": ("firehose", 1, 7, 6, 2, 1),
        "country_risk": ("firehose", 1, 1, 1, 0, 0),
        "exporters": ("s3", 2, 8, 8, 1, 0),
        "buyers": ("s3", 1, 1, 0, 0, 1),
    }
    assert all(r.tally.reconciled for r in report.datasets)
    assert not report.ok
    assert len(sleeps) == 1 + 2 + 1  # Kinesis once, Firehose twice, S3 once

    # Exactly the two failed clickstream records were re-sent.
    assert [len(call) for call in kinesis.calls] == [41, 2]
    # Every clickstream line was accepted once, newline-terminated, keyed by its session.
    assert sorted(kinesis.calls[0]) == sorted(line + b"\n" for line in _inputs(data, "web_events"))

    fx_dead = [json.loads(line) for line in (dead / "fx_rates.jsonl").read_text().splitlines()]
    assert [(e["source"], e["error_code"], e["attempts"]) for e in fx_dead] == [
        ("fx_rates-00000.jsonl:3", "ServiceUnavailableException", 3)
    ]
    buyers_dead = json.loads((dead / "buyers.jsonl").read_text())
    assert buyers_dead["error_code"] == "NoSuchBucket" and buyers_dead["records"] == 1
    assert (
        Path(buyers_dead["copy"]).read_bytes() == (data / "buyers/buyers-00000.jsonl").read_bytes()
    )
    assert set(report.dead_letters) == {"fx_rates", "buyers"}

    # Extracts land whole under the UTC landing day.
    assert set(s3.uploads) == {
        "exporters/dt=2026-03-09/exporters-00000.jsonl",
        "exporters/dt=2026-03-09/exporters-00001.jsonl",
    }
    text = report.render()
    assert "buyers" in text and "failed records written to" in text


def test_the_landing_day_is_the_utc_day() -> None:
    late_evening_utc = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)  # 08:30 next day in Seoul
    assert layout.landing_day(late_evening_utc) == "2026-03-09"
    assert (
        layout.batch_key("exporters", "2026-03-09", "a.jsonl") == "exporters/dt=2026-03-09/a.jsonl"
    )
    with pytest.raises(ValueError):
        layout.landing_day(dt.datetime(2026, 3, 9))


def test_only_ingestible_datasets_are_accepted(data: Path, tmp_path: Path) -> None:
    clients = IngestClients(kinesis=ScriptedKinesis(), firehose=ScriptedFirehose(), s3=ScriptedS3())
    resources = Resources.local(LOCAL)
    derived = [c for c in ("quarantine",) if _origin(c) == "derived"]
    for bad in (["no_such_dataset"], derived):
        if bad:
            with pytest.raises(ValueError, match="not ingestible"):
                ingest(data, resources, clients, dead_letter_dir=tmp_path, datasets=bad)
    with pytest.raises(FileNotFoundError):
        ingest(data, resources, clients, dead_letter_dir=tmp_path, datasets=["trade_flows"])
    report = ingest(data, resources, clients, dead_letter_dir=tmp_path, datasets=["buyers"])
    assert [r.dataset for r in report.datasets] == ["buyers"] and report.ok


def _origin(name: str) -> str | None:
    try:
        return get_contract(name).origin
    except KeyError:
        return None


def _point_at(emulation: RunningEmulation, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at the session's server; monkeypatch restores the environment after."""
    monkeypatch.setenv("EXPORTINTEL_HOME", str(emulation.home))
    for name, value in environ(emulation.endpoint_url).items():
        monkeypatch.setenv(name, value)


def _raw(aws: EmulatedAws) -> dict[str, bytes]:
    s3 = aws.client("s3")
    bucket = aws.resources.raw_bucket
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_every_record_reaches_raw_through_the_emulation(
    emulation: RunningEmulation, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the emulation, when a folder is ingested with plain boto3 clients and pumped,
    then each input line is in raw once, under <dataset>/dt=<day>/."""
    aws = emulation.environment("ingesttest")
    _point_at(emulation, monkeypatch)

    report = ingest(
        data,
        aws.resources,
        IngestClients.from_environment(),
        dead_letter_dir=tmp_path / "dead",
        now=lambda: NOON,
    )
    assert report.ok, report.render()
    Pump(
        kinesis=aws.client("kinesis"),
        firehose=aws.client("firehose"),
        s3=aws.client("s3"),
        resources=aws.resources,
    ).run_once()

    raw = _raw(aws)
    assert not [k for k in raw if "!{" in k or k.startswith("errors/")]
    lines: dict[str, list[bytes]] = {}
    for key, body in raw.items():
        dataset, day = key.split("/")[:2]
        assert day.startswith("dt=")
        lines.setdefault(dataset, []).extend(body.splitlines())

    assert sorted(lines["web_events"]) == sorted(_inputs(data, "web_events"))
    for dataset in ("fx_rates", "country_risk"):
        landed = [json.loads(line) for line in lines[dataset]]
        assert all(r.pop(layout.DATASET_FIELD) == dataset for r in landed)
        expected = []
        for line in _inputs(data, dataset):
            try:
                expected.append(json.loads(line))
            except ValueError:
                expected.append({layout.MALFORMED_FIELD: line.decode()})
        assert sorted(map(json.dumps, landed)) == sorted(map(json.dumps, expected))
    for dataset in ("exporters", "buyers"):
        for path in sorted((data / dataset).glob("*.jsonl")):
            key = layout.batch_key(dataset, "2026-03-09", path.name)
            assert raw[key] == path.read_bytes()


def test_the_cli_ingests_into_the_running_emulation(
    emulation: RunningEmulation,
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _point_at(emulation, monkeypatch)
    assert main(["ingest", "--data", str(data), "--datasets", "web_events", "exporters"]) == 0
    assert main(["local", "pump", "--once"]) == 0
    out = capsys.readouterr().out
    assert "web_events" in out and "total" in out

    raw = _raw(emulation.aws)
    events = [
        line for k, b in raw.items() if k.startswith("web_events/") for line in b.splitlines()
    ]
    assert sorted(events) == sorted(_inputs(data, "web_events"))
    assert any(k.startswith("exporters/dt=") for k in raw)


def test_the_cli_exits_non_zero_when_records_fail(
    emulation: RunningEmulation,
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _point_at(emulation, monkeypatch)
    failing = IngestClients(
        kinesis=ScriptedKinesis([ValueError("unused")]),
        firehose=ScriptedFirehose(),
        s3=ScriptedS3({"buyers-00000.jsonl": ["AccessDenied"]}),
    )

    def fake_clients(cls: Any) -> IngestClients:
        return failing

    monkeypatch.setattr(IngestClients, "from_environment", classmethod(fake_clients))
    dead = emulation.home / "dead"
    code = main(["ingest", "--data", str(data), "--datasets", "buyers", "--dead-letter", str(dead)])
    assert code == 1
    assert "failed records written to" in capsys.readouterr().out
    assert list(dead.glob("*/buyers.jsonl"))


def test_the_cli_takes_aws_names_from_stack_outputs(
    emulation: RunningEmulation,
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With `--stack-outputs` the names come from CloudFormation and the endpoint from the
    environment alone (here the emulation, standing in for an account)."""
    aws = emulation.environment("outputstest")
    _point_at(emulation, monkeypatch)
    names = aws.resources
    outputs = {output_key(f.name): getattr(names, f.name) for f in fields(Resources)}
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({"Outputstest-Platform": outputs}), encoding="utf-8")

    code = main(
        [
            "ingest",
            "--data",
            str(data),
            "--datasets",
            "buyers",
            "--stack-outputs",
            str(outputs_file),
        ]
    )

    assert code == 0, capsys.readouterr().out
    assert any(k.startswith("buyers/dt=") for k in _raw(aws))
