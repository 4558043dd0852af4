"""Bring a database to the newest schema with Alembic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tearline.db.engine import make_engine, normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


# After each migration applied: (what it did, migrations applied so far, migrations to apply).
Applied = Callable[[str, int, int], None]


def upgrade(url: str, applied: Applied | None = None) -> None:
    """Apply every migration not yet applied (idempotent). Features add their tables on branches
    of their own (federation, entity resolution), so every head is applied.

    `applied` is told after each migration, so that a long one (a large audit log's search rows)
    shows how far the upgrade has gone."""
    config = alembic_config(url)
    if applied is not None:
        total = len(pending_revisions(config))
        done = 0

        def after(*, step: Any, **_: Any) -> None:
            nonlocal done
            done += 1
            script = step.up_revision
            applied(f"{script.revision}: {(script.doc or '').splitlines()[0]}", done, total)

        config.attributes["on_version_apply"] = after
    command.upgrade(config, "heads")


def pending_revisions(config: Config) -> list[str]:
    """The migrations an upgrade to every head would apply, from the database's current revisions."""
    script = ScriptDirectory.from_config(config)
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        current, _ = schema_revisions(engine)
    finally:
        engine.dispose()
    done = {s.revision for s in script.iterate_revisions(tuple(current), "base")} if current else set()
    return [s.revision for s in script.walk_revisions() if s.revision not in done]


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and those this code's migrations end in."""
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    return current, heads
