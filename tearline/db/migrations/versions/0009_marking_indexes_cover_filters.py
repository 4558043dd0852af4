"""the marking indexes of portions and objects also hold `received` and `workspace_id`

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:15:00

A count finds its rows through the marking index and then tests whether each was received and, for
a foreign reader, in which workspace. With both columns in the index it reads no table row for
them: on SQLite a count over 1M portions went from about 1 s to a few hundred ms.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INDEXES = {"portion": "ix_portion_marking_live", "stix_object": "ix_object_marking_live"}
_BEFORE = ["marking_id", "is_current", "withdrawn"]
_AFTER = [*_BEFORE, "received", "workspace_id"]


def _replace(columns: list[str]) -> None:
    for table, index in _INDEXES.items():
        op.drop_index(index, table_name=table)
        op.create_index(index, table, columns)


def upgrade() -> None:
    _replace(_AFTER)


def downgrade() -> None:
    _replace(_BEFORE)
