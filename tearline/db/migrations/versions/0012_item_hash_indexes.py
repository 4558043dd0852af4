"""indexes on portion.hash and stix_object.hash: the auditor's sight looks items up by hash

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:45:00

An audit entry names the portions and objects it concerns by hash, and every page of an
auditor's search, and of GET /api/audit/leaves, asks which report each names
(`tearline.audit.search.EntrySight`). Nothing indexed the hash, so each page read the whole
portion and object tables. The report id rides along so that the lookup reads no row.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_portion_hash", "portion", ["hash", "report_id"])
    op.create_index("ix_object_hash", "stix_object", ["hash", "report_id"])


def downgrade() -> None:
    op.drop_index("ix_object_hash", table_name="stix_object")
    op.drop_index("ix_portion_hash", table_name="portion")
