"""an index on stix_object.stix_id: entity resolution and entity views look objects up by id alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `ix_object_version` leads with the version, so a lookup by id alone (each batch of arrivals
    # resolved, every entity view's members) scanned the whole table.
    op.create_index("ix_object_stix_id", "stix_object", ["stix_id"])


def downgrade() -> None:
    op.drop_index("ix_object_stix_id", table_name="stix_object")
