"""The holdings read path: everything a reader may see, in the order it was added to the node.

The order is a keyset `(version, rank, id)`: report versions are numbered as they are created, so
that this order is the order of their creation time, and each is walked as its report (rank 1)
then its objects (rank 2). Every query filters inside SQL with `tearline.store.filters`; a hidden
item is never fetched, counted or used to place another.

A page runs a handful of these queries. Building the visibility filter costs more than running it
on a page, so each statement is built once per principal's read context (its time, the cursor and
the other values are parameters), as `reads.portion_page` does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, tuple_, union
from sqlalchemy.orm import Session

from tearline.db.models import MarkingRow, Portion, Report, ReportVersion, StixObject, UTCDateTime
from tearline.markings.scheme import EquivalenceTable
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import (
    ObjectView,
    ReportView,
    markings_by_id,
    markings_hiding_source,
    object_view,
    report_visible,
    view_of_rows,
)

REPORT_RANK, OBJECT_RANK = 1, 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_ID = 2**31 - 1
LAST_VERSION = _LAST_ID  # the largest report version id a cursor may name (an Integer column)


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
class VersionTimes:
    """When a report version's report and objects were created and last changed (STIX 2.1 §3.2):
    `created` is the same for every version of one object, and an object that a version carried
    over unchanged keeps the `modified` it had."""

    created: datetime  # the report's first version
    modified: datetime  # this version
    objects: dict[str, tuple[datetime, datetime]]  # stix id -> (created, modified)


@dataclass(frozen=True)
class HeldObject:
    key: Key
    added: datetime
    view: ObjectView
    marking_id: int


def _timeless(reader: Reader) -> Reader:
    """The reader as a cache key: its time is passed to each execution as the `now` parameter."""
    return replace(reader, now=_EPOCH)


def _params(reader: Reader, **values: Any) -> dict[str, Any]:
    return {"now": reader.now, **values}


def _added_after() -> Any:
    return bindparam("added_after", type_=UTCDateTime())


@lru_cache(maxsize=256)
def _reports_statement(reader: Reader, by_id: bool) -> Any:
    rv = ReportVersion
    query: Any = (
        select(rv.id, Report.stix_id, rv.created_at)
        .join(Report, and_(Report.id == rv.report_id, Report.current_version == rv.number))
        .where(rv.id > bindparam("after"), rv.id <= bindparam("until"), rv.created_at > _added_after())
        .where(report_visible(reader))
        .order_by(rv.id)
        .limit(bindparam("limit"))
    )
    return query.where(Report.stix_id.in_(bindparam("ids", expanding=True))) if by_id else query


def held_reports(
    session: Session, reader: Reader, sel: Selection, after: Key | None, limit: int, until: int | None = None
) -> list[HeldReport]:
    """Visible reports (their current version) after `after` and up to version `until`, in holdings order."""
    if sel.types and "report" not in sel.types:
        return []
    # A report sorts after its version's definitions and before its objects.
    floor = 0 if after is None else after.version_id - (1 if after.rank < REPORT_RANK else 0)
    values = _params(
        reader, after=floor, until=_LAST_ID if until is None else until, limit=limit,
        added_after=sel.added_after or _EPOCH, **({"ids": list(sel.ids)} if sel.ids else {}),
    )  # fmt: skip
    rows = session.execute(_reports_statement(_timeless(reader), bool(sel.ids)), values)
    return [HeldReport(Key(v, REPORT_RANK, s), at) for v, s, at in rows]


def _candidates(sel: Selection, after: tuple[int, str], first_version: int, chunk: int) -> Any:
    """The next positions in holdings order, before any rule: a plain walk of the (version, id) index."""
    o = StixObject
    query = (
        select(o.id, o.version_id, o.stix_id)
        .where(tuple_(o.version_id, o.stix_id) > tuple_(*after), o.version_id >= first_version)
        .order_by(o.version_id, o.stix_id)
        .limit(chunk)
    )
    if sel.types:
        query = query.where(o.stix_type.in_(sel.types))
    if sel.ids:
        query = query.where(o.stix_id.in_(sel.ids))
    return query


@lru_cache(maxsize=256)
def _visible_objects_statement(reader: Reader) -> Any:
    o = StixObject
    return (
        select(o, Report.stix_id, ReportVersion.created_at)
        .join(ReportVersion, ReportVersion.id == o.version_id)
        .join(Report, Report.id == o.report_id)
        .where(o.id.in_(bindparam("ids", expanding=True)), object_visible(reader, o))
        .order_by(o.version_id, o.stix_id)
    )


def visible_object_rows(session: Session, reader: Reader, ids: list[int]) -> list[Any]:
    """Those of these object rows (by row id) the reader may see, with their report's STIX id and
    their version's time, in holdings order: what `held_from_rows` takes."""
    return list(session.execute(_visible_objects_statement(_timeless(reader)), _params(reader, ids=ids)).all())


