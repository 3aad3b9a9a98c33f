"""The local pump: the stream-to-Firehose delivery and the stream triggers moto does not run.

In AWS the clickstream Firehose reads the Kinesis stream itself and an event-source mapping
invokes the live-counter Lambda. moto does neither, so the pump, per pass:

1. reads every shard of the clickstream stream from its stored position (TRIM_HORIZON the first
   time), `get_records` batch by batch;
2. puts the records on the clickstream Firehose with `PutRecordBatch` (<= 500 records and 4 MiB
   per call, failed records re-sent as `exportintel.ingest.delivery` does), each record
   newline-terminated as Firehose's `AppendDelimiterToRecord` processor would (producers
   already end records with a newline, so this only guards others);
3. hands the batch to the registered consumers (callables taking `StreamRecord`s;
   `lambda_consumer` adapts a Lambda handler by building the Kinesis event it would receive);
4. stores the shard's last sequence number, so a restarted pump does not deliver twice;
5. after draining, re-keys what moto's Firehose wrote (`raw_layout.normalise_raw_layout`, for
   both delivery streams, so the feeds ingested by direct PUT are filed too): raw objects end
   up under `<dataset>/dt=YYYY-MM-DD/` exactly as AWS lays them out.

Delivery is at least once, as in AWS: if a put finally fails or a consumer raises, the pass
stops before storing that batch's position and the next pass sends the batch again (the ETL
deduplicates by primary key). Positions are kept per stream ARN and creation time: a new
emulation server (a new, empty stream) starts again from TRIM_HORIZON.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from exportintel.ingest.delivery import (
    FIREHOSE_LIMITS,
    OutRecord,
    RetryPolicy,
    Tally,
    deliver,
    firehose_put,
)
from exportintel.local.raw_layout import NormaliseResult, normalise_raw_layout
from exportintel.resources import Resources

# GetRecords returns at most 10,000 records per call.
READ_LIMIT = 10_000


@dataclass(frozen=True)
class StreamRecord:
    """One Kinesis record as a consumer sees it (data already base64-decoded)."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: dt.datetime | None = None

    def json(self) -> Any:
        return json.loads(self.data)


Consumer = Callable[[Sequence[StreamRecord]], None]


class ConsumerError(RuntimeError):
    """A consumer reported records it could not process; the batch will be offered again."""


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object handlers (and Powertools) read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-2:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def kinesis_event(records: Sequence[StreamRecord], stream_arn: str, region: str) -> dict[str, Any]:
    """The event a Kinesis event-source mapping passes to a Lambda handler."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": base64.b64encode(r.data).decode("ascii"),
                    "approximateArrivalTimestamp": r.arrival.timestamp() if r.arrival else 0.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{r.shard_id}:{r.sequence_number}",
                "eventName": "aws:kinesis:record",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for r in records
        ]
    }


def lambda_consumer(
    handler: Callable[[dict[str, Any], Any], Any], *, stream_arn: str, region: str
) -> Consumer:
    """A consumer that invokes a Lambda handler as its event-source mapping would."""

    def consume(records: Sequence[StreamRecord]) -> None:
        response = handler(kinesis_event(records, stream_arn, region), LocalLambdaContext())
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if failures:
            ids = [f.get("itemIdentifier") for f in failures]
            raise ConsumerError(f"the handler failed {len(ids)} records: {ids[:5]}")

    return consume


class CheckpointStore(Protocol):
    """Last delivered sequence number per shard, per stream."""

    def positions(self, stream_key: str) -> dict[str, str]: ...

    def save(self, stream_key: str, shard_id: str, sequence_number: str) -> None: ...

    def lock(self) -> contextlib.AbstractContextManager[None]: ...


class MemoryCheckpoints:
    def __init__(self) -> None:
        self._positions: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def positions(self, stream_key: str) -> dict[str, str]:
        return dict(self._positions.get(stream_key, {}))

    def save(self, stream_key: str, shard_id: str, sequence_number: str) -> None:
        self._positions.setdefault(stream_key, {})[shard_id] = sequence_number

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield


class FileCheckpoints:
    """Positions in a JSON file (written atomically); `lock()` keeps two pumps apart."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def positions(self, stream_key: str) -> dict[str, str]:
        return dict(self._load().get(stream_key, {}))

    def save(self, stream_key: str, shard_id: str, sequence_number: str) -> None:
        data = self._load()
        stream_arn = stream_key.split("|", 1)[0]
        # Positions of an earlier incarnation of the stream mean nothing in this one.
        data = {
            key: value
            for key, value in data.items()
            if key == stream_key or key.split("|", 1)[0] != stream_arn
        }
        data.setdefault(stream_key, {})[shard_id] = sequence_number
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_suffix(".lock").open("a") as handle:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class PumpResult:
    records: int = 0  # records read from the stream
    reads: int = 0  # non-empty get_records batches
    delivered: Tally = field(default_factory=Tally)
    normalised: NormaliseResult = field(default_factory=NormaliseResult)

    def render(self) -> str:
        d, n = self.delivered, self.normalised
        return (
            f"read {self.records} records in {self.reads} batches; firehose accepted "
            f"{d.accepted}, retried {d.retried}; re-keyed {n.objects} delivered objects into "
            f"{n.written} raw objects ({n.errors} records to the error prefix)"
        )


