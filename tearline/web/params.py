"""Whole-number parameters of the API, bounded by the database integer they are compared with.

A number past a column's type is refused by PostgreSQL as out of range, and one past 2**63 - 1
cannot even be bound by SQLite's driver: either way a 500. Bounded here, it is a 422 naming the
parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT_MAX = 2**31 - 1  # an `Integer` column: ids of decisions, requests, changes, report versions
BIG_MAX = 2**63 - 1  # a `BigInteger` column (audit indexes and sizes), and the most SQLite binds

PathId = Annotated[int, Path(ge=0, le=INT_MAX)]  # a row's id in the path
PathIndex = Annotated[int, Path(ge=0, le=BIG_MAX)]  # an audit entry's index in the path
QueryNumber = Annotated[int, Query(ge=0, le=BIG_MAX)]  # an audit index or size, or an offset
