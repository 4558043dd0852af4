"""The store runs on SQLite (WAL, foreign keys) and PostgreSQL, migrated by Alembic."""

from __future__ import annotations

import re
from typing import Any

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


def test_the_migrations_make_the_schema_the_models_describe(node: Node) -> None:
    """Every table, column and index of the models exists after `alembic upgrade head`, and nothing else."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tearline.db.models import Base

    with node.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    structural = [d for d in differences if d[0] in _STRUCTURE and not _FULLTEXT.search(_name(d))]
    assert structural == []


_STRUCTURE = ("add_table", "remove_table", "add_index", "remove_index", "add_column", "remove_column")
# Full-text search lives outside the models on purpose (migration 0006): FTS5 tables and triggers on
# SQLite, a generated tsvector column and its GIN index on PostgreSQL.
_FULLTEXT = re.compile(r"_fts|fulltext|search_vector")


def _name(difference: tuple[Any, ...]) -> str:
    return " ".join(str(getattr(part, "name", part)) for part in difference[1:])