class Pump:
    """Moves the clickstream from Kinesis to its Firehose and consumers (see module doc)."""

    def __init__(
        self,
        *,
        kinesis: Any,
        firehose: Any,
        s3: Any,
        resources: Resources,
        checkpoints: CheckpointStore | None = None,
        consumers: Sequence[Consumer] = (),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        read_limit: int = READ_LIMIT,
    ) -> None:
        self.kinesis = kinesis
        self.firehose = firehose
        self.s3 = s3
        self.resources = resources
        self.checkpoints: CheckpointStore = checkpoints or MemoryCheckpoints()
        self.consumers: list[Consumer] = list(consumers)
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.read_limit = read_limit

    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers.append(consumer)

    def run_once(self) -> PumpResult:
        """Drain the stream to its tip, then lay out what Firehose delivered."""
        with self.checkpoints.lock():
            result = self.drain()
            result.normalised = self.normalise()
        return result

    def normalise(self) -> NormaliseResult:
        return normalise_raw_layout(
            self.s3,
            self.firehose,
            [self.resources.clickstream_firehose, self.resources.feeds_firehose],
        )

    def drain(self) -> PumpResult:
        stream = self.resources.clickstream_stream
        summary = self.kinesis.describe_stream_summary(StreamName=stream)
        summary = summary["StreamDescriptionSummary"]
        created = summary["StreamCreationTimestamp"]
        stream_key = f"{summary['StreamARN']}|{created.isoformat()}"
        positions = self.checkpoints.positions(stream_key)
        result = PumpResult()
        for shard_id in self._shards(stream):
            self._drain_shard(stream, summary["StreamARN"], shard_id, stream_key, positions, result)
        return result

    def _shards(self, stream: str) -> list[str]:
        shards: list[str] = []
        response = self.kinesis.list_shards(StreamName=stream)
        while True:
            shards.extend(s["ShardId"] for s in response["Shards"])
            token = response.get("NextToken")
            if not token:
                return shards
            response = self.kinesis.list_shards(NextToken=token)

    def _drain_shard(
        self,
        stream: str,
        stream_arn: str,
        shard_id: str,
        stream_key: str,
        positions: dict[str, str],
        result: PumpResult,
    ) -> None:
        position = positions.get(shard_id)
        if position is None:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        else:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=position,
            )["ShardIterator"]
        put = firehose_put(self.firehose, self.resources.clickstream_firehose)
        while iterator:
            response = self.kinesis.get_records(ShardIterator=iterator, Limit=self.read_limit)
            records = [
                StreamRecord(
                    shard_id=shard_id,
                    sequence_number=r["SequenceNumber"],
                    partition_key=r["PartitionKey"],
                    data=bytes(r["Data"]),
                    arrival=r.get("ApproximateArrivalTimestamp"),
                )
                for r in response["Records"]
            ]
            if not records and not response.get("MillisBehindLatest"):
                return  # at the tip of the shard
            iterator = response.get("NextShardIterator")
            if not records:
                continue
            outgoing = (
                OutRecord(
                    r.data if r.data.endswith(b"\n") else r.data + b"\n",
                    f"{shard_id}:{r.sequence_number}",
                )
                for r in records
            )
            # No dead-letter sink: a batch Firehose finally refuses stops the pass unstored.
            tally = deliver(
                outgoing, put, limits=FIREHOSE_LIMITS, policy=self.policy, sleep=self.sleep
            )
            result.delivered.add(tally)
            for consumer in self.consumers:
                consumer(records)
            self.checkpoints.save(stream_key, shard_id, records[-1].sequence_number)
            result.records += len(records)
            result.reads += 1
