"""Bulk inserts (`tearline.db.bulk`): what they store equals what SQLAlchemy's own insert stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from tearline.db.bulk import insert_rows
from tearline.db.federation_tables import ChangeEvent
from tearline.node import Node


def _events(tag: str, count: int) -> list[dict[str, Any]]:
    """Change rows with JSON, NULLs, non-ASCII text and an aware non-UTC time (the column keeps UTC)."""
    eastern = timezone(timedelta(hours=-5))
    return [
        {
            "at": datetime(2026, 3, 1, 7, 0, i, tzinfo=eastern),
            "kind": tag,
            "report_stix_id": None if i % 2 else f"report--{i:04d}",
            "version_number": i,
            "audience_role": "disclosure" if i % 3 == 0 else None,
            "detail": None if i == 2 else {"señal": "Peña", "n": i, "list": [1, None, "é"]},  # None: JSON null
            "note": "" if i % 2 else "nota ñ",
        }
        for i in range(count)
    ]


def _stored(node: Node, tag: str) -> list[tuple[Any, ...]]:
    with node.db.read() as session:
        rows = session.execute(
            select(
                ChangeEvent.at,
                ChangeEvent.report_stix_id,
                ChangeEvent.version_number,
                ChangeEvent.audience_role,
                ChangeEvent.detail,
                ChangeEvent.note,
            )
            .where(ChangeEvent.kind == tag)
            .order_by(ChangeEvent.id)
        )
        return [tuple(row) for row in rows]


def _sql_nulls(node: Node, tag: str) -> int:
    with node.db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ChangeEvent)
                .where(ChangeEvent.kind == tag, ChangeEvent.detail.is_(None))
            )
            or 0
        )


def test_a_bulk_insert_stores_what_sqlalchemys_insert_stores(node: Node) -> None:
    with node.db.write() as session:
        insert_rows(session.connection(), ChangeEvent.__table__, _events("bulk", 7))  # type: ignore[arg-type]
        session.connection().execute(insert(ChangeEvent.__table__), _events("plain", 7))  # type: ignore[arg-type]
    bulk, plain = _stored(node, "bulk"), _stored(node, "plain")
    assert bulk == plain
    assert _sql_nulls(node, "bulk") == _sql_nulls(node, "plain")  # None stored as SQLAlchemy stores it
    assert len(bulk) == 7
    assert bulk[0][0] == datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)  # in id order, converted to UTC
    assert bulk[1][4] == {"señal": "Peña", "n": 1, "list": [1, None, "é"]}


def test_column_defaults_are_filled_in_as_sqlalchemy_would(node: Node) -> None:
    constant = [{k: v for k, v in row.items() if k != "note"} for row in _events("constant", 3)]
    computed = [{k: v for k, v in row.items() if k != "detail"} for row in _events("computed", 3)]
    with node.db.write() as session:
        insert_rows(session.connection(), ChangeEvent.__table__, constant)  # type: ignore[arg-type]
        insert_rows(session.connection(), ChangeEvent.__table__, computed)  # type: ignore[arg-type]
    assert [row[5] for row in _stored(node, "constant")] == ["", "", ""]  # note's default
    assert [row[4] for row in _stored(node, "computed")] == [{}, {}, {}]  # detail's default (dict)


def test_rows_must_share_their_columns(node: Node) -> None:
    rows = _events("mixed", 3)
    del rows[1]["note"]
    with node.db.write() as session, pytest.raises(ValueError, match="note"):
        insert_rows(session.connection(), ChangeEvent.__table__, rows)  # type: ignore[arg-type]
