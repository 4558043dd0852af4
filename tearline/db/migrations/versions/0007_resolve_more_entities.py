"""entity resolution: organisations, phones and vehicles, resolved as they arrive

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tearline.db.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Members of every kind share one table: an entity is a component of merges, whatever it is of.
    with op.batch_alter_table("resolve_member") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="person"))
        batch.add_column(sa.Column("match_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("alt_key", sa.String(length=128), nullable=True))
    op.create_index("ix_resolve_member_kind_match_key", "resolve_member", ["kind", "match_key"])
    op.create_index("ix_resolve_member_kind_alt_key", "resolve_member", ["kind", "alt_key"])
    # The durable queue of arrivals: written in the transaction that stores them, drained after.
    op.create_table(
        "resolve_arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("noted_at", tearline.db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resolve_arrival_kind", "resolve_arrival", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_resolve_arrival_kind", table_name="resolve_arrival")
    op.drop_table("resolve_arrival")
    op.drop_index("ix_resolve_member_kind_alt_key", table_name="resolve_member")
    op.drop_index("ix_resolve_member_kind_match_key", table_name="resolve_member")
    with op.batch_alter_table("resolve_member") as batch:
        batch.drop_column("alt_key")
        batch.drop_column("match_key")
        batch.drop_column("kind")
