"""The store runs on SQLite (WAL, foreign keys) and PostgreSQL, migrated by Alembic."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from tearline.db.migrate import alembic_config
from tearline.node import Node


def test_schema_is_at_the_newest_migration(node: Node) -> None:
    with node.db.read() as session:
        version = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    heads = ScriptDirectory.from_config(alembic_config(node.db.url)).get_heads()
    assert [version] == heads


def test_sqlite_runs_in_wal_mode_with_foreign_keys(node: Node) -> None:
    if node.db.dialect != "sqlite":
        return
    with node.db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
