"""The holdings read path: everything a reader may see, in the order it was added to the node.

The order is a keyset `(version, rank, id)`: report versions are numbered as they are created, so
that this order is the order of their creation time, and each is walked as its report (rank 1)
then its objects (rank 2). Every query filters inside SQL with `tearline.store.filters`; a hidden
item is never fetched, counted or used to place another.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_, union
from sqlalchemy.orm import Session

from tearline.db.models import MarkingRow, Portion, Report, ReportVersion, StixObject
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import ObjectView, _hides_source, _object_view, markings_by_id, report_visible

REPORT_RANK, OBJECT_RANK = 1, 2


@dataclass(frozen=True, order=True)
class Key:
    """A position in the holdings order; rank 0 is left for what a layer places before a version."""

    version_id: int
    rank: int
    stix_id: str


@dataclass(frozen=True)
class Selection:
    """Which items: by STIX type and id (empty: all), and added strictly after a moment."""

    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    added_after: datetime | None = None


@dataclass(frozen=True)
class HeldReport:
    key: Key
    added: datetime


@dataclass(frozen=True)
class HeldObject:
    key: Key
    added: datetime
    view: ObjectView
    marking_id: int


def _after_version(column: Any, after: Key | None, rank: int) -> ColumnElement[bool]:
    bound: ColumnElement[bool]
    if after is None:
        bound = column > 0
    else:
        bound = column >= after.version_id if after.rank < rank else column > after.version_id
    return bound


def held_reports(
    session: Session, reader: Reader, sel: Selection, after: Key | None, limit: int, until: int | None = None
) -> list[HeldReport]:
    """Visible reports (their current version) after `after` and up to version `until`, in holdings order."""
    if sel.types and "report" not in sel.types:
        return []
    rv = ReportVersion
    query = (
        select(rv.id, Report.stix_id, rv.created_at)
        .join(Report, and_(Report.id == rv.report_id, Report.current_version == rv.number))
        .where(_after_version(rv.id, after, REPORT_RANK), report_visible(reader))
        .order_by(rv.id)
        .limit(limit)
    )
    if sel.ids:
        query = query.where(Report.stix_id.in_(sel.ids))
    if sel.added_after is not None:
        query = query.where(rv.created_at > sel.added_after)
    if until is not None:
        query = query.where(rv.id <= until)
    return [HeldReport(Key(v, REPORT_RANK, s), at) for v, s, at in session.execute(query)]


def held_objects(session: Session, reader: Reader, sel: Selection, after: Key | None, limit: int) -> list[HeldObject]:
    """Visible objects after `after`, in holdings order, with source-sensitive fields already hidden."""
    o = StixObject
    if after is not None and after.rank >= OBJECT_RANK:
        position: ColumnElement[bool] = tuple_(o.version_id, o.stix_id) > tuple_(after.version_id, after.stix_id)
    else:
        position = _after_version(o.version_id, after, OBJECT_RANK)
    query = (
        select(o, Report.stix_id, ReportVersion.created_at)
        .join(ReportVersion, ReportVersion.id == o.version_id)
        .join(Report, Report.id == o.report_id)
        .where(position, object_visible(reader, o))
        .order_by(o.version_id, o.stix_id)
        .limit(limit)
    )
    if sel.types:
        query = query.where(o.stix_type.in_(sel.types))
    if sel.ids:
        query = query.where(o.stix_id.in_(sel.ids))
    if sel.added_after is not None:
        query = query.where(ReportVersion.created_at > sel.added_after)
    rows = session.execute(query).all()
    ids = {row.marking_id for row, _, _ in rows}
    markings = markings_by_id(session, ids)
    hidden = _hides_source(session, reader, ids)
    return [
        HeldObject(
            Key(row.version_id, OBJECT_RANK, row.stix_id),
            added,
            _object_view(row, markings[row.marking_id], row.marking_id in hidden, report),
            row.marking_id,
        )
        for row, report, added in rows
    ]


def markings_used(
    session: Session, reader: Reader, first: int, last: int | None, object_versions: Collection[int] | None
) -> set[tuple[int, int]]:
    """(version, marking) of visible portions of versions `first`..`last` (None: on), and of visible
    objects of those versions, or only of `object_versions` when the caller holds the others already."""

    def in_range(item: Any) -> ColumnElement[bool]:
        bound: ColumnElement[bool] = item.version_id >= first if last is None else item.version_id.between(first, last)
        return bound

    p, o = Portion, StixObject
    statement: Any = select(p.version_id, p.marking_id).where(in_range(p), portion_visible(reader, p))
    objects = in_range(o) if object_versions is None else o.version_id.in_(sorted(object_versions))
    statement = union(statement, select(o.version_id, o.marking_id).where(objects, object_visible(reader, o)))
    return {(v, m) for v, m in session.execute(statement).all()}


def markings_seen_before(session: Session, reader: Reader, version_id: int, marking_ids: Iterable[int]) -> set[int]:
    """Which of these markings a visible item of an earlier version already uses."""
    wanted = sorted(set(marking_ids))
    if not wanted:
        return set()
    p, o = Portion, StixObject

    def used(item: Any, visible: ColumnElement[bool]) -> ColumnElement[bool]:
        # One EXISTS per marking stops at its first visible use, instead of walking every use.
        return (
            select(item.id)
            .where(item.marking_id == MarkingRow.id, item.version_id < version_id, visible)
            .correlate(MarkingRow)
            .exists()
        )

    statement = select(MarkingRow.id).where(
        MarkingRow.id.in_(wanted), or_(used(p, portion_visible(reader, p)), used(o, object_visible(reader, o)))
    )
    return set(session.scalars(statement))


def first_visible_version(session: Session, reader: Reader) -> int | None:
    """The earliest report version with anything visible to the reader."""
    p, o = Portion, StixObject
    portion = session.scalar(select(func.min(p.version_id)).where(portion_visible(reader, p)))
    obj = session.scalar(select(func.min(o.version_id)).where(object_visible(reader, o)))
    found = [v for v in (portion, obj) if v is not None]
    return min(found) if found else None


def first_version_after(session: Session, moment: datetime) -> int | None:
    """The first report version created after `moment` (versions are numbered in creation order)."""
    return session.scalar(select(func.min(ReportVersion.id)).where(ReportVersion.created_at > moment))


def version_times(session: Session, version_ids: Iterable[int]) -> dict[int, datetime]:
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    rows = session.execute(select(ReportVersion.id, ReportVersion.created_at).where(ReportVersion.id.in_(ids)))
    return {v: at for v, at in rows}


def other_copies(session: Session, reader: Reader, stix_ids: Iterable[str]) -> dict[str, list[int]]:
    """Versions of every visible copy of these objects (one id may stand in several reports)."""
    ids = sorted(set(stix_ids))
    if not ids:
        return {}
    o = StixObject
    # Cheap first: copies that exist at all (usually none), then only those through the rules.
    shared = select(o.stix_id).where(o.stix_id.in_(ids), o.is_current).group_by(o.stix_id).having(func.count() > 1)
    repeated = list(session.scalars(shared))
    if not repeated:
        return {}
    rows = session.execute(select(o.stix_id, o.version_id).where(o.stix_id.in_(repeated), object_visible(reader, o)))
    out: dict[str, list[int]] = {}
    for stix_id, version_id in rows:
        out.setdefault(stix_id, []).append(version_id)
    return out


def object_copies(session: Session, reader: Reader, stix_id: str) -> list[HeldObject]:
    """Every visible copy of one object, oldest first."""
    return held_objects(session, reader, Selection(ids=(stix_id,)), None, 10_000)


def report_key(session: Session, reader: Reader, stix_id: str) -> HeldReport | None:
    found = held_reports(session, reader, Selection(ids=(stix_id,)), None, 1)
    return found[0] if found else None
