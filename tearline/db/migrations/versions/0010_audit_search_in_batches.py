"""the audit log's search rows are written in batches: `audit_actor`, `audit_leaf.objects`, `audit_head.indexed`

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:20:00

An index on `audit_leaf.actor`, and the `audit_object` rows, cost each append a page write
wherever that actor or object sorts: about 1.5 pages an entry in all, on the path of every
audited read. Appends now leave those rows to a batch (`tearline.audit.store.INDEX_BATCH`):
each leaf row keeps its object ids (`objects`, a JSON array) for it, and `audit_head.indexed`
says how many entries the search tables cover. Entries already stored are all indexed here.
"""

from __future__ import annotations

import json

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID_CUT = 255


def upgrade() -> None:
    op.create_table(
        "audit_actor",
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("actor", "idx"),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO audit_actor (actor, idx) SELECT actor, idx FROM audit_leaf")
    op.drop_index("ix_audit_leaf_actor", table_name="audit_leaf")
    op.add_column("audit_leaf", sa.Column("objects", sa.Text(), nullable=True))
    op.add_column("audit_head", sa.Column("indexed", sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE audit_head SET indexed = size")
    _fill_objects(op.get_bind())
    if op.get_bind().dialect.name == "sqlite":
        _no_nul_in_keys(op.get_bind())


def _no_nul_in_keys(bind: sa.engine.Connection) -> None:
    """Search keys hold NUL as U+FFFD now (tearline.audit.store.search_key); only SQLite could store one.

    SQLite's text functions stop at a NUL, so the values are found as bytes and replaced here."""
    keys = {"audit_leaf": ("actor", "action", "outcome"), "audit_object": ("object_id",), "audit_actor": ("actor",)}
    for table, names in keys.items():
        for name in names:
            holding = f"instr(CAST({name} AS BLOB), x'00')"
            found = bind.execute(sa.text(f"SELECT DISTINCT {name} FROM {table} WHERE {holding}")).all()
            for (value,) in found:
                fixed = {"new": value.replace("\x00", "\ufffd"), "old": value}
                bind.execute(sa.text(f"UPDATE {table} SET {name} = :new WHERE {name} = :old"), fixed)


BATCH = 5_000


def _fill_objects(bind: sa.engine.Connection) -> None:
    """Each stored entry's object ids as `tearline.audit.store.search_columns` writes them, from its bytes,
    so that `tearline audit verify` can hold every entry's object rows to them."""
    size = bind.execute(sa.text("SELECT size FROM audit_head")).scalar() or 0
    for start in range(0, size, BATCH):
        rows = bind.execute(
            sa.text("SELECT idx, data FROM audit_leaf WHERE idx >= :a AND idx < :b"), {"a": start, "b": start + BATCH}
        )
        filled = [{"o": _objects(bytes(data)), "i": idx} for idx, data in rows]
        if filled:
            bind.execute(sa.text("UPDATE audit_leaf SET objects = :o WHERE idx = :i"), filled)


def _objects(data: bytes) -> str:
    try:
        listed = orjson.loads(data).get("objects")
    except (orjson.JSONDecodeError, AttributeError):
        listed = None
    ids = [oid for oid in listed if isinstance(oid, str)] if isinstance(listed, list) else []
    return orjson.dumps(list(dict.fromkeys(oid[:ID_CUT].replace("\x00", "\ufffd") for oid in ids))).decode()


def downgrade() -> None:
    # The older schema has no waiting entries: give those past `indexed` their object rows first.
    bind = op.get_bind()
    indexed = bind.execute(sa.text("SELECT indexed FROM audit_head")).scalar() or 0
    rows = bind.execute(sa.text("SELECT idx, objects FROM audit_leaf WHERE idx >= :i"), {"i": indexed})
    objects = [{"o": oid, "i": idx} for idx, listed in rows for oid in json.loads(listed or "[]")]
    if objects:
        bind.execute(sa.text("INSERT INTO audit_object (object_id, idx) VALUES (:o, :i)"), objects)
    with op.batch_alter_table("audit_head") as head:
        head.drop_column("indexed")
    with op.batch_alter_table("audit_leaf") as leaf:
        leaf.drop_column("objects")
    op.create_index("ix_audit_leaf_actor", "audit_leaf", ["actor", "idx"], unique=False)
    op.drop_table("audit_actor")
