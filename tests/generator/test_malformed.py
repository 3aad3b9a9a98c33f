"""Each kind of breakage breaks exactly what it says, for every contract."""

from __future__ import annotations

import numpy as np
import pytest

from exportintel.contracts import get_contract
from exportintel.contracts.validation import validate_record
from exportintel.generate import malformed
from tests.generator.conftest import DATASETS, Generated


@pytest.mark.parametrize("name", DATASETS)
def test_every_kind_breaks_a_good_record(small: Generated, name: str) -> None:
    contract = get_contract(name)
    record = small.good(name)[0]
    protected = ("firm_id",) if name == "exporters" else ()
    fields = malformed.candidates(contract, protected)
    rng = np.random.default_rng(3)
    for kind in malformed.applicable_kinds(contract, protected):
        if kind == "duplicate":
            continue
        for _ in range(20):
            broken = malformed.corrupt(contract, record, kind, fields[kind], rng)
            result = validate_record(contract, broken)
            assert not result.ok
            assert len(result.violations) == 1  # one field broken at a time
            if kind != "out_of_range":
                assert result.violations[0].code == kind
            assert all(f not in protected or broken[f] == record[f] for f in record)


def test_duplicates_are_not_corrupted() -> None:
    contract = get_contract("country_risk")
    with pytest.raises(ValueError, match="cannot corrupt"):
        malformed.corrupt(contract, {}, "duplicate", contract.fields, np.random.default_rng(0))
