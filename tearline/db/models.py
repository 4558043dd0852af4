"""The node's tables (SQLAlchemy 2). Alembic migrations in `db/migrations` create them.

Markings are interned: equal markings share one row, and each principal's precomputed audience
says which marking rows it may see (and whether only under cover). Portions and objects carry
the few report facts that every read filters on, so that a filtered count is one index walk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tearline.clock import as_utc
from tearline.db.search_text import object_default, portion_default


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps go in and come out as aware UTC on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Setting(Base):
    """Node-wide values such as the policy epoch that invalidates precomputed audiences."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Partner(Base):
    __tablename__ = "partner"
    nation: Mapped[str] = mapped_column(String(3), primary_key=True)


class AgencyRow(Base):
    __tablename__ = "agency"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    nation: Mapped[str] = mapped_column(String(3))
    law_enforcement: Mapped[bool] = mapped_column(Boolean, default=False)


class CompartmentRow(Base):
    __tablename__ = "compartment"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owners: Mapped[list[str]] = mapped_column(JSON)


class EquivalenceVersion(Base):
    """One version of the equivalence table; partners' columns change only with their signature."""

    __tablename__ = "equivalence_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    signatures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Principal(Base):
    __tablename__ = "principal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    nation: Mapped[str] = mapped_column(String(3))
    agency: Mapped[str] = mapped_column(ForeignKey("agency.name"))
    clearance: Mapped[str] = mapped_column(String(32))
    compartments: Mapped[list[str]] = mapped_column(JSON, default=list)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    audience_epoch: Mapped[int] = mapped_column(Integer, default=-1)
    created_at: Mapped[datetime]


class Token(Base):
    """An API bearer token or a console session; only its SHA-256 is stored."""

    __tablename__ = "token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principal.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Workspace(Base):
    """A fusion centre hosted by one nation; the host's membership record is authoritative."""

    __tablename__ = "workspace"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    host_nation: Mapped[str] = mapped_column(String(3))


class WorkspaceMember(Base):
    __tablename__ = "workspace_member"
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principal.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime]


class WorkspacePolicy(Base):
    """A version of a workspace's host rules, as Cedar policy text; the highest version is in force."""

    __tablename__ = "workspace_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    policy_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class MarkingRow(Base):
    __tablename__ = "marking"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    originator_nation: Mapped[str] = mapped_column(String(3))
    originator_agency: Mapped[str] = mapped_column(String(64))


class Audience(Base):
    """Which markings a principal may see by rules 1-4 and 6; the flags ask for per-item cover."""

    __tablename__ = "audience"
    principal_id: Mapped[int] = mapped_column(ForeignKey("principal.id", ondelete="CASCADE"), primary_key=True)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id", ondelete="CASCADE"), primary_key=True)
    needs_orcon: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Source-sensitive fields are shown (and searchable) only to the originator agency.
    hides_source: Mapped[bool] = mapped_column(Boolean, default=False)


class Report(Base):
    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(64), unique=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspace.id"), nullable=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    received: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime]


class ReportVersion(Base):
    """An immutable version; 28 CFR Part 23 facts travel with each one."""

    __tablename__ = "report_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("principal.id"))
    created_at: Mapped[datetime]
    predicate: Mapped[str] = mapped_column(Text)
    need_to_know: Mapped[str] = mapped_column(Text, default="")
    review_due: Mapped[datetime]


class Portion(Base):
    __tablename__ = "portion"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("report_version.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    is_title: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id"))
    hash: Mapped[str] = mapped_column(String(64))
    # Copies of report facts that every read filters on (kept in step by the store's write path).
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    received: Mapped[bool] = mapped_column(Boolean, default=False)
    workspace_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Folded words of `text` for full-text search, filled on every insert (`db.search_text`).
    search_text: Mapped[str] = mapped_column(Text, default=portion_default)

    __table_args__ = (
        Index("ix_portion_version", "version_id", "position"),
        # A count goes through this index and reads no row for the filters it holds (migration 0009).
        Index("ix_portion_marking_live", "marking_id", "is_current", "withdrawn", "received", "workspace_id"),
    )


class StixObject(Base):
    """A structured STIX object of a report version: person, phone, vehicle, sighting, relationship…"""

    __tablename__ = "stix_object"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("report_version.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(Integer)
    stix_id: Mapped[str] = mapped_column(String(96))
    stix_type: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id"))
    hash: Mapped[str] = mapped_column(String(64))
    observed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    source_ref: Mapped[str | None] = mapped_column(String(96), nullable=True)
    target_ref: Mapped[str | None] = mapped_column(String(96), nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    received: Mapped[bool] = mapped_column(Boolean, default=False)
    workspace_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Folded words of name, aliases and description for full-text search (`db.search_text`).
    search_text: Mapped[str] = mapped_column(Text, default=object_default)

    __table_args__ = (
        Index("ix_object_version", "version_id", "stix_id"),
        Index("ix_object_marking_live", "marking_id", "is_current", "withdrawn", "received", "workspace_id"),
        Index("ix_object_type", "stix_type"),
        Index("ix_object_observed", "observed_at"),
        Index("ix_object_stix_id", "stix_id"),  # entity resolution and entity views look up by id alone
    )


class Grant(Base):
    """A release, consent or delivery that covers items for a nation (and optionally one agency).

    It covers an item by the item's hash, or every item of a report version. Releases and
    consents arrive with the release issue; reads already honour them (rules 4, 5 and 6).
    """

    __tablename__ = "grant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    grantor_nation: Mapped[str] = mapped_column(String(3))
    grantor_agency: Mapped[str] = mapped_column(String(64))
    nation: Mapped[str] = mapped_column(String(3))
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    report_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    expires_at: Mapped[datetime]
    recalled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    # The release or consent this grant stands for, so that a recall or revocation finds it.
    origin_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
from tearline.db import audit_tables as _audit_tables  # noqa: E402,F401  (the audit log tables, for Alembic)
