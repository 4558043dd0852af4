"""node: full-text search over portions and objects, and partner-signed equivalence versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:00:00

Portions and objects get `search_text`, their folded words (`tearline.db.search_text`), filled
for the rows already stored. The index over it is FTS5 on SQLite (an external-content table kept
in step by triggers, inside each writing statement) and, on PostgreSQL, a stored generated
tsvector column (`search_vector`, 'simple' config) with a GIN index. Signed equivalence
versions need no new column: `equivalence_version.signatures` already holds who signed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from tearline.db.search_text import object_search_text, search_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = {"portion": "portion_fts", "stix_object": "stix_object_fts"}
_BATCH = 5_000


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    _backfill(bind, "portion", "text", lambda row: search_text(row.text))
    _backfill(bind, "stix_object", "name, body", lambda row: object_search_text(row.name or "", _body(row.body)))
    if bind.dialect.name == "sqlite":
        for table, fts in _TABLES.items():
            _create_fts5(table, fts)
    else:
        for table in _TABLES:
            # Stored, so that a recheck or a walk over rows reads the vector instead of re-parsing text.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
                "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_fulltext ON {table} USING gin (search_vector)")


def _body(value: Any) -> dict[str, Any]:
    # JSON comes back decoded on PostgreSQL and as text from a raw SQLite select.
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _backfill(bind: sa.Connection, table: str, columns: str, derive: Callable[[Any], str]) -> None:
    """Fill `search_text` for stored rows, in id order and in batches (a large node has millions)."""
    last = 0
    while True:
        rows = bind.execute(
            sa.text(f"SELECT id, {columns} FROM {table} WHERE id > :last ORDER BY id LIMIT {_BATCH}"), {"last": last}
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text(f"UPDATE {table} SET search_text = :text WHERE id = :id"),
            [{"id": row.id, "text": derive(row)} for row in rows],
        )
        last = rows[-1].id


def _create_fts5(table: str, fts: str) -> None:
    # External content: the words live once, in the table; the index holds only postings.
    # unicode61 with remove_diacritics is a second guard: the text is folded already.
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN {delete} {insert} END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    for table, fts in _TABLES.items():
        if bind.dialect.name == "sqlite":
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_fulltext")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
        with op.batch_alter_table(table) as batch:
            batch.drop_column("search_text")
