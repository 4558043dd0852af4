"""Tables of entity resolution: the kept model, the persons resolved so far, and every decision.

An entity is not a row: it is the connected component of members joined by merge decisions that
stand (automatic merges not split, and reviews an analyst confirmed). `entity_id` on a member is
that component's name, kept in step by `tearline.resolve.incremental`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tearline.db.models import Base, UTCDateTime


class ResolveModel(Base):
    """A trained Fellegi-Sunter model (Splink settings with m, u and term frequencies); the newest is used."""

    __tablename__ = "resolve_model"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    labels_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResolveMember(Base):
    """A person object (by STIX id) as the resolver standardised it, with the keys candidates are found by."""

    __tablename__ = "resolve_member"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(96), unique=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    name_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    cross_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    dob: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    phone1: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    national_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResolveDecision(Base):
    """One decision on a pair of members: its outcome, score and explanation, and who decided.

    `kind` is what the model decided (`merge`, `review`, `separate`); `state` is where it stands
    (`auto`, `pending`, `confirmed`, `split`). Analysts' confirmations and splits are the labels fed
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
