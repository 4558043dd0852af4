"""release keeps the version number and times its recipient was told and a digest of what it showed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00

A release's number for its recipient was counted anew at each release, under the consents live
then: a consent revoked or expired since an earlier release dropped that version out of the
count, so a later release could name a number the partner already held for other content, and
date the report with another `created` or an earlier `modified`. Each release now keeps the number
told, the report's `created` and `modified` told and a digest of the tearline shown, and later
releases number and date on from them (`tearline.release.versions`).

Releases made before are filled from what their sealed outbox payload told (the `release.version`
of the `release` message, and the `created` and `modified` of the report in its bundle); where
that message is gone they stay NULL.
The digest cannot be made again from what is stored, so it stays NULL: a later release takes the
next number unless it sends the same stored version with the same items kept.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import tearline.db.models
from tearline import clock

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 1_000
# A release payload carries its bundle, so the messages are read a batch at a time.
_PAYLOADS = sa.text("SELECT id, payload FROM outbox WHERE kind = 'release' AND id > :after ORDER BY id LIMIT :batch")
# Only a release never numbered: a release has one message, but should two name it, the first told.
_FILL = sa.text(
    'UPDATE "release" SET recipient_number = :number, told_created = :created, told_modified = :modified '
    "WHERE id = :id AND recipient_number IS NULL"
).bindparams(
    sa.bindparam("created", type_=tearline.db.models.UTCDateTime()),
    sa.bindparam("modified", type_=tearline.db.models.UTCDateTime()),
)


def upgrade() -> None:
    # Plain ALTER TABLE, up and down, on both databases: a batch may copy the table on SQLite, and
    # dropping the old copy fails while release_recall rows refer to it.
    op.add_column("release", sa.Column("recipient_number", sa.Integer(), nullable=True))
    op.add_column("release", sa.Column("shown_digest", sa.String(length=64), nullable=True))
    op.add_column("release", sa.Column("told_created", sa.DateTime(timezone=True), nullable=True))
    op.add_column("release", sa.Column("told_modified", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    after = 0
    while messages := conn.execute(_PAYLOADS, {"after": after, "batch": _BATCH}).all():
        after = messages[-1][0]
        rows = [told for _, payload in messages if (told := _told(payload)) is not None]
        if rows:
            conn.execute(_FILL, rows)


def _told(payload: Any) -> dict[str, Any] | None:
    """The release id, the version number its sealed payload told and the report's times in its
    bundle (None where unreadable), if it has the id and the number."""
    data = _decoded(payload)
    record = _dict(data.get("release"))
    release, number, report = record.get("id"), record.get("version"), record.get("report")
    if not isinstance(release, str) or not isinstance(number, int) or isinstance(number, bool):
        return None
    shown = _report_in(data.get("bundle"), report)
    created, modified = _time(shown.get("created")), _time(shown.get("modified"))
    return {"id": release, "number": number, "created": created, "modified": modified}


def _report_in(bundle: Any, report: Any) -> dict[str, Any]:
    """The report object of a release's bundle (its times are what the partner was told)."""
    objects = _dict(bundle).get("objects")
    found = [o for o in objects if isinstance(o, dict) and o.get("id") == report] if isinstance(objects, list) else []
    return _dict(found[0]) if found else {}


def _decoded(payload: Any) -> dict[str, Any]:
    # PostgreSQL's driver hands a JSON column over decoded; SQLite's as text.
    return _dict(json.loads(payload) if isinstance(payload, str | bytes) else payload)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return clock.parse_timestamp(value)
    except ValueError:
        return None


def downgrade() -> None:
    op.drop_column("release", "told_modified")
    op.drop_column("release", "told_created")
    op.drop_column("release", "shown_digest")  # ALTER TABLE ... DROP COLUMN: SQLite has it since 3.35
    op.drop_column("release", "recipient_number")
