"""Putting records on Kinesis and Firehose without losing any: batching, retries, dead letters.

Both services accept a batch and may reject some of its records (Kinesis `FailedRecordCount`
with a per-record `ErrorCode`, Firehose `FailedPutCount` with `RequestResponses[i].ErrorCode`)
or throttle the whole call. `deliver` sends batches within the service limits, re-sends exactly
the records that failed with a retryable error after an exponential backoff with full jitter,
and after `RetryPolicy.max_attempts` hands what is still failing to a dead-letter sink. Every
record ends up counted once as accepted or failed: `sent == accepted + failed`.

The clients are injected (anything with boto3's `put_records` / `put_record_batch`), so tests
drive partial failures with a stub; the sleep and the jitter source are injected too.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

# Whole-call errors worth retrying: throttling, transient service faults, lost connections.
RETRYABLE_CALL_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "LimitExceededException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "KMSThrottlingException",
        "RequestTimeout",
        "ConnectionError",
    }
)
# Per-record errors that another attempt cannot fix (the stream's key is unusable).
PERMANENT_RECORD_ERRORS = frozenset(
    {
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "KMSOptInRequired",
    }
)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """A put API's limits: records per call, bytes per call, bytes per record."""

    max_records: int
    max_batch_bytes: int
    max_record_bytes: int


# PutRecords: 500 records, 5 MiB per call, 1 MiB per record (data plus partition key).
KINESIS_LIMITS = Limits(max_records=500, max_batch_bytes=5 * 1024**2, max_record_bytes=1024**2)
# PutRecordBatch: 500 records, 4 MiB per call, 1,000 KiB per record.
FIREHOSE_LIMITS = Limits(max_records=500, max_batch_bytes=4 * 1024**2, max_record_bytes=1000 * 1024)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits U(0, min(cap, base * 2**(n-1)))."""

    max_attempts: int = 8
    base_delay_seconds: float = 0.1
    max_delay_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int, jitter: float) -> float:
        """The wait after failed attempt `attempt` (1-based), `jitter` drawn from [0, 1)."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return jitter * ceiling


@dataclass(frozen=True)
class OutRecord:
    """One record to put: its bytes, its partition key (Kinesis only) and where it came from."""

    data: bytes
    source: str
    partition_key: str | None = None

    @property
    def size(self) -> int:
        key = self.partition_key.encode("utf-8") if self.partition_key else b""
        return len(self.data) + len(key)


@dataclass(frozen=True)
class FailedRecord:
    record: OutRecord
    error_code: str
    error_message: str
    attempts: int


class DeadLetterSink(Protocol):
    def __call__(self, failures: Sequence[FailedRecord]) -> None: ...


@dataclass
class Tally:
    """What happened to the records of one dataset (or one pump pass).

    sent: records read and handed to the service; accepted: acknowledged by it; failed: given
    up on after the last attempt (or refused as unsendable) and dead-lettered; retried: record
    re-submissions, so one record throttled three times counts three.
    """

    sent: int = 0
    accepted: int = 0
    retried: int = 0
    failed: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.accepted += other.accepted
        self.retried += other.retried
        self.failed += other.failed
        for code, count in other.error_codes.items():
            self.error_codes[code] = self.error_codes.get(code, 0) + count

    @property
    def reconciled(self) -> bool:
        return self.sent == self.accepted + self.failed


# A put call: the records of one batch in, per record None (accepted) or (code, message) out.
PutCall = Callable[[Sequence[OutRecord]], list[tuple[str, str] | None]]
_Error = tuple[str, str, bool]


def kinesis_put(client: Any, stream_name: str) -> PutCall:
    """PutRecords on `stream_name`: the per-record errors of one call."""

    def put(batch: Sequence[OutRecord]) -> list[tuple[str, str] | None]:
        response = client.put_records(
            StreamName=stream_name,
            Records=[{"Data": r.data, "PartitionKey": r.partition_key or ""} for r in batch],
        )
        if not response.get("FailedRecordCount"):
            return [None] * len(batch)
        return [_record_error(entry) for entry in response["Records"]]

    return put


def firehose_put(client: Any, delivery_stream_name: str) -> PutCall:
    """PutRecordBatch on `delivery_stream_name`: the per-record errors of one call."""

    def put(batch: Sequence[OutRecord]) -> list[tuple[str, str] | None]:
        response = client.put_record_batch(
            DeliveryStreamName=delivery_stream_name,
            Records=[{"Data": r.data} for r in batch],
        )
        if not response.get("FailedPutCount"):
            return [None] * len(batch)
        return [_record_error(entry) for entry in response["RequestResponses"]]

    return put


