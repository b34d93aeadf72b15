"""AINative's SQL endpoint: just enough SQL to be useful, over generated rows.

``SELECT cols FROM table [WHERE col ...] [LIMIT n] [OFFSET n]`` reads generated rows and
``CREATE INDEX name ON table(col)`` records an index; other statements run and return no rows.
WHERE clauses are not evaluated. An unpaginated read of a large table, without a WHERE on an
indexed column, answers ``query_timeout`` (seed: "Large result sets without pagination",
"Complex queries without indexes").
"""

from __future__ import annotations

import re
from typing import Any

from ..surface import fail
from .ainative_data import CREATED, iso

# Tables every project has: generated rows, and which sizes count as large (seed: "Large
# result sets without pagination", "Complex queries without indexes").
TABLES: dict[str, dict[str, Any]] = {
    "large_table": {"rows": 5000, "columns": ["id", "name", "created_at"]},
    "users": {"rows": 3, "columns": ["id", "email", "name", "created_at"]},
}
LARGE_ROWS = 1000
UNLIMITED_ROWS = 1000  # rows an indexed but unlimited read returns (the seed's LIMIT 1000)


# Matched against the statement with its whitespace collapsed to single spaces, so that no
# pattern can backtrack over runs of whitespace (a 10,000-character query stays linear).
SELECT = re.compile(r"^select (?P<cols>.+?) from (?P<table>\w+)(?P<rest>(?: .*)?)$", re.I)
CREATE_INDEX = re.compile(
    r"^create (?:unique )?index (?:if not exists )?\w+ on (?P<table>\w+) ?"
    r"\( ?(?P<cols>\w+(?: ?, ?\w+)*) ?\) ?;?$",
    re.I,
)
LIMIT = re.compile(r"\blimit (\d{1,18})\b", re.I)
OFFSET = re.compile(r"\boffset (\d{1,18})\b", re.I)
WHERE = re.compile(r"\bwhere (?:\w+\.)?(\w+)", re.I)


def _row(table: str, i: int) -> dict[str, Any]:
    n = i + 1
    row: dict[str, Any] = {
        "id": n,
        "name": f"Item {n}",
        "email": f"person{n}@example.com",
        "created_at": iso(CREATED + 3600 * i),
    }
    return {c: row[c] for c in TABLES[table]["columns"]}


def _columns(text: str, table: str) -> list[str]:
    if text.strip() == "*":
        return list(TABLES[table]["columns"])
    names = [part.strip().split()[-1].split(".")[-1] for part in text.split(",") if part.strip()]
    return names or list(TABLES[table]["columns"])


def run_query(
    sql: str, indexes: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The result of ``sql`` and the project's indexes after it; a slow read: ``query_timeout``."""
    sql = " ".join(sql.split())
    created = CREATE_INDEX.match(sql)
    if created:
        table, cols = created["table"], [c.strip() for c in created["cols"].split(",")]
        indexes = {**indexes, table: sorted({*indexes.get(table, ["id"]), *cols})}
        return {"rows": [], "row_count": 0}, indexes
    select = SELECT.match(sql)
    if not select or select["table"] not in TABLES:
        return {"rows": [], "row_count": 0}, indexes
    table, rest = select["table"], select["rest"]
    total = int(TABLES[table]["rows"])
    limit, offset, where = LIMIT.search(rest), OFFSET.search(rest), WHERE.search(rest)
    indexed = where is not None and where[1] in indexes.get(table, ["id"])
    if limit is None and total > LARGE_ROWS and not indexed:
        raise fail("query_timeout")
    start = min(total, int(offset[1])) if offset else 0
    count = int(limit[1]) if limit else UNLIMITED_ROWS
    cols = _columns(select["cols"], table)
    rows = [
        {c: _row(table, i).get(c) for c in cols} for i in range(start, min(total, start + count))
    ]
    return {"rows": rows, "row_count": len(rows)}, indexes
