"""The auditor's sight finds the portions and objects an entry names by their hash through an index
(migration 0012), not by reading the whole table, on SQLite and on PostgreSQL.

Every lookup by hash that a search makes is captured as it runs, and its plan asked of the database
itself. PostgreSQL is told to avoid sequential scans, which it still makes where no index serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from tearline.audit import log
from tearline.audit.search import EntrySight, Query, search
from tearline.db.models import Portion, StixObject
from tearline.fixtures import build_demo
from tearline.node import Node
from tests.audit.support import event as audit_event
from tests.conftest import detached_principal

LOOKUPS = ("FROM portion WHERE portion.hash IN", "FROM stix_object WHERE stix_object.hash IN")


@contextmanager
def _captured(node: Node) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if any(lookup in " ".join(statement.split()) for lookup in LOOKUPS):
            statements.append((statement, parameters))

    event.listen(node.db.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(node.db.engine, "before_cursor_execute", keep)


def _plan(node: Node, statement: str, parameters: Any) -> str:
    with node.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def test_the_sight_looks_items_up_by_hash_through_an_index(node: Node) -> None:
    build_demo(node)
    with node.db.read() as session:
        hashes = [*session.scalars(select(Portion.hash).limit(2)), *session.scalars(select(StixObject.hash).limit(2))]
    with node.db.write() as session:
        log.record(session, audit_event(0, objects=hashes), node.config.name)
    carla = detached_principal(node, "carla.auditor")
    with _captured(node) as statements, node.db.read() as session:
        search(session, Query(actor="analyst0@US-DEMO-NARC"), EntrySight(session, node.reader(carla)))
    tables = {"portion" if "FROM portion" in s else "stix_object" for s, _ in statements}
    assert tables == {"portion", "stix_object"}, statements
    for statement, parameters in statements:
        plan = _plan(node, statement, parameters)
        assert "ix_portion_hash" in plan or "ix_object_hash" in plan, plan

