"""Tables of federation: registered peer nodes, the feed each peer reads over TAXII, what we
received (for idempotency and provenance), TAXII status resources and the change stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tearline.db.models import Base


class Peer(Base):
    """A partner node we trust explicitly: its address, its verifier key, and its principal here."""

    __tablename__ = "peer"
    nation: Mapped[str] = mapped_column(String(3), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    vkey: Mapped[str] = mapped_column(Text)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    added_at: Mapped[datetime]
    # Pull fallback: the newest date_added we have applied from this peer's feed.
    pulled_until: Mapped[datetime | None] = mapped_column(nullable=True)


class FeedObject(Base):
    """One STIX object in the feed a peer reads (its TAXII collection), written with the outbox
    message that carries it, so that push and pull deliver exactly the same signed objects."""

    __tablename__ = "feed_object"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(3))
    stix_id: Mapped[str] = mapped_column(String(96))
    stix_type: Mapped[str] = mapped_column(String(48))
    modified: Mapped[str] = mapped_column(String(40))
    date_added: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    release_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    __table_args__ = (
        Index("ix_feed_destination_added", "destination", "date_added", "id"),
        Index("ix_feed_destination_object", "destination", "stix_id", "modified"),
    )


class Received(Base):
    """A signed unit (a release's seal or a message) we applied; its (id, modified) makes
    delivery idempotent whether it came by push, by pull, or both."""

    __tablename__ = "received"
    stix_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    modified: Mapped[str] = mapped_column(String(40), primary_key=True)
    sender: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class ReceivedRelease(Base):
    """Provenance of a report copy we hold because a partner released it to us."""

    __tablename__ = "received_release"
    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_stix_id: Mapped[str] = mapped_column(String(64), index=True)
    originator_nation: Mapped[str] = mapped_column(String(3))
    originator_agency: Mapped[str] = mapped_column(String(64))
    sender_nation: Mapped[str] = mapped_column(String(3))
    banner: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    recalled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TaxiiStatus(Base):
    """A TAXII 2.1 status resource for one POST to a collection."""

    __tablename__ = "taxii_status"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    status: Mapped[str] = mapped_column(String(16))
    request_timestamp: Mapped[datetime]
    total_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ChangeEvent(Base):
    """A new or changed item, for the live stream; each subscriber sees only what they may read."""

    __tablename__ = "change_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    report_stix_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Who may see a non-report event (a consent request, say): a role, or None for report events.
    audience_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
