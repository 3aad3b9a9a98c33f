"""Retries re-send exactly the failed records, back off, and lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from exportintel.ingest.delivery import (
    FIREHOSE_LIMITS,
    KINESIS_LIMITS,
    DeadLetterFiles,
    DeliveryError,
    Limits,
    OutRecord,
    RetryPolicy,
    batches,
    deliver,
    firehose_put,
    kinesis_put,
)
from tests.ingest.fakes import ScriptedFirehose, ScriptedKinesis, client_error

POLICY = RetryPolicy(max_attempts=4, base_delay_seconds=0.1, max_delay_seconds=0.3)
THROTTLED = "ProvisionedThroughputExceededException"


def _records(count: int, prefix: str = "r") -> list[OutRecord]:
    return [
        OutRecord(f'{{"event_id":"{prefix}{i}"}}\n'.encode(), f"test:{i}", f"s{i}")
        for i in range(count)
    ]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_exactly_the_failed_records_are_retried_with_backoff() -> None:
    """Given a batch where records 1 and 4 are throttled, and then record 1 fails again,
    when delivered, then only those records are re-sent, after growing waits."""
    records = _records(6)
    kinesis = ScriptedKinesis([{1: THROTTLED, 4: THROTTLED}, {0: "InternalFailure"}])
    sleeps = Sleeps()

    tally = deliver(
        records,
        kinesis_put(kinesis, "stream"),
        limits=KINESIS_LIMITS,
        policy=POLICY,
        sleep=sleeps,
        jitter=lambda: 1.0,
    )

    data = [r.data for r in records]
    assert kinesis.calls == [data, [data[1], data[4]], [data[1]]]
    assert sleeps == [pytest.approx(0.1), pytest.approx(0.2)]
    assert (tally.sent, tally.accepted, tally.retried, tally.failed) == (6, 6, 3, 0)
    assert tally.error_codes == {THROTTLED: 2, "InternalFailure": 1}


def test_a_throttled_call_is_retried_whole_with_jittered_backoff() -> None:
    records = _records(3)
    kinesis = ScriptedKinesis([client_error(THROTTLED), client_error("ThrottlingException")])
    sleeps = Sleeps()

    tally = deliver(
        records,
        kinesis_put(kinesis, "stream"),
        limits=KINESIS_LIMITS,
        policy=POLICY,
        sleep=sleeps,
        jitter=lambda: 0.5,
    )

    assert len(kinesis.calls) == 3 and all(len(call) == 3 for call in kinesis.calls)
    assert sleeps == [pytest.approx(0.05), pytest.approx(0.1)]  # half of 0.1, then of 0.2
    assert (tally.sent, tally.accepted, tally.retried, tally.failed) == (3, 3, 6, 0)


def test_backoff_is_capped_and_full_jitter() -> None:
    policy = RetryPolicy(base_delay_seconds=0.1, max_delay_seconds=0.3)
    assert [policy.delay(n, 1.0) for n in (1, 2, 3, 4, 8)] == pytest.approx(
        [0.1, 0.2, 0.3, 0.3, 0.3]
    )
    assert policy.delay(3, 0.0) == 0.0
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_records_failing_past_the_last_attempt_are_dead_lettered(tmp_path: Path) -> None:
    records = _records(5)
    stuck = records[2].data
    kinesis = ScriptedKinesis(always_fail={stuck: THROTTLED})
    sleeps = Sleeps()

    with DeadLetterFiles(tmp_path) as dead_letters:
        tally = deliver(
            records,
            kinesis_put(kinesis, "stream"),
            limits=KINESIS_LIMITS,
            policy=POLICY,
            dead_letters=dead_letters.sink("web_events"),
            sleep=sleeps,
            jitter=lambda: 1.0,
        )

    assert len(kinesis.calls) == POLICY.max_attempts
    assert kinesis.calls[1:] == [[stuck]] * (POLICY.max_attempts - 1)
    assert len(sleeps) == POLICY.max_attempts - 1
    assert (tally.sent, tally.accepted, tally.retried, tally.failed) == (5, 4, 3, 1)
    assert tally.reconciled
    entries = [
        json.loads(line) for line in (tmp_path / "web_events.jsonl").read_text().splitlines()
    ]
    assert entries == [
        {
            "dataset": "web_events",
            "source": "test:2",
            "error_code": THROTTLED,
            "error_message": "scripted",
            "attempts": POLICY.max_attempts,
            "partition_key": "s2",
            "data": stuck.decode().rstrip("\n"),
        }
    ]
    accepted = [d for d in kinesis.calls[0] if d != stuck]
    assert sorted([*accepted, stuck]) == sorted(r.data for r in records)  # nothing lost


def test_errors_no_attempt_can_fix_are_not_retried(tmp_path: Path) -> None:
    sleeps = Sleeps()
    missing = ScriptedKinesis([client_error("ResourceNotFoundException")])
    with DeadLetterFiles(tmp_path) as dead_letters:
        gone = deliver(
            _records(3),
            kinesis_put(missing, "no-such-stream"),
            limits=KINESIS_LIMITS,
            policy=POLICY,
            dead_letters=dead_letters.sink("web_events"),
            sleep=sleeps,
        )
        kms = ScriptedKinesis([{0: "KMSAccessDeniedException"}])
        denied = deliver(
            _records(2),
            kinesis_put(kms, "stream"),
            limits=KINESIS_LIMITS,
            policy=POLICY,
            dead_letters=dead_letters.sink("web_events"),
            sleep=sleeps,
        )

    assert len(missing.calls) == 1 and len(kms.calls) == 1 and sleeps == []
    assert (gone.accepted, gone.failed, gone.retried) == (0, 3, 0)
    assert (denied.accepted, denied.failed, denied.retried) == (1, 1, 0)
    assert len((tmp_path / "web_events.jsonl").read_text().splitlines()) == 4


def test_without_a_dead_letter_sink_a_failure_raises() -> None:
    kinesis = ScriptedKinesis([client_error("AccessDeniedException")])
    with pytest.raises(DeliveryError, match="3 records were not accepted"):
        deliver(_records(3), kinesis_put(kinesis, "stream"), limits=KINESIS_LIMITS)


def test_batches_keep_within_the_count_and_byte_limits(tmp_path: Path) -> None:
    assert [len(b) for b in batches(_records(1201), KINESIS_LIMITS)] == [500, 500, 201]

    limits = Limits(max_records=500, max_batch_bytes=100, max_record_bytes=60)
    records = [OutRecord(b"x" * 40, f"t:{i}") for i in range(5)]
    records.append(OutRecord(b"y" * 70, "t:big"))
    assert [len(b) for b in batches(records, limits)] == [2, 2, 1, 1]

    firehose = ScriptedFirehose()
    with DeadLetterFiles(tmp_path) as dead_letters:
        tally = deliver(
            records,
            firehose_put(firehose, "feeds"),
            limits=limits,
            dead_letters=dead_letters.sink("fx_rates"),
        )
    assert b"y" * 70 not in [d for call in firehose.calls for d in call]
    assert (tally.sent, tally.accepted, tally.failed) == (6, 5, 1)
    assert tally.error_codes == {}  # refused locally, never sent
    entry = json.loads((tmp_path / "fx_rates.jsonl").read_text())
    assert entry["error_code"] == "RecordTooLarge"


def test_firehose_partial_failure_through_botocore_stubber() -> None:
    """The real client's request and response shapes: the retry carries only record 2."""
    client = boto3.client("firehose", region_name="ap-northeast-2")
    records = [OutRecord(f"rec{i}\n".encode(), f"t:{i}") for i in range(3)]
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_record_batch",
            {
                "FailedPutCount": 1,
                "RequestResponses": [
                    {"RecordId": "a"},
                    {"RecordId": "b"},
                    {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"},
                ],
            },
            {"DeliveryStreamName": "feeds", "Records": [{"Data": r.data} for r in records]},
        )
        stubber.add_response(
            "put_record_batch",
            {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "c"}]},
            {"DeliveryStreamName": "feeds", "Records": [{"Data": b"rec2\n"}]},
        )
        sleeps = Sleeps()
        tally = deliver(
            records, firehose_put(client, "feeds"), limits=FIREHOSE_LIMITS, sleep=sleeps
        )
        stubber.assert_no_pending_responses()
    assert (tally.sent, tally.accepted, tally.retried, tally.failed) == (3, 3, 1, 0)
    assert len(sleeps) == 1
