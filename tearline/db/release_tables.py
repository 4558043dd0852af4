"""Tables of the release workflow: requests, approvals, immutable release records, recalls,
consents and the transactional outbox that federation delivers from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tearline.db.models import Base


class ReleaseRequest(Base):
    __tablename__ = "release_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_stix_id: Mapped[str] = mapped_column(String(64), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    recipient_nation: Mapped[str] = mapped_column(String(3))
    recipient_agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    purpose: Mapped[str] = mapped_column(Text)
    need_to_know: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="requested")
    determination: Mapped[str | None] = mapped_column(Text, nullable=True)
    denial_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ReleaseApproval(Base):
    __tablename__ = "release_approval"
    __table_args__ = (UniqueConstraint("request_id", "approver_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("release_request.id", ondelete="CASCADE"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    determination: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Release(Base):
    """The immutable record that a tearline went to a recipient under a determination."""

    __tablename__ = "release"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("release_request.id"), unique=True)
    report_stix_id: Mapped[str] = mapped_column(String(64), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    kept_hashes: Mapped[list[str]] = mapped_column(JSON)
    recipient_nation: Mapped[str] = mapped_column(String(3))
    recipient_agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    determination: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    need_to_know: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    approvers: Mapped[list[str]] = mapped_column(JSON)
    consents_used: Mapped[list[str]] = mapped_column(JSON)
    banner: Mapped[str] = mapped_column(Text)
    audit_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime]
    # What the recipient was told: its version number, a digest of what the tearline showed and the
    # report's STIX created/modified (to the millisecond), so that later releases number and date on
    # from it (`tearline.release.versions`). Releases made before migration 0013 have the number and
    # times of their sealed payload (NULL if it was gone) and no digest.
    recipient_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shown_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    told_created: Mapped[datetime | None] = mapped_column(nullable=True)
    told_modified: Mapped[datetime | None] = mapped_column(nullable=True)


class ReleaseRecall(Base):
    """A recall; the release record itself never changes."""

    __tablename__ = "release_recall"
    release_id: Mapped[str] = mapped_column(ForeignKey("release.id"), primary_key=True)
    by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Consent(Base):
    """The originator's permission for a third-party (or ORCON) release, as its node signed it."""

    __tablename__ = "consent"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grantor_nation: Mapped[str] = mapped_column(String(3))
    grantor_agency: Mapped[str] = mapped_column(String(64))
    recipient_nation: Mapped[str] = mapped_column(String(3))
    recipient_agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_hashes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]


class ConsentRequest(Base):
    """A request for consent: sent by a holder to the originator's node, answered there."""

    __tablename__ = "consent_request"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # "out" (we ask) or "in" (we are asked)
    requester_nation: Mapped[str] = mapped_column(String(3))
    requester_agency: Mapped[str] = mapped_column(String(64))
    grantor_nation: Mapped[str] = mapped_column(String(3))
    grantor_agency: Mapped[str] = mapped_column(String(64))
    recipient_nation: Mapped[str] = mapped_column(String(3))
    recipient_agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_hashes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class OutboxMessage(Base):
    """A message for a partner node, written in the same transaction as what it reports."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(3))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Push delivery backs off between attempts; the last failure says why, for the operator.
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