def _record_error(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    code = entry.get("ErrorCode")
    if not code:
        return None
    return str(code), str(entry.get("ErrorMessage", ""))


def batches(records: Iterable[OutRecord], limits: Limits) -> Iterator[list[OutRecord]]:
    """Consecutive batches within the count and byte limits (oversized records alone)."""
    batch: list[OutRecord] = []
    size = 0
    for record in records:
        if batch and (
            len(batch) == limits.max_records or size + record.size > limits.max_batch_bytes
        ):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record.size
    if batch:
        yield batch


def deliver(
    records: Iterable[OutRecord],
    put: PutCall,
    *,
    limits: Limits,
    policy: RetryPolicy | None = None,
    dead_letters: DeadLetterSink | None = None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> Tally:
    """Put every record, retrying failures; returns the tally (failures go to `dead_letters`).

    Without a dead-letter sink a failure raises `DeliveryError` instead: nothing is dropped
    without a trace.
    """
    policy = policy or RetryPolicy()
    tally = Tally()
    for batch in batches(records, limits):
        tally.sent += len(batch)
        too_large = [r for r in batch if r.size > limits.max_record_bytes]
        failures = [
            FailedRecord(r, "RecordTooLarge", f"{r.size} bytes > {limits.max_record_bytes}", 0)
            for r in too_large
        ]
        pending = [r for r in batch if r.size <= limits.max_record_bytes]
        attempt = 0
        while pending:
            attempt += 1
            errors = _call(put, pending)
            retry: list[OutRecord] = []
            for record, error in zip(pending, errors, strict=True):
                if error is None:
                    tally.accepted += 1
                    continue
                code, message, retryable = error
                tally.error_codes[code] = tally.error_codes.get(code, 0) + 1
                if not retryable or attempt >= policy.max_attempts:
                    failures.append(FailedRecord(record, code, message, attempt))
                else:
                    retry.append(record)
            if retry:
                tally.retried += len(retry)
                sleep(policy.delay(attempt, jitter()))
            pending = retry
        if failures:
            tally.failed += len(failures)
            if dead_letters is None:
                raise DeliveryError(failures)
            dead_letters(failures)
    return tally


def _call(put: PutCall, pending: Sequence[OutRecord]) -> list[_Error | None]:
    """One put call: per record None (accepted) or (code, message, retryable)."""
    try:
        errors = put(pending)
    except ClientError as error:
        # A whole-call error is the same error for each record of the call; only throttling
        # and transient faults are retried (a missing stream will not appear by waiting).
        details = error.response.get("Error", {})
        code = str(details.get("Code", "ClientError"))
        message = str(details.get("Message", error))
        return [(code, message, code in RETRYABLE_CALL_ERRORS)] * len(pending)
    except BotocoreConnectionError as error:
        return [("ConnectionError", str(error), True)] * len(pending)
    if len(errors) != len(pending):
        raise RuntimeError(f"the put call answered {len(errors)} results for {len(pending)}")
    return [
        None if error is None else (error[0], error[1], error[0] not in PERMANENT_RECORD_ERRORS)
        for error in errors
    ]


class DeliveryError(RuntimeError):
    def __init__(self, failures: Sequence[FailedRecord]) -> None:
        codes = sorted({f.error_code for f in failures})
        super().__init__(f"{len(failures)} records were not accepted ({', '.join(codes)})")
        self.failures = list(failures)


class DeadLetterFiles:
    """Failed records as JSON Lines, one file per dataset under `directory` (opened lazily)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, IO[str]] = {}
        self.paths: dict[str, Path] = {}

    def sink(self, dataset: str) -> DeadLetterSink:
        def write(failures: Sequence[FailedRecord]) -> None:
            handle = self._open(dataset)
            for failure in failures:
                entry = {
                    "dataset": dataset,
                    "source": failure.record.source,
                    "error_code": failure.error_code,
                    "error_message": failure.error_message,
                    "attempts": failure.attempts,
                    "partition_key": failure.record.partition_key,
                    "data": failure.record.data.decode("utf-8", errors="replace").rstrip("\n"),
                }
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()

        return write

    def file(
        self, dataset: str, path: Path, error_code: str, message: str, attempts: int, records: int
    ) -> None:
        """A whole source file that could not be landed: a copy of it plus one entry."""
        copy = self.directory / dataset / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        entry = {
            "dataset": dataset,
            "source": str(path),
            "error_code": error_code,
            "error_message": message,
            "attempts": attempts,
            "records": records,
            "copy": str(copy),
        }
        handle = self._open(dataset)
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        handle.flush()

    def _open(self, dataset: str) -> IO[str]:
        if dataset not in self._files:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{dataset}.jsonl"
            self._files[dataset] = path.open("a", encoding="utf-8")
            self.paths[dataset] = path
        return self._files[dataset]

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def __enter__(self) -> DeadLetterFiles:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
