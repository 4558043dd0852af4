"""entity resolution keys: every key fits its column, and organisations keep their words sorted

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:00:00

- An organisation's `alt_key` is now its normalised name with the words sorted: near names are
  looked for among these, and the same words in another order share one. Members stored before
  have none, so they are filled here from `match_key`.
- A key longer than its column is now stored as its first characters and a digest of the whole
  (`tearline.db.resolve_tables.fit_key`). PostgreSQL refused such rows, so only SQLite can hold
  longer ones; they are fitted here, so that arrivals find them by the fitted key.

The fitting is written out here, not imported: a migration must keep doing what it did when
it was written.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_LENGTHS = {
    "name_key": 64,
    "cross_key": 64,
    "dob": 10,
    "phone1": 24,
    "national_id": 32,
    "match_key": 128,
    "alt_key": 128,
}
_DIGEST = 16
_BATCH = 5_000


def _fit(value: str | None, length: int) -> str | None:
    if value is None or len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[: min(_DIGEST, length - 1)]
    return f"{value[: length - len(digest) - 1]}#{digest}"


def _words_sorted(name: str) -> str:
    return " ".join(sorted(name.split()))


def _update(conn: sa.Connection, column: str, rows: list[dict[str, object]]) -> None:
    if rows:
        conn.execute(sa.text(f"UPDATE resolve_member SET {column} = :value WHERE id = :id"), rows)


def upgrade() -> None:
    conn = op.get_bind()
    for column, length in _LENGTHS.items():
        found = conn.execute(
            sa.text(f"SELECT id, {column} FROM resolve_member WHERE length({column}) > :length"), {"length": length}
        )
        _update(conn, column, [{"id": i, "value": _fit(v, length)} for i, v in found])
    organisations = conn.execute(
        sa.text("SELECT id, match_key FROM resolve_member WHERE kind = 'organization' AND match_key IS NOT NULL")
    ).all()
    for start in range(0, len(organisations), _BATCH):
        # A fitted match key's words are sorted as they stand: only names of more than 128
        # characters differ from what an arrival would store, and those are found by their match key.
        rows = organisations[start : start + _BATCH]
        _update(conn, "alt_key", [{"id": i, "value": _fit(_words_sorted(k), 128)} for i, k in rows])


def downgrade() -> None:
    # Earlier versions wrote no alternative key for organisations; fitted keys stay as they are.
    op.execute("UPDATE resolve_member SET alt_key = NULL WHERE kind = 'organization'")
