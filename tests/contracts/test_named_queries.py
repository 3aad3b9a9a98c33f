"""Analyst named queries: valid Athena SQL over curated tables and columns only."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from exportintel.contracts import all_contracts
from exportintel.contracts.tables import curated_table
from exportintel.queries import NamedQuery, get_named_query, named_queries


def curated_schema() -> dict[str, dict[str, str]]:
    schema = {}
    for contract in all_contracts():
        table = curated_table(contract)
        schema[contract.name] = {c.name: c.type for c in (*table.columns, *table.partition_keys)}
    return schema


def check(query: NamedQuery) -> None:
    tree = sqlglot.parse_one(query.sql, read="athena")
    qualify(tree, schema=curated_schema(), dialect="athena", validate_qualify_columns=True)


def test_there_are_at_least_five_described_queries() -> None:
    queries = named_queries()
    assert len(queries) >= 5
    assert all(len(q.description) > 20 for q in queries)
    assert get_named_query("top_hs_chapters_by_year").sql.lstrip().startswith("--")


@pytest.mark.parametrize("query", named_queries(), ids=lambda q: q.name)
def test_query_references_only_curated_columns(query: NamedQuery) -> None:
    check(query)


def test_the_check_catches_a_column_that_does_not_exist() -> None:
    bad = NamedQuery("bad", "uses a raw-only column", "SELECT contact_address FROM exporters")
    with pytest.raises(OptimizeError):
        check(bad)
