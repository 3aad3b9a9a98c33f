"""Ingest a folder of JSON Lines (the generator's output) into the raw zone, dataset by dataset.

Input: `DIR/<dataset>/<dataset>-NNNNN.jsonl`, one folder per contract. Each contract's origin
chooses the route (`layout.ROUTES`):

- clickstream -> Kinesis `PutRecords`, partition key the session id (else the event id);
- external feeds -> the direct-PUT feeds Firehose, `PutRecordBatch`, `_dataset` added to each
  record so dynamic partitioning can file it under its dataset;
- agency extracts -> one raw object per source file at `<dataset>/dt=<landing day>/<file>`
  (boto3's managed, multipart transfer), so re-running a day's ingestion replaces, not doubles.

Lines are sent as they are (raw is "as landed"; contract checks belong to the ETL, which
quarantines with a reason). Nothing is lost silently: records the services would not accept
after the retries are counted as failed and written to a dead-letter folder, and the report
reconciles `sent == accepted + failed` per dataset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from exportintel.contracts import all_contracts, get_contract
from exportintel.ingest import layout
from exportintel.ingest.delivery import (
    FIREHOSE_LIMITS,
    KINESIS_LIMITS,
    RETRYABLE_CALL_ERRORS,
    DeadLetterFiles,
    OutRecord,
    RetryPolicy,
    Tally,
    deliver,
    firehose_put,
    kinesis_put,
)
from exportintel.resources import Resources

MAX_PARTITION_KEY_CHARS = 256
# S3 error codes worth another upload attempt, on top of the stream services' throttling codes.
_RETRYABLE_S3_ERRORS = frozenset({"SlowDown", "InternalError", "RequestTimeout", "503"})
_TRANSIENT = (BotocoreConnectionError, HTTPClientError)  # no answer: worth another attempt
_ERROR_CODE = re.compile(r"An error occurred \(([^)]+)\)")


@dataclass(frozen=True, kw_only=True)
class IngestClients:
    """The boto3 clients ingestion uses (injected: tests pass stubs, the CLI real clients)."""

    kinesis: Any
    firehose: Any
    s3: Any

    @classmethod
    def from_environment(cls) -> IngestClients:
        """Clients as boto3 configures them (AWS_ENDPOINT_URL reaches the local emulation)."""
        import boto3

        return cls(
            kinesis=boto3.client("kinesis"),
            firehose=boto3.client("firehose"),
            s3=boto3.client("s3"),
        )


@dataclass
class DatasetReport:
    dataset: str
    route: str
    files: int
    tally: Tally


@dataclass
class IngestReport:
    datasets: list[DatasetReport] = field(default_factory=list)
    ignored_folders: list[str] = field(default_factory=list)
    dead_letters: dict[str, Path] = field(default_factory=dict)

    @property
    def total(self) -> Tally:
        total = Tally()
        for report in self.datasets:
            total.add(report.tally)
        return total

    @property
    def ok(self) -> bool:
        return self.total.failed == 0 and self.total.reconciled

    def render(self) -> str:
        header = f"{'dataset':<20} {'route':<9} {'files':>5} {'sent':>9} {'accepted':>9} "
        header += f"{'retried':>8} {'failed':>7}"
        lines = [header]
        rows = [(r.dataset, r.route, r.files, r.tally) for r in self.datasets]
        rows.append(("total", "", sum(r.files for r in self.datasets), self.total))
        for name, route, files, t in rows:
            lines.append(
                f"{name:<20} {route:<9} {files:>5} {t.sent:>9} {t.accepted:>9} "
                f"{t.retried:>8} {t.failed:>7}"
            )
        for report in self.datasets:
            if report.tally.error_codes:
                codes = ", ".join(f"{c} x{n}" for c, n in sorted(report.tally.error_codes.items()))
                lines.append(f"{report.dataset}: errors seen: {codes}")
        for dataset, path in sorted(self.dead_letters.items()):
            lines.append(f"{dataset}: failed records written to {path}")
        if self.ignored_folders:
            lines.append(f"ignored (not an ingestible dataset): {', '.join(self.ignored_folders)}")
        return "\n".join(lines)


def ingest(
    data_dir: Path,
    resources: Resources,
    clients: IngestClients,
    *,
    dead_letter_dir: Path,
    datasets: Sequence[str] | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> IngestReport:
    """Send every dataset folder of `data_dir` (or only `datasets`) to its raw-zone route."""
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no data folder {data_dir}")
    policy = policy or RetryPolicy()
    report = IngestReport()
    wanted = _wanted_datasets(data_dir, datasets, report)
    with DeadLetterFiles(dead_letter_dir) as dead_letters:
        for name in wanted:
            contract = get_contract(name)
            route = layout.route_of(contract.origin)
            files = sorted((data_dir / name).glob("*.jsonl"))
            tally = Tally()
            if route == layout.ROUTE_STREAM:
                records = _stream_records(files)
                put = kinesis_put(clients.kinesis, resources.clickstream_stream)
                tally = deliver(
                    records, put, limits=KINESIS_LIMITS, policy=policy,
                    dead_letters=dead_letters.sink(name), sleep=sleep, jitter=jitter,
                )  # fmt: skip
            elif route == layout.ROUTE_FEEDS:
                records = _feed_records(files, name)
                put = firehose_put(clients.firehose, resources.feeds_firehose)
                tally = deliver(
                    records, put, limits=FIREHOSE_LIMITS, policy=policy,
                    dead_letters=dead_letters.sink(name), sleep=sleep, jitter=jitter,
                )  # fmt: skip
            else:
                day = layout.landing_day(now())
                for path in files:
                    tally.add(
                        _upload_extract(
                            clients.s3, resources.raw_bucket, name, day, path, policy=policy,
                            dead_letters=dead_letters, sleep=sleep, jitter=jitter,
                        )
                    )  # fmt: skip
            report.datasets.append(DatasetReport(name, route, len(files), tally))
        report.dead_letters = dict(dead_letters.paths)
    return report


def _wanted_datasets(
    data_dir: Path, datasets: Sequence[str] | None, report: IngestReport
) -> list[str]:
    ingestible = {c.name for c in all_contracts() if c.origin in layout.ROUTES}
    if datasets:
        unknown = [d for d in datasets if d not in ingestible]
        if unknown:
            raise ValueError(
                f"not ingestible datasets: {', '.join(unknown)}; "
                f"known: {', '.join(sorted(ingestible))}"
            )
        missing = [d for d in datasets if not (data_dir / d).is_dir()]
        if missing:
            raise FileNotFoundError(f"no folder for {', '.join(missing)} in {data_dir}")
        return sorted(set(datasets))
    folders = sorted(p.name for p in data_dir.iterdir() if p.is_dir())
    report.ignored_folders = [f for f in folders if f not in ingestible]
    return [f for f in folders if f in ingestible]


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its end) for every non-blank line, streamed."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.rstrip(b"\r\n")
            if stripped.strip():
                yield number, stripped


def partition_key(line: bytes) -> str:
    """The session id keeps a session's events in order on one shard; else the event id."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict):
        for name in ("session_id", "event_id"):
            value = record.get(name)
            if isinstance(value, str) and value:
                return value[:MAX_PARTITION_KEY_CHARS]
    # Unparseable lines still land in raw (the ETL quarantines them): spread them by content.
    return hashlib.md5(line, usedforsecurity=False).hexdigest()