def held_objects(session: Session, reader: Reader, sel: Selection, after: Key | None, limit: int) -> list[HeldObject]:
    """Visible objects after `after`, in holdings order, with source-sensitive fields already hidden.

    The walk reads positions in index order a chunk at a time (doubled while too few of them are
    visible) and applies the rules to each chunk:
    one query with both lets PostgreSQL's planner start from the reader's audience and sort every
    visible object after the cursor, on every page.
    """
    # Every id sorts after "", so (version, "") stands for "from the start of that version".
    position = (0, "") if after is None else (after.version_id, after.stix_id if after.rank >= OBJECT_RANK else "")
    first_version = first_version_after(session, sel.added_after) if sel.added_after else 0
    if first_version is None:
        return []
    rows: list[Any] = []
    chunk = limit + limit // 4 + 1  # most pages need one chunk: a little more than a page
    while len(rows) < limit:
        candidates = session.execute(_candidates(sel, position, first_version, chunk)).all()
        if candidates:
            found = visible_object_rows(session, reader, [c.id for c in candidates])
            rows += [r for r in found if sel.added_after is None or r[2] > sel.added_after]
            position = (candidates[-1].version_id, candidates[-1].stix_id)
        if len(candidates) < chunk:
            break
        chunk *= 2
    return held_from_rows(session, reader, rows[:limit])


def held_from_rows(session: Session, reader: Reader, rows: list[Any]) -> list[HeldObject]:
    """Rows of the visible-objects statement (object, report id, version time) as held objects,
    with source-sensitive fields hidden as the reader's audience says."""
    ids = {row.marking_id for row, _, _ in rows}
    markings = markings_by_id(session, ids)
    hidden = markings_hiding_source(session, reader, ids)
    return [
        HeldObject(
            Key(row.version_id, OBJECT_RANK, row.stix_id),
            added,
            object_view(row, markings[row.marking_id], row.marking_id in hidden, report),
            row.marking_id,
        )
        for row, report, added in rows
    ]


@lru_cache(maxsize=256)
def _used_statement(reader: Reader, bounded: bool, edges_only: bool) -> Any:
    p, o = Portion, StixObject

    def in_range(item: Any) -> ColumnElement[bool]:
        first = item.version_id >= bindparam("first")
        return and_(first, item.version_id <= bindparam("last")) if bounded else first

    objects = o.version_id.in_(bindparam("edges", expanding=True)) if edges_only else in_range(o)
    return union(
        select(p.version_id, p.marking_id).where(in_range(p), portion_visible(reader, p)),
        select(o.version_id, o.marking_id).where(objects, object_visible(reader, o)),
    )


def markings_used(
    session: Session, reader: Reader, first: int, last: int | None, object_versions: Collection[int] | None
) -> set[tuple[int, int]]:
    """(version, marking) of visible portions of versions `first`..`last` (None: on), and of visible
    objects of those versions, or only of `object_versions` when the caller holds the others already."""
    values = _params(reader, first=first)
    if last is not None:
        values["last"] = last
    if object_versions is not None:
        values["edges"] = sorted(object_versions)
    statement = _used_statement(_timeless(reader), last is not None, object_versions is not None)
    return {(v, m) for v, m in session.execute(statement, values).all()}


