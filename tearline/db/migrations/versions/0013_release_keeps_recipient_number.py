"""release keeps the version number its recipient was told and a digest of what it showed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00

A release's number for its recipient was counted anew at each release, under the consents live
then: a consent revoked or expired since an earlier release dropped that version out of the
count, so a later release could name a number the partner already held for other content. Each
release now keeps the number told and a digest of the tearline shown, and later releases number
on from them (`tearline.release.versions`).

Releases made before are filled from the number their sealed outbox payload told (the
`release.version` of the `release` message); where that message is gone the number stays NULL.
The digest cannot be made again from what is stored, so it stays NULL: a later release takes the
next number unless it sends the same stored version with the same items kept.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 1_000
# A release payload carries its bundle, so the messages are read a batch at a time.
_PAYLOADS = sa.text("SELECT id, payload FROM outbox WHERE kind = 'release' AND id > :after ORDER BY id LIMIT :batch")


def upgrade() -> None:
    # Plain ALTER TABLE, up and down, on both databases: a batch may copy the table on SQLite, and
    # dropping the old copy fails while release_recall rows refer to it.
    op.add_column("release", sa.Column("recipient_number", sa.Integer(), nullable=True))
    op.add_column("release", sa.Column("shown_digest", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    after = 0
    while messages := conn.execute(_PAYLOADS, {"after": after, "batch": _BATCH}).all():
        after = messages[-1][0]
        rows = [told for _, payload in messages if (told := _told(payload)) is not None]
        if rows:
            # Only a release never numbered: a release has one message, but should two name it, the first told.
            conn.execute(
                sa.text('UPDATE "release" SET recipient_number = :number WHERE id = :id AND recipient_number IS NULL'),
                rows,
            )


def _told(payload: Any) -> dict[str, Any] | None:
    """The release id and the version number its sealed payload told, if it has both."""
    record = _record(payload)
    release, number = record.get("id"), record.get("version")
    if isinstance(release, str) and isinstance(number, int) and not isinstance(number, bool):
        return {"id": release, "number": number}
    return None


def _record(payload: Any) -> dict[str, Any]:
    # PostgreSQL's driver hands a JSON column over decoded; SQLite's as text.
    data = json.loads(payload) if isinstance(payload, str | bytes) else payload
    record = data.get("release") if isinstance(data, dict) else None
    return record if isinstance(record, dict) else {}


def downgrade() -> None:
    op.drop_column("release", "shown_digest")  # ALTER TABLE ... DROP COLUMN: SQLite has it since 3.35
    op.drop_column("release", "recipient_number")
