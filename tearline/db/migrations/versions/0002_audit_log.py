"""audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# As in tearline.db.audit_tables: on SQLite an INTEGER PRIMARY KEY is the rowid.
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_leaf",
        sa.Column("idx", KEY, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    op.create_index("ix_audit_leaf_actor", "audit_leaf", ["actor", "idx"], unique=False)
    op.create_index("ix_audit_leaf_at", "audit_leaf", ["at_us"], unique=False)
    op.create_table(
        "audit_node",
        sa.Column("key", KEY, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "audit_object",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("object_id", "idx"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "audit_witnessed_log",
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    op.create_table(
        "audit_fork",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cosigned_checkpoint", sa.Text(), nullable=True),
        sa.Column("offered_checkpoint", sa.Text(), nullable=False),
        sa.Column("offered_proof", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_fork_origin", "audit_fork", ["origin"], unique=False)
    # The one head row every append locks; an empty log has size 0 and no frontier hashes.
    op.bulk_insert(head, [{"id": 1, "size": 0, "frontier": b""}])


def downgrade() -> None:
    op.drop_index("ix_audit_fork_origin", table_name="audit_fork")
    op.drop_table("audit_fork")
    op.drop_table("audit_witnessed_log")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_object")
    op.drop_table("audit_node")
    op.drop_index("ix_audit_leaf_at", table_name="audit_leaf")
    op.drop_index("ix_audit_leaf_actor", table_name="audit_leaf")
    op.drop_table("audit_leaf")
    op.drop_table("audit_head")