@lru_cache(maxsize=256)
def _seen_statement(reader: Reader) -> Select[Any]:
    p, o = Portion, StixObject

    def used(item: Any, visible: ColumnElement[bool]) -> ColumnElement[bool]:
        # One EXISTS per marking stops at its first visible use, instead of walking every use.
        return (
            select(item.id)
            .where(item.marking_id == MarkingRow.id, item.version_id < bindparam("version"), visible)
            .correlate(MarkingRow)
            .exists()
        )

    return select(MarkingRow.id).where(
        MarkingRow.id.in_(bindparam("wanted", expanding=True)),
        or_(used(p, portion_visible(reader, p)), used(o, object_visible(reader, o))),
    )


def markings_seen_before(session: Session, reader: Reader, version_id: int, marking_ids: Iterable[int]) -> set[int]:
    """Which of these markings a visible item of an earlier version already uses."""
    wanted = sorted(set(marking_ids))
    if not wanted:
        return set()
    values = _params(reader, version=version_id, wanted=wanted)
    return set(session.scalars(_seen_statement(_timeless(reader)), values))


@lru_cache(maxsize=256)
def _first_statements(reader: Reader) -> tuple[Select[Any], Select[Any]]:
    p, o = Portion, StixObject
    return (
        select(func.min(p.version_id)).where(portion_visible(reader, p)),
        select(func.min(o.version_id)).where(object_visible(reader, o)),
    )


def first_visible_version(session: Session, reader: Reader) -> int | None:
    """The earliest report version with anything visible to the reader."""
    found = [session.scalar(s, _params(reader)) for s in _first_statements(_timeless(reader))]
    versions = [v for v in found if v is not None]
    return min(versions) if versions else None


def first_version_after(session: Session, moment: datetime) -> int | None:
    """The first report version created after `moment` (versions are numbered in creation order)."""
    return session.scalar(select(func.min(ReportVersion.id)).where(ReportVersion.created_at > moment))


def version_times(session: Session, version_ids: Iterable[int]) -> dict[int, datetime]:
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    rows = session.execute(select(ReportVersion.id, ReportVersion.created_at).where(ReportVersion.id.in_(ids)))
    return {v: at for v, at in rows}


@lru_cache(maxsize=256)
def _copies_statement(reader: Reader) -> Any:
    o = StixObject
    query: Any = select(o.stix_id, o.version_id).where(
        o.stix_id.in_(bindparam("ids", expanding=True)), object_visible(reader, o)
    )
    return query


# Per database: the largest object row id seen, and the ids held by more than one current row.
_repeated: dict[str, tuple[int, frozenset[str]]] = {}


def _repeated_ids(session: Session) -> frozenset[str]:
    """Ids that more than one current object row carries, recounted only when rows were added.

    A new copy of an id only ever arrives as a new row, so the largest row id is enough to know
    that the count may have changed; an id that stopped repeating costs one more query, no error.
    """
    o = StixObject
    largest = session.scalar(select(func.max(o.id))) or 0
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    cached = _repeated.get(key)
    if cached is not None and cached[0] == largest:
        return cached[1]
    ids = frozenset(session.scalars(select(o.stix_id).where(o.is_current).group_by(o.stix_id).having(func.count() > 1)))
    _repeated[key] = (largest, ids)
    return ids


def other_copies(session: Session, reader: Reader, stix_ids: Iterable[str]) -> dict[str, list[int]]:
    """Versions of every visible copy of these objects (one id may stand in several reports)."""
    repeated = sorted(_repeated_ids(session).intersection(stix_ids))
    if not repeated:
        return {}
    out: dict[str, list[int]] = {}
    for stix_id, version_id in session.execute(_copies_statement(_timeless(reader)), _params(reader, ids=repeated)):
        out.setdefault(stix_id, []).append(version_id)
    return out


