"""One small generation per test session, read once: the tests share it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from exportintel.contracts import all_contracts, get_contract
from exportintel.contracts.validation import validate_record
from exportintel.generate import GenerateSummary, generate

# Derived datasets (the quarantine, for example) come out of the pipeline, not the generator.
DATASETS = sorted(c.name for c in all_contracts() if c.origin != "derived")


@dataclass
class Generated:
    """A generated folder with cached readers (parsing 200k events takes a second)."""

    out: Path
    summary: GenerateSummary
    _lines: dict[str, list[bytes]] = field(default_factory=dict)
    _good: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _invalid: dict[str, int] = field(default_factory=dict)

    @property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.out / "manifest.json").read_text())
        return manifest

    def lines(self, name: str) -> list[bytes]:
        if name not in self._lines:
            files = sorted((self.out / name).glob(f"{name}-*.jsonl"))
            self._lines[name] = [line for f in files for line in f.read_bytes().splitlines()]
        return self._lines[name]

    def ids(self, name: str, key: str) -> set[str]:
        """Every id in a parent dataset, its broken records included: they keep their ids."""
        return {orjson.loads(line)[key] for line in self.lines(name)}

    def good(self, name: str) -> list[dict[str, Any]]:
        """Records that pass their contract (each exact duplicate counted once)."""
        if name not in self._good:
            contract = get_contract(name)
            seen: set[bytes] = set()
            good, invalid = [], 0
            for line in self.lines(name):
                record = orjson.loads(line)
                if not validate_record(contract, record).ok:
                    invalid += 1
                elif line not in seen:
                    seen.add(line)
                    good.append(record)
            self._good[name], self._invalid[name] = good, invalid
        return self._good[name]

    def invalid(self, name: str) -> int:
        self.good(name)
        return self._invalid[name]

    def ground_truth(self, stem: str) -> Iterator[dict[str, Any]]:
        for f in sorted((self.out / "ground_truth").glob(f"{stem}-*.jsonl")):
            for line in f.read_bytes().splitlines():
                yield orjson.loads(line)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("generated-small")
    return Generated(out, generate(scale="small", seed=7, out=out))
