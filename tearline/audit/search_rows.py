"""The audit log's search columns and rows, checked against the entries' own bytes.

The Merkle tree covers each entry's bytes, not the columns and rows that searches narrow by. A
deleted `audit_object` row, or a rewritten actor column, would hide an entry from "who saw this
report" while every hash still matched. So `tearline audit verify --data`, which has the store,
also derives every entry's search columns from its bytes, and checks the search tables against
those columns. (A partner verifying over HTTP has the entries and proofs, not these tables.)
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tearline.audit.store import LeafFacts, driver_style, indexed_entries, search_columns
from tearline.audit.verify import LogTampered
from tearline.clock import parse_timestamp

_COLUMNS = (
    "SELECT idx, data, actor, action, outcome, at_us, objects FROM audit_leaf WHERE idx >= ? AND idx < ? ORDER BY idx"
)

# The first entry whose search rows are wrong: a row that no entry's columns give, or an indexed
# entry without the row its columns give. `{each}` lists a leaf's object ids (dialect's JSON).
_FIRST_BAD_ROW = (
    "SELECT min(a.idx) FROM audit_actor AS a LEFT JOIN audit_leaf AS l ON l.idx = a.idx"
    " WHERE l.idx IS NULL OR l.actor <> a.actor OR a.idx >= ?",
    "SELECT min(l.idx) FROM audit_leaf AS l WHERE l.idx < ?"
    " AND NOT EXISTS (SELECT 1 FROM audit_actor AS a WHERE a.actor = l.actor AND a.idx = l.idx)",
    "SELECT min(o.idx) FROM audit_object AS o WHERE o.idx >= ?"
    " OR NOT EXISTS (SELECT 1 FROM audit_leaf AS l, {each} WHERE l.idx = o.idx AND j.value = o.object_id)",
    "SELECT min(l.idx) FROM audit_leaf AS l, {each} WHERE l.idx < ?"
    " AND NOT EXISTS (SELECT 1 FROM audit_object AS o WHERE o.object_id = j.value AND o.idx = l.idx)",
)
_EACH = {"sqlite": "json_each(l.objects) AS j", "postgresql": "jsonb_array_elements_text(l.objects::jsonb) AS j(value)"}


def check_search_rows(
    session: Session, size: int, batch: int, progress: Callable[[str, int, int], None] | None = None
) -> None:
    """Raise LogTampered naming the first entry whose search columns or rows differ from its bytes."""
    conn = session.connection()
    indexed = indexed_entries(session)
    if not 0 <= indexed <= size:
        raise LogTampered(f"the search tables claim to cover {indexed} entries of {size}", min(indexed, size))
    for start in range(0, size, batch):
        _check_columns(conn, start, min(start + batch, size))
        if progress is not None:
            progress("search columns", min(start + batch, size), size)
    each = _EACH.get(conn.dialect.name, _EACH["postgresql"])
    queries = [driver_style(conn, q.format(each=each)) for q in _FIRST_BAD_ROW]
    firsts = [conn.exec_driver_sql(query, (indexed,)).scalar() for query in queries]
    bad = [index for index in firsts if index is not None]
    if bad:
        raise LogTampered("its search rows (audit_actor, audit_object) differ from what its bytes say", min(bad))


def _check_columns(conn: Connection, start: int, end: int) -> None:
    for idx, data, *stored in conn.exec_driver_sql(driver_style(conn, _COLUMNS), (start, end)):
        if tuple(stored) != _columns_of(idx, bytes(data)):
            raise LogTampered("its search columns differ from what its bytes say", idx)


def _columns_of(index: int, data: bytes) -> tuple[str, str, str, int, str]:
    try:
        raw = orjson.loads(data)
        facts = LeafFacts(raw["actor"], raw["action"], raw["outcome"], parse_timestamp(raw["time"]), raw["objects"])
        return search_columns(facts)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise LogTampered(f"its bytes are not an audit event ({err})", index) from err
