"""A hot statement compiled once and run straight through the driver, inside the caller's transaction.

A visibility page touches a few hundred index entries: SQLite runs it in about 0.13 ms, and going
through SQLAlchemy's execution (rendering the post-compile parameters into a statement of several
kilobytes, wrapping the cursor, fetching row by row) added 0.2 ms more. So a statement that runs
on every page is compiled once per dialect, its parameters are converted by the same type
processors SQLAlchemy would use, and it runs on the session's own DBAPI connection: the same
transaction and snapshot as every other read of the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    defaults: Mapping[str, Any]  # every parameter with the value compiled into the statement
    processors: Mapping[str, Callable[[Any], Any]]
    positions: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        # A value the statement does not use is left out: a filter can fold to a constant (a reader
        # who may enter no workspace sees nothing), and its parameters go with it.
        merged = {**self.defaults, **{k: v for k, v in values.items() if k in self.defaults}}
        for name, process in self.processors.items():
            merged[name] = process(merged[name])
        if self.positions is None:
            return merged
        return tuple(merged[name] for name in self.positions)


def compile_for_driver(statement: ClauseElement, dialect: Dialect) -> DriverStatement:
    """Compile once, with post-compile parameters (IN lists, literal LIMITs) rendered into the text."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if not isinstance(compiled, SQLCompiler):
        raise TypeError("compile_for_driver takes SQL statements")
    processors = {}
    for name, bind in compiled.binds.items():
        process = bind.type.bind_processor(dialect)
        if process is not None:
            processors[name] = process
    positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    defaults = dict(compiled.construct_params() or {})
    return DriverStatement(compiled.string, defaults, {k: v for k, v in processors.items() if k in defaults}, positions)


def fetch_column(session: Session, statement: DriverStatement, values: Mapping[str, Any]) -> list[Any]:
    """The first column of every row, run on the session's DBAPI connection in its transaction."""
    connection = session.connection()
    cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            # Prepared from the first run: each reader's statement is its own text, so psycopg's
            # default (prepare on the fifth run) would plan it from scratch four more times.
            cursor.execute(statement.sql, statement.parameters(values), prepare=True)
        else:
            cursor.execute(statement.sql, statement.parameters(values))
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
