"""Streaming JSON Lines output: sharded files, malformed records mixed in, counts kept.

Records arrive as column lists in chunks and leave one line at a time, so memory stays bounded
by the chunk size whatever the scale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from exportintel.contracts.model import Contract
from exportintel.generate import malformed
from exportintel.generate.common import MAX_ROWS_PER_FILE


@dataclass
class DatasetSummary:
    """What was written for one dataset; `malformed` excludes exact duplicates."""

    rows: int
    malformed: int
    files: list[Path]
    duplicates: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


class JsonlShards:
    """Lines into `<folder>/<stem>-00000.jsonl`, `-00001`, ... at most `max_rows` each."""

    def __init__(self, folder: Path, stem: str, max_rows: int = MAX_ROWS_PER_FILE) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in sorted(folder.glob(f"{stem}-*.jsonl")):
            stale.unlink()
        self.folder, self.stem, self.max_rows = folder, stem, max_rows
        self.files: list[Path] = []
        self.rows = 0
        self._handle: IO[bytes] | None = None
        self._in_file = 0

    def write(self, lines: Iterable[bytes]) -> None:
        """Newline-terminated lines, in small batches: orjson's output buffers are large, so
        holding a whole chunk's lines in memory would cost kilobytes per record."""
        batch: list[bytes] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 4096:
                self._write_batch(batch)
                batch = []
        self._write_batch(batch)

    def _write_batch(self, batch: list[bytes]) -> None:
        start = 0
        while start < len(batch):
            if self._handle is None or self._in_file == self.max_rows:
                self._open_next()
            assert self._handle is not None
            take = min(len(batch) - start, self.max_rows - self._in_file)
            self._handle.write(b"".join(batch[start : start + take]))
            self._in_file += take
            self.rows += take
            start += take

    def write_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        self.write(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records)

    def close(self) -> list[Path]:
        if self._handle is None:
            self._open_next()  # an empty dataset still gets its (empty) file
        assert self._handle is not None
        self._handle.close()
        return self.files

    def _open_next(self) -> None:
        if self._handle is not None:
            self._handle.close()
        path = self.folder / f"{self.stem}-{len(self.files):05d}.jsonl"
        self.files.append(path)
        self._handle = path.open("wb", buffering=1 << 20)
        self._in_file = 0


class DatasetWriter:
    """Writes one contract dataset; about `rate` of the records come out broken."""

    def __init__(
        self,
        contract: Contract,
        out: Path,
        rng: np.random.Generator,
        rate: float,
        protected: Sequence[str] = (),
    ) -> None:
        self.contract = contract
        self.rng = rng
        self.rate = rate
        self.names = contract.field_names
        self.kinds = malformed.applicable_kinds(contract, protected)
        self.fields = malformed.candidates(contract, protected)
        self.shards = JsonlShards(out / contract.name, contract.name)
        self.counts: Counter[str] = Counter()

    def write(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """One chunk of records given as equally long columns named as the contract's fields."""
        if set(columns) != set(self.names):
            raise ValueError(
                f"{self.contract.name}: columns {sorted(columns)} != fields {sorted(self.names)}"
            )
        n = len(columns[self.names[0]])
        hit = np.flatnonzero(self.rng.random(n) < self.rate)
        kinds = self.rng.integers(0, len(self.kinds), len(hit))
        plan = {i: self.kinds[k] for i, k in zip(hit.tolist(), kinds.tolist(), strict=True)}
        self.counts.update(plan.values())
        self.shards.write(self._lines(columns, plan))

    def _lines(self, columns: Mapping[str, Sequence[Any]], plan: dict[int, str]) -> Iterator[bytes]:
        names = self.names
        repeated: list[bytes] = []
        rows = zip(*(columns[name] for name in names), strict=True)
        for i, values in enumerate(rows):
            record = dict(zip(names, values, strict=True))
            kind = plan.get(i)
            if kind is not None and kind != "duplicate":
                record = malformed.corrupt(self.contract, record, kind, self.fields[kind], self.rng)
            line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
            if kind == "duplicate":
                repeated.append(line)
            yield line
        # Exact duplicates come again at the end of the chunk, as a re-sent batch would.
        yield from repeated

    def close(self) -> DatasetSummary:
        files = self.shards.close()
        duplicates = self.counts["duplicate"]
        return DatasetSummary(
            rows=self.shards.rows,
            malformed=sum(self.counts.values()) - duplicates,
            files=files,
            duplicates=duplicates,
            kinds={k: self.counts[k] for k in malformed.KINDS if self.counts[k]},
        )


def iso_dates(days: np.ndarray) -> list[str]:
    """yyyy-MM-dd strings from datetime64 values."""
    out: list[str] = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()
    return out


def utc_timestamps(moments: np.ndarray) -> list[str]:
    """ISO 8601 UTC timestamps with milliseconds, e.g. 2024-05-03T01:02:03.456Z."""
    text = np.datetime_as_string(moments.astype("datetime64[ms]"), unit="ms")
    out: list[str] = np.char.add(text, "Z").tolist()
    return out


def seoul_timestamps(moments_utc: np.ndarray) -> list[str]:
    """ISO 8601 timestamps in Asia/Seoul (UTC+9 all year), e.g. 2024-05-03T10:02:03+09:00."""
    local = moments_utc.astype("datetime64[s]") + np.timedelta64(9, "h")
    text = np.datetime_as_string(local.astype("datetime64[s]"), unit="s")
    out: list[str] = np.char.add(text, "+09:00").tolist()
    return out


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4 UUIDs drawn from `rng` (uuid4() would read the OS entropy pool)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    return [
        "-".join((h[k : k + 8], h[k + 8 : k + 12], h[k + 12 : k + 16], h[k + 16 : k + 20],
                  h[k + 20 : k + 32]))
        for k in range(0, 32 * n, 32)
    ]  # fmt: skip


def with_nulls(values: np.ndarray | list[Any], missing: np.ndarray) -> list[Any]:
    """A list of the values with None where `missing` is true (optional fields)."""
    out = values.tolist() if isinstance(values, np.ndarray) else list(values)
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out
