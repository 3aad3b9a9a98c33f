"""Make moto's Kinesis shard O(1) per record, so the emulation takes a real day of clicks.

moto 5.2.5 finds a shard's last sequence number with `list(records.keys())[-1]` on every put
and scans a shard from its first record on every read, so putting and reading n records costs
O(n^2): 200k events took minutes. Sequence numbers in a moto shard are consecutive integers
(each put takes the last one plus one), so the last, the first and the next records can be
found directly. The answers are the same as moto's; only the cost changes. Applied in the
emulation's own process only, never in tests that use `mock_aws` for other purposes.
"""

from __future__ import annotations

from typing import Any

_APPLIED = False


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.kinesis.models import Record, Shard

    def get_max_sequence_number(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
        sequence_number = get_max_sequence_number(self) + 1
        self.records[sequence_number] = Record(
            partition_key, data, sequence_number, explicit_hash_key
        )
        return str(sequence_number)

    def get_records(
        self: Any, last_sequence_id: str, limit: int | None
    ) -> tuple[list[Any], int, int]:
        last = int(last_sequence_id)
        results: list[Any] = []
        if not self.records:
            return results, last, 0
        newest = get_max_sequence_number(self)
        sequence = max(last + 1, get_min_sequence_number(self))
        while sequence <= newest and (limit is None or len(results) < limit):
            record = self.records.get(sequence)
            if record is not None:
                results.append(record)
                last = sequence
            sequence += 1
        behind = self.records[newest].created_at - results[-1].created_at if results else 0.0
        return results, last, int(behind * 1000)

    patches = {
        "get_max_sequence_number": get_max_sequence_number,
        "get_min_sequence_number": get_min_sequence_number,
        "put_record": put_record,
        "get_records": get_records,
    }
    for name, function in patches.items():
        setattr(Shard, name, function)
    _APPLIED = True