def tag_with_dataset(line: bytes, dataset: str) -> bytes:
    """The line with `_dataset` added, leaving the rest of its bytes untouched."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    tag = _compact({layout.DATASET_FIELD: dataset})[1:-1]
    if isinstance(record, dict):
        if layout.DATASET_FIELD in record:
            record[layout.DATASET_FIELD] = dataset
            return _compact(record)
        body = line.strip()[1:].lstrip()
        separator = b"" if body.startswith(b"}") else b","
        return b"{" + tag + separator + body
    wrapped = {
        layout.DATASET_FIELD: dataset,
        layout.MALFORMED_FIELD: line.decode("utf-8", errors="replace"),
    }
    return _compact(wrapped)


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _stream_records(files: Sequence[Path]) -> Iterator[OutRecord]:
    for path in files:
        for number, line in read_lines(path):
            yield OutRecord(line + b"\n", f"{path.name}:{number}", partition_key(line))


def _feed_records(files: Sequence[Path], dataset: str) -> Iterator[OutRecord]:
    for path in files:
        for number, line in read_lines(path):
            yield OutRecord(tag_with_dataset(line, dataset) + b"\n", f"{path.name}:{number}")


def _upload_extract(
    s3: Any,
    bucket: str,
    dataset: str,
    day: str,
    path: Path,
    *,
    policy: RetryPolicy,
    dead_letters: DeadLetterFiles,
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
) -> Tally:
    """Upload one extract file as one raw object; its records are accepted or failed together."""
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig

    records = sum(1 for _ in read_lines(path))
    tally = Tally(sent=records)
    key = layout.batch_key(dataset, day, path.name)
    # Multipart above 64 MiB keeps each part retryable on its own; extracts can be large.
    config = TransferConfig(multipart_threshold=64 * 1024**2, multipart_chunksize=64 * 1024**2)
    for attempt in range(1, policy.max_attempts + 1):
        try:
            s3.upload_file(
                str(path), bucket, key,
                ExtraArgs={"ContentType": "application/x-ndjson"}, Config=config,
            )  # fmt: skip
            tally.accepted = records
            return tally
        except (S3UploadFailedError, ClientError, *_TRANSIENT) as error:
            code = _s3_error_code(error)
            tally.error_codes[code] = tally.error_codes.get(code, 0) + 1
            retryable = code in RETRYABLE_CALL_ERRORS or code in _RETRYABLE_S3_ERRORS
            if not retryable or attempt == policy.max_attempts:
                tally.failed = records
                dead_letters.file(dataset, path, code, str(error), attempt, records)
                return tally
            tally.retried += records
            sleep(policy.delay(attempt, jitter()))
    raise AssertionError("unreachable: the loop returns on success or on the last attempt")


def _s3_error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    if isinstance(error, _TRANSIENT):
        # Connection failures and timeouts: transient by nature.
        return "ConnectionError"
    match = _ERROR_CODE.search(str(error))
    return match.group(1) if match else "ConnectionError"
