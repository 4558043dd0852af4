"""every partner feed holds the seal's extension-definition before its first seal

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 12:00:00

The feed writes the seal's extension-definition with a partner's first unit
(`tearline.federation.feed`), but a feed that held seals before that change got it only at its
next unit, served after the seals it already held, and a feed that took no unit since has none.
Each feed that lacks it before its first other row gets it here: its oldest copy (the one the feed
serves) is moved, or a new one written, one microsecond before the feed's oldest row, belonging to
no release. It is an ordinary row, so `added_after` and the page cursor treat it as any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

import tearline.db.models
from tearline.federation.seal import EXT_SEAL, seal_definition, version_of

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_FEED = sa.table(
    "feed_object",
    sa.column("id", sa.Integer()),
    sa.column("destination", sa.String()),
    sa.column("stix_id", sa.String()),
    sa.column("stix_type", sa.String()),
    sa.column("modified", sa.String()),
    sa.column("date_added", tearline.db.models.UTCDateTime(timezone=True)),
    sa.column("body", sa.JSON()),
    sa.column("outbox_id", sa.Integer()),
    sa.column("release_id", sa.String()),
)
_BEFORE = timedelta(microseconds=1)


def upgrade() -> None:
    conn = op.get_bind()
    c = _FEED.c
    firsts = conn.execute(
        sa.select(c.destination, sa.func.min(c.date_added)).where(c.stix_id != EXT_SEAL).group_by(c.destination)
    ).all()
    for destination, first in firsts:
        _define_before(conn, destination, first)


def _define_before(conn: sa.Connection, destination: str, first: datetime) -> None:
    c = _FEED.c
    mine = (c.destination == destination) & (c.stix_id == EXT_SEAL)
    # Of several copies the feed serves the one with the lowest id (`store.federation.feed_page`).
    held = conn.execute(sa.select(c.id, c.date_added).where(mine).order_by(c.id).limit(1)).first()
    if held is not None and held.date_added < first:
        return
    when = first - _BEFORE
    if held is not None:
        conn.execute(sa.update(_FEED).where(c.id == held.id).values(date_added=when))
        return
    # A row names the message it came with; the definition comes with the feed's oldest.
    oldest = sa.select(c.outbox_id).where(c.destination == destination, c.date_added == first).order_by(c.id)
    definition = seal_definition()
    conn.execute(
        sa.insert(_FEED).values(
            destination=destination,
            stix_id=EXT_SEAL,
            stix_type=definition["type"],
            modified=version_of(definition),
            date_added=when,
            body=definition,
            outbox_id=conn.scalar(oldest.limit(1)),
            release_id=None,
        )
    )


def downgrade() -> None:
    pass  # the definition belongs in the feed at every revision since the seal was defined
