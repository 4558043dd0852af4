"""Where a benchmark runs: a SQLite file in a temporary directory, or a fresh PostgreSQL database.

Each PostgreSQL run creates its own database on the server given (`tl_bench_<random>`) and
drops it afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SQLITE = "sqlite"


@dataclass(frozen=True)
class Target:
    """One database to run on: its label, the node's data directory and its URL (None: SQLite file)."""

    label: str
    data_dir: Path
    database_url: str | None


def _libpq_url(url: str) -> str:
    """A URL psycopg accepts (no SQLAlchemy driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reachable(url: str, timeout: int = 3) -> bool:
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=timeout):
            return True
    except psycopg.Error:
        return False


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """Create a new database on the server of `server_url`, yield its URL, drop it afterwards."""
    name = f"tl_bench_{secrets.token_hex(6)}"
    admin = _libpq_url(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def describe(url: str) -> str:
    """A URL for display: the password hidden."""
    if url == SQLITE:
        return "SQLite (temporary file)"
    parsed = make_url(url)
    return f"PostgreSQL {parsed.host or 'local'}:{parsed.port or 5432}"


@contextmanager
def bench_target(url: str) -> Iterator[Target]:
    """A throw-away place for one run: `sqlite` or a PostgreSQL server URL."""
    with tempfile.TemporaryDirectory(prefix="tl-bench-") as tmp:
        data_dir = Path(tmp) / "node"
        if url == SQLITE:
            yield Target("SQLite", data_dir, None)
            return
        with fresh_postgres(url) as database:
            yield Target("PostgreSQL", data_dir, database)
