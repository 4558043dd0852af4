"""Tables of the transparency audit log (`tearline.audit.log` writes them; nothing else should).

The tree is stored so that every root and proof costs O(log n) reads (RFC 9162 §2.1):

- `audit_leaf`: one row per entry: its canonical bytes (no size limit), its leaf hash, and a few
  columns copied out of the bytes for the auditor's searches (truncated; searches re-check the bytes).
- `audit_node`: the hash of every complete aligned subtree of 2**level leaves, level >= 1 (level 0
  is `audit_leaf.hash`). Its key is `(last leaf << 6) | level`: the node that appending leaf n
  completes has a key in [n << 6, (n << 6) + 63], so keys only grow (cheap appends) and the nodes
  a range of leaves completes are one key range (cheap verification).
- `audit_head`: one row, locked by every append, holding the size, the right-edge hashes, and how
  many entries the search tables below cover (`indexed`).
- `audit_object` and `audit_actor`: object id -> entry index, for "who saw this report", and actor
  -> entry index, for "what did this principal see". They are filled in batches of entries, not
  one entry at a time (see `tearline.audit.store`); searches read the few newer entries directly.
- `audit_checkpoint`: every signed checkpoint the node issued, with the cosignatures it received.
- `audit_witnessed_log` and `audit_fork`: what this node, as a witness, last cosigned for each
  partner log, and the evidence of any fork it saw.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tearline.db.models import Base, Portion, StixObject

# The auditor's sight (`tearline.audit.search.EntrySight`) asks, for every page of a search and
# of GET /api/audit/leaves, which report each portion or object an entry names by hash belongs to.
# These indexes serve that lookup (with the report id, so that it reads no row); they are declared
# here, with the log they serve, on the tables of `tearline.db.models` (migration 0012).
Index("ix_portion_hash", Portion.hash, Portion.report_id)
Index("ix_object_hash", StixObject.hash, StixObject.report_id)

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: the fastest key there is.
Key = BigInteger().with_variant(Integer, "sqlite")
HEAD_ID = 1


class AuditHead(Base):
    """The log's size and frontier (hashes of the complete subtrees making up [0, size), largest first)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    # Entries [0, indexed) have their rows in audit_object and audit_actor; the rest do not yet.
    indexed: Mapped[int] = mapped_column(BigInteger, server_default="0")


class AuditLeaf(Base):
    __tablename__ = "audit_leaf"
    idx: Mapped[int] = mapped_column(Key, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Search columns: copies of the canonical bytes, cut to index-friendly lengths.
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    # The event's time as UTC microseconds since 1970: cheap to write and to compare on every database.
    at_us: Mapped[int] = mapped_column(BigInteger)
    # The event's object ids (each once, cut) as a JSON array: what its `audit_object` rows are
    # made from when its batch is indexed. Null for entries stored before migration 0010.
    objects: Mapped[str | None] = mapped_column(Text, nullable=True)

    # No index on actor here: `audit_actor` holds it, filled in batches (an index here would take
    # one scattered page write per entry, on the path of every audited read).
    __table_args__ = (Index("ix_audit_leaf_at", "at_us"),)


class AuditNode(Base):
    __tablename__ = "audit_node"
    key: Mapped[int] = mapped_column(Key, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditObject(Base):
    __tablename__ = "audit_object"
    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditActor(Base):
    __tablename__ = "audit_actor"
    actor: Mapped[str] = mapped_column(String(255), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    # On SQLite the key is the table: one B-tree to write, not a table and an index.
    __table_args__ = ({"sqlite_with_rowid": False},)


class AuditCheckpoint(Base):
    """A checkpoint as signed by this node; `note` grows as partners' witnesses cosign it."""

    __tablename__ = "audit_checkpoint"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]


class AuditWitnessedLog(Base):
    """A partner log this node witnesses: its key, and the latest checkpoint this node cosigned."""

    __tablename__ = "audit_witnessed_log"
    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    vkey: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime]


class AuditFork(Base):
    """Evidence of a fork: the checkpoint cosigned before and the conflicting one, with the proof offered."""

    __tablename__ = "audit_fork"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str] = mapped_column(Text)
    cosigned_checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    offered_checkpoint: Mapped[str] = mapped_column(Text)
    offered_proof: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime]
