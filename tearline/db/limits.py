"""How many characters a `String(N)` column holds, and the problem of a value that needs more.

PostgreSQL refuses a string longer than its column (a DataError, which would answer a 500 and
roll back everything else of the transaction) where SQLite stores it whole. So every way in
checks its strings against the columns they will fill, before anything is stored, and names the
field: the limit is read from the column itself, never repeated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import QueryableAttribute

from tearline.errors import Problem

Column = QueryableAttribute[Any]


def column_length(column: Column) -> int | None:
    """The most characters `column` (such as `Principal.username`) holds; None when it has no limit."""
    kind = column.type
    return kind.length if isinstance(kind, String) else None


def too_long(column: Column, value: object) -> str | None:
    """The reason `value` does not fit `column`, or None when it fits (or is not a string)."""
    limit = column_length(column)
    if limit is None or not isinstance(value, str) or len(value) <= limit:
        return None
    return f"must be at most {limit} characters (it has {len(value)})"


def length_problems(fields: Iterable[tuple[str, Column, object]], item: str | None = None) -> list[Problem]:
    """A problem for each (field, column, value) whose value does not fit its column."""
    return [Problem(name, reason, item) for name, column, value in fields if (reason := too_long(column, value))]
