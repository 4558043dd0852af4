"""`marking_id IN (constant ids) OR marking_id > newest`, written as each database runs it fastest.

A reader's audience (the markings it may see) is known before its query is built, so the query can
carry it as constants instead of probing the audience table for every row it walks. Markings stored
after the audience was read have higher ids, so `newest` lets them through to the probe.

- PostgreSQL: `marking_id = ANY('{…}'::integer[]) OR marking_id > newest`. With a constant array of
  nine or more elements, PostgreSQL (14 and later) hashes it once and probes the hash for each row;
  the same test against a subquery or a parameter probes an index for each row, three to four
  times slower on a walk.
- SQLite walking rows in order (a keyset page): `+marking_id IN (…) OR +marking_id > newest`. SQLite
  builds the list into a small index once per execution. The unary plus keeps it from choosing the
  marking index instead and sorting every visible row to find a page.
- SQLite finding rows by marking (a count): `marking_id IN (SELECT id FROM marking WHERE id IN (…)
  OR id > newest)`, which SQLite drives through the item's marking index. Written as a plain OR, the
  same test makes SQLite gather row ids from two index searches and then read every row.

The ids are written into the SQL text, so a statement stays the same, and its compiled form and
prepared plan are reused, for as long as the reader's audience does not change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from tearline.db.models import MarkingRow


class MarkingAmong(ColumnElement[bool]):
    """True iff `column` (a marking id) is one of `ids`, or above `newest` unless that is None.

    `walk`: the query walks rows in its own order and must not be driven by the marking index.
    """

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads this class attribute by this name and type)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_plain_obj),
        ("newest", InternalTraversal.dp_plain_obj),
        ("walk", InternalTraversal.dp_boolean),
    ]

    def __init__(self, column: ColumnElement[Any], ids: tuple[int, ...], newest: int | None, *, walk: bool) -> None:
        if not all(type(i) is int for i in ids) or not (newest is None or type(newest) is int):
            raise TypeError("MarkingAmong takes integer ids only: they are written into the SQL text")
        if not ids and newest is None:
            raise ValueError("MarkingAmong needs ids, a newest id, or both")
        self.column = column
        self.ids = ids
        self.newest = newest
        self.walk = walk

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        # Already a parenthesised predicate: without this, SQLAlchemy would append `= 1` inside
        # AND and OR on SQLite (a Boolean-typed column there), which hides it from the planner.
        return self


def _tests(element: MarkingAmong, column: str, plus: str = "") -> list[str]:
    """The element's tests of `column`, each written for SQLite's planner with `plus` ('+' or '')."""
    tests = [f"{plus}{column} IN ({','.join(str(i) for i in element.ids)})"] if element.ids else []
    if element.newest is not None:
        tests.append(f"{plus}{column} > {element.newest}")
    return tests


@compiles(MarkingAmong)
def _default(element: MarkingAmong, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({' OR '.join(_tests(element, compiler.process(element.column, **kw)))})"


@compiles(MarkingAmong, "sqlite")
def _sqlite(element: MarkingAmong, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.walk:
        return f"({' OR '.join(_tests(element, column, '+'))})"
    return f"({column} IN (SELECT id FROM {MarkingRow.__tablename__} WHERE {' OR '.join(_tests(element, 'id'))}))"


@compiles(MarkingAmong, "postgresql")
def _postgresql(element: MarkingAmong, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    tests = [f"{column} = ANY('{{{','.join(str(i) for i in element.ids)}}}'::integer[])"] if element.ids else []
    if element.newest is not None:
        tests.append(f"{column} > {element.newest}")
    return f"({' OR '.join(tests)})"
