"""entity resolution: the kept model, resolved members and decisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tearline.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolve_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("labels_used", sa.Integer(), nullable=False),
        sa.Column("created_at", tearline.db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "resolve_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=96), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=True),
        sa.Column("cross_key", sa.String(length=64), nullable=True),
        sa.Column("dob", sa.String(length=10), nullable=True),
        sa.Column("phone1", sa.String(length=24), nullable=True),
        sa.Column("national_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", tearline.db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stix_id"),
    )
    for column in ("entity_id", "name_key", "cross_key", "dob", "phone1", "national_id"):
        op.create_index(f"ix_resolve_member_{column}", "resolve_member", [column])
    op.create_table(
        "resolve_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("member_a", sa.String(length=96), nullable=False),
        sa.Column("member_b", sa.String(length=96), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", tearline.db.models.UTCDateTime(), nullable=False),
        sa.Column("decided_at", tearline.db.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resolve_decision_a", "resolve_decision", ["member_a"])
    op.create_index("ix_resolve_decision_b", "resolve_decision", ["member_b"])
    op.create_index("ix_resolve_decision_state", "resolve_decision", ["state"])


def downgrade() -> None:
    op.drop_table("resolve_decision")
    op.drop_table("resolve_member")
    op.drop_table("resolve_model")
