"""Tables of entity resolution: the kept model, the members resolved so far (persons,
organisations, phones and vehicles), every decision, and the queue of arrivals not resolved yet.

An entity is not a row: it is the connected component of members joined by merge decisions that
stand (automatic merges not split, and reviews an analyst confirmed). `entity_id` on a member is
that component's name, kept in step by `tearline.resolve.incremental`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tearline.db.limits import column_length
from tearline.db.models import Base, UTCDateTime


class ResolveModel(Base):
    """A trained Fellegi-Sunter model (Splink settings with m, u and term frequencies); the newest is used."""

    __tablename__ = "resolve_model"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    labels_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResolveMember(Base):
    """An object (by STIX id) as the resolver standardised it, with the keys candidates are found by.

    Persons use the name, date, phone and id keys; the other kinds `match_key` (a phone's E.164, a
    vehicle's plate, an organisation's normalised name) and `alt_key` (a vehicle's VIN, an
    organisation's normalised name with its words sorted). Every key is stored through `fit_key`.
    """

    __tablename__ = "resolve_member"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="person", server_default="person")
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    name_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    cross_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    dob: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    phone1: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    national_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    match_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    alt_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_resolve_member_kind_match_key", "kind", "match_key"),
        Index("ix_resolve_member_kind_alt_key", "kind", "alt_key"),
    )


KEY_DIGEST = 16  # hex digits of SHA-256 that stand for the end of a key too long for its column


def fit_key(column: str, value: str | None) -> str | None:
    """`value` as `resolve_member.<column>` holds it: whole when it fits, else its first characters
    and a digest of the whole, so that equal keys stay equal and different ones different.

    PostgreSQL refuses a string longer than its column, and a refused member would fail its batch
    of arrivals, and every later batch with it (SQLite would have stored it whole).
    """
    length = column_length(getattr(ResolveMember, column)) or 0
    if value is None or not length or len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[: min(KEY_DIGEST, length - 1)]
    return f"{value[: length - len(digest) - 1]}#{digest}"


class ResolveDecision(Base):
    """One decision on a pair of members: its outcome, score and explanation, and who decided.

    `kind` is what the model decided (`merge`, `review`, `separate`), or `recheck`: a confirmed link
    that a revision of one side weakened, back for an analyst; `state` is where it stands
    (`auto`, `pending`, `confirmed`, `split`, `superseded`). Analysts' confirmations and splits are the labels fed
    back to the model.
    """

    __tablename__ = "resolve_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    member_a: Mapped[str] = mapped_column(String(96))
    member_b: Mapped[str] = mapped_column(String(96))
    probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_resolve_decision_a", "member_a"),
        Index("ix_resolve_decision_b", "member_b"),
        Index("ix_resolve_decision_state", "state"),
    )


class ResolveArrival(Base):
    """An object waiting to be resolved: written in the transaction that stored it, so that an
    acknowledged ingest or receipt is resolved eventually even if the node stops right after."""

    __tablename__ = "resolve_arrival"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(16))
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_resolve_arrival_kind", "kind", "id"),)