@lru_cache(maxsize=256)
def _view_statements(reader: Reader) -> tuple[Select[Any], Select[Any]]:
    portions = (
        select(Portion)
        .where(Portion.version_id == bindparam("version"), portion_visible(reader))
        .order_by(Portion.position)
    )
    objects = (
        select(StixObject)
        .where(StixObject.version_id == bindparam("version"), object_visible(reader, StixObject))
        .order_by(StixObject.id)
    )
    return portions, objects


def current_report_view(session: Session, reader: Reader, table: EquivalenceTable, version_id: int) -> ReportView:
    """The current version of a report as `reader_versions.report_view` shows it, for rendering as STIX.

    Only the content is computed: `version` and `versions` (which STIX does not carry) are 0.
    """
    portion_statement, object_statement = _view_statements(_timeless(reader))
    values = _params(reader, version=version_id)
    portions = session.scalars(portion_statement, values).all()
    objects = session.scalars(object_statement, values).all()
    meta = session.get(ReportVersion, version_id)
    assert meta is not None
    report = session.get(Report, meta.report_id)
    assert report is not None
    return view_of_rows(session, reader, table, (report, meta, portions, objects), 0, 0)


def version_stamps(session: Session, version_ids: Iterable[int]) -> dict[int, VersionTimes]:
    """The times of each of these report versions, read from every earlier version of its report."""
    wanted = set(version_ids)
    if not wanted:
        return {}
    rv = ReportVersion
    asked = session.execute(select(rv.id, rv.report_id, rv.number).where(rv.id.in_(sorted(wanted)))).all()
    reports = {r for _, r, _ in asked}
    history = session.execute(
        select(rv.id, rv.report_id, rv.number, rv.created_at)
        .where(rv.report_id.in_(sorted(reports)))
        .order_by(rv.number)
    ).all()
    last = max(n for _, _, n in asked)
    o = StixObject
    rows = session.execute(
        select(o.version_id, o.stix_id, o.body, o.marking_id).where(
            o.version_id.in_([v for v, _, n, _ in history if n <= last])
        )
    ).all()
    content: dict[int, dict[str, tuple[Any, int]]] = {}
    for version_id, stix_id, body, marking_id in rows:
        content.setdefault(version_id, {})[stix_id] = (body, marking_id)
    out: dict[int, VersionTimes] = {}
    for version_id, report_id, number in asked:
        earlier = [(v, at) for v, r, n, at in history if r == report_id and n <= number]
        out[version_id] = VersionTimes(earlier[0][1], earlier[-1][1], _object_times(earlier, content))
    return out


def _object_times(
    versions: list[tuple[int, datetime]], content: dict[int, dict[str, tuple[Any, int]]]
) -> dict[str, tuple[datetime, datetime]]:
    """For the last of `versions`: each object's first appearance, and the start of the run of
    versions that carried it unchanged (same body, same marking). Item hashes name the version,
    so they differ on every version and cannot tell an unchanged object."""
    times: dict[str, tuple[datetime, datetime]] = {}
    before: dict[str, tuple[Any, int]] = {}
    for version_id, at in versions:
        here = content.get(version_id, {})
        for stix_id, value in here.items():
            created = times[stix_id][0] if stix_id in times else at
            times[stix_id] = (created, times[stix_id][1] if before.get(stix_id) == value else at)
        before = here
    last = content.get(versions[-1][0], {})
    return {k: v for k, v in times.items() if k in last}


def version_id(session: Session, report_stix_id: str, number: int) -> int | None:
    """The row id of version `number` of a report (a release names its report version so)."""
    query = (
        select(ReportVersion.id)
        .join(Report, Report.id == ReportVersion.report_id)
        .where(Report.stix_id == report_stix_id, ReportVersion.number == number)
    )
    return session.scalar(query)
