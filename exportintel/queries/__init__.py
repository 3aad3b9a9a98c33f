"""Named analyst queries: one `.sql` file each, Athena (Trino) dialect, over curated tables.

The CDK catalog publishes them as Athena named queries; locally the same files run on DuckDB.
The first comment lines of a file are its description.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str


def _description(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


@cache
def named_queries() -> tuple[NamedQuery, ...]:
    queries = []
    for path in sorted(SQL_DIR.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        queries.append(NamedQuery(path.stem, _description(sql), sql))
    return tuple(queries)


def get_named_query(name: str) -> NamedQuery:
    for query in named_queries():
        if query.name == name:
            return query
    known = ", ".join(q.name for q in named_queries())
    raise KeyError(f"no named query {name!r}; known: {known}")
