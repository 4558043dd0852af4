"""Alembic environment: the URL comes from the caller (`tearline.db.migrate`), never from a file."""

from __future__ import annotations

from alembic import context

from tearline.db import federation_tables, release_tables, resolve_tables  # noqa: F401  (register their tables on Base)
from tearline.db.engine import make_engine
from tearline.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
connection = config.attributes.get("connection")
# `tearline.db.migrate.upgrade` passes a callback told after each migration (the CLI's progress bar).
on_version_apply = config.attributes.get("on_version_apply")

if connection is not None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        on_version_apply=on_version_apply,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=Base.metadata, render_as_batch=True, on_version_apply=on_version_apply
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
