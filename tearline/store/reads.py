"""Every read path of the node. Each one filters inside SQL with `tearline.store.filters`.

Whatever a reader gets (titles, banners, counts, totals, version numbers, positions) is
computed over what that reader may see and nothing else; a hidden report answers 404. One report
in full, numbered over the reader's own versions, is read by `tearline.store.reader_versions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tearline.db.driver import DriverStatement, compile_for_driver, fetch_column
from tearline.db.models import Audience, MarkingRow, Portion, Report, ReportVersion, StixObject, Workspace
from tearline.markings.banner import banner_text
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.store import fulltext
from tearline.store.audience import COORDINATE_FIELDS, marking_from_body
from tearline.store.filters import Reader, object_visible, portion_visible


def source_withheld(grade: str | None) -> str:
    return f"[withheld: source grade {grade or 'unknown'}]"


@dataclass
class PortionView:
    number: int
    text: str
    marking: Marking
    hash: str


@dataclass
class ObjectView:
    stix_id: str
    stix_type: str
    name: str
    body: dict[str, Any]
    marking: Marking
    report: str
    hash: str
    observed_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class ReportView:
    stix_id: str
    version: int
    versions: int
    title: str | None
    title_marking: Marking | None
    banner: str
    portions: list[PortionView] = field(default_factory=list)
    objects: list[ObjectView] = field(default_factory=list)
    predicate: str = ""
    need_to_know: str = ""
    review_due: datetime | None = None
    created_at: datetime | None = None  # when this version, as the reader sees it, was made
    workspace: str | None = None
    first_created_at: datetime | None = None  # when the reader's first version was made
    title_hash: str | None = None


@dataclass
class Page:
    total: int
    items: list[Any]


def markings_by_id(session: Session, ids: set[int]) -> dict[int, Marking]:
    rows = session.execute(select(MarkingRow.id, MarkingRow.body).where(MarkingRow.id.in_(ids))).all()
    return {mid: marking_from_body(body) for mid, body in rows}


def markings_hiding_source(session: Session, reader: Reader, ids: set[int]) -> set[int]:
    """Which of these markings the reader's audience for them holds with the source hidden."""
    rows = session.scalars(
        select(Audience.marking_id).where(
            Audience.principal_id == reader.principal_id, Audience.marking_id.in_(ids), Audience.hides_source
        )
    )
    return set(rows)


def report_visible(reader: Reader) -> Any:
    """A report exists for a reader iff at least one of its current items is visible to them."""
    p, o = Portion, StixObject
    return or_(
        select(p.id).where(p.report_id == Report.id, portion_visible(reader, p)).exists(),
        select(o.id).where(o.report_id == Report.id, object_visible(reader, o)).exists(),
    )


def report_list(session: Session, reader: Reader, table: EquivalenceTable, limit: int, offset: int) -> Page:
    visible = report_visible(reader)
    total = session.scalar(select(func.count()).select_from(Report).where(visible)) or 0
    reports = session.scalars(
        select(Report).where(visible).order_by(Report.id.desc()).limit(limit).offset(offset)
    ).all()
    # Built once for the page: building a filter costs more than running it on one report.
    filters = (portion_visible(reader), object_visible(reader, StixObject))
    return Page(total, [_summary(session, reader, table, r, *filters) for r in reports])


def _summary(
    session: Session, reader: Reader, table: EquivalenceTable, report: Report, portion_ok: Any, object_ok: Any
) -> dict[str, Any]:
    portions = session.execute(
        select(Portion.is_title, Portion.text, Portion.marking_id).where(Portion.report_id == report.id, portion_ok)
    ).all()
    object_markings = session.scalars(
        select(StixObject.marking_id).distinct().where(StixObject.report_id == report.id, object_ok)
    ).all()
    ids = {m for _, _, m in portions} | set(object_markings)
    markings = markings_by_id(session, ids)
    hidden_source = markings_hiding_source(session, reader, ids)
    title = next((portion_text(t, markings[m], m in hidden_source) for is_t, t, m in portions if is_t), None)
    return {
        "id": report.stix_id,
        "title": title,
        "banner": banner_text(markings.values(), reader.node_nation, table),
        "portions": sum(1 for is_t, _, _ in portions if not is_t),
        "objects": session.scalar(
            select(func.count())
            .select_from(StixObject)
            .where(StixObject.report_id == report.id, object_ok)
        ),
        "created_at": report.created_at,
    }


def portion_text(text: str, marking: Marking, hides_source: bool) -> str:
    """A portion's text as the reader is shown it: the source grade where the text is a hidden source."""
    if hides_source and "text" in marking.source_fields:
        return source_withheld(marking.source_grade)
    return text


def object_view(obj: StixObject, marking: Marking, hides_source: bool, report: str) -> ObjectView:
    """An object as the reader is shown it: hidden source fields become the grade, hidden coordinates none."""
    body = dict(obj.body)
    name = obj.name
    latitude, longitude = obj.latitude, obj.longitude
    if hides_source:
        for field_name in marking.source_fields:
            if field_name in body:
                body[field_name] = source_withheld(marking.source_grade)
            if field_name == "name":
                name = source_withheld(marking.source_grade)
        if set(COORDINATE_FIELDS) & set(marking.source_fields):
            latitude = longitude = None
    return ObjectView(
        stix_id=obj.stix_id,
        stix_type=obj.stix_type,
        name=name,
        body=body,
        marking=marking,
        report=report,
        hash=obj.hash,
        observed_at=obj.observed_at,
        latitude=latitude,
        longitude=longitude,
    )


def view_of_rows(
    session: Session,
    reader: Reader,
    table: EquivalenceTable,
    rows: tuple[Report, ReportVersion, Sequence[Portion], Sequence[StixObject]],
    version: int,
    versions: int,
) -> ReportView:
    """A report version as the reader sees it, from its visible portions and objects (already read)."""
    report, meta, portions, objects = rows
    ids = {p.marking_id for p in portions} | {o.marking_id for o in objects}
    markings = markings_by_id(session, ids)
    hidden = markings_hiding_source(session, reader, ids)
    title = next((p for p in portions if p.is_title), None)
    body = [p for p in portions if not p.is_title]
    slug = select(Workspace.slug).where(Workspace.id == report.workspace_id)
    return ReportView(
        stix_id=report.stix_id,
        version=version,
        versions=versions,
        title=portion_text(title.text, markings[title.marking_id], title.marking_id in hidden) if title else None,
        title_marking=markings[title.marking_id] if title else None,
        banner=banner_text(markings.values(), reader.node_nation, table),
        portions=[
            PortionView(i + 1, portion_text(p.text, mark, p.marking_id in hidden), mark, p.hash)
            for i, p in enumerate(body)
            for mark in (markings[p.marking_id],)
        ],
        objects=[object_view(o, markings[o.marking_id], o.marking_id in hidden, report.stix_id) for o in objects],
        predicate=meta.predicate,
        need_to_know=meta.need_to_know,
        review_due=meta.review_due,
        created_at=meta.created_at,
        workspace=None if report.workspace_id is None else session.scalar(slug),
        title_hash=title.hash if title else None,
    )


def _object_page(session: Session, reader: Reader, query: Select[StixObject, str], limit: int, offset: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(StixObject.id).limit(limit).offset(offset)).all()
    ids = {o.marking_id for o, _ in rows}
    markings = markings_by_id(session, ids)
    hidden = markings_hiding_source(session, reader, ids)
    return Page(total, [object_view(o, markings[o.marking_id], o.marking_id in hidden, r) for o, r in rows])


def object_list(session: Session, reader: Reader, stix_type: str | None, limit: int, offset: int) -> Page:
    query = select(StixObject, Report.stix_id).join(Report, Report.id == StixObject.report_id)
    query = query.where(object_visible(reader, StixObject))
    if stix_type:
        query = query.where(StixObject.stix_type == stix_type)
    return _object_page(session, reader, query, limit, offset)


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    types: tuple[str, ...] = ()
    after: datetime | None = None
    before: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    limit: int = 50
    offset: int = 0


def search_objects(session: Session, reader: Reader, q: SearchQuery) -> Page:
    """Objects matching text, type, time window and bounding box, among those the reader may see."""
    query = select(StixObject, Report.stix_id).join(Report, Report.id == StixObject.report_id)
    # Text must not match what the reader is shown only as a source grade, so an item with any hidden
    # source field is left out of a text search; a box leaves out only items whose coordinates are hidden.
    query = query.where(object_visible(reader, StixObject, searchable=bool(q.text), placed=bool(q.bbox)))
    if q.text:
        query = query.where(fulltext.text_matches(session, StixObject, fulltext.parse_query(q.text)))
    if q.types:
        query = query.where(StixObject.stix_type.in_(q.types))
    if q.after:
        query = query.where(StixObject.observed_at >= q.after)
    if q.before:
        query = query.where(StixObject.observed_at < q.before)
    if q.bbox:
        west, south, east, north = q.bbox
        query = query.where(and_(StixObject.longitude.between(west, east), StixObject.latitude.between(south, north)))
    return _object_page(session, reader, query, q.limit, q.offset)


def search_portions(session: Session, reader: Reader, text: str, limit: int, offset: int) -> Page:
    """Portions whose text matches, among those the reader may see (source-sensitive text is not searched)."""
    query = (
        select(Portion, Report.stix_id)
        .join(Report, Report.id == Portion.report_id)
        .where(portion_visible(reader, searchable=True))
        .where(fulltext.text_matches(session, Portion, fulltext.parse_query(text)))
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Portion.id).limit(limit).offset(offset)).all()
    markings = markings_by_id(session, {p.marking_id for p, _ in rows})
    items = [{"report": r, "is_title": p.is_title, "text": p.text, "marking": markings[p.marking_id]} for p, r in rows]
    return Page(total, items)


def counts(session: Session, reader: Reader) -> dict[str, Any]:
    """Counts and facets, over what the reader may see and nothing else."""
    by_type = session.execute(
        select(StixObject.stix_type, func.count())
        .where(object_visible(reader, StixObject))
        .group_by(StixObject.stix_type)
    ).all()
    portions = session.scalar(
        select(func.count()).select_from(Portion).where(portion_visible(reader), Portion.is_title.is_(False))
    )
    reports = session.scalar(select(func.count()).select_from(Report).where(report_visible(reader)))
    return {"reports": reports or 0, "portions": portions or 0, "objects": dict(sorted(by_type))}


def portion_count(session: Session, reader: Reader) -> int:
    """Visible current portions, titles included."""
    count = _count_statement(replace(reader, now=_EPOCH), _dialect(session))
    return int(fetch_column(session, count, {"now": reader.now})[0] or 0)


def portion_page(session: Session, reader: Reader, limit: int, after_id: int = 0) -> list[int]:
    """Ids of a page of visible current portions after `after_id`, in id order (keyset paging)."""
    page = _page_statement(replace(reader, now=_EPOCH), _dialect(session), limit)
    return fetch_column(session, page, {"now": reader.now, "after": after_id})


# The statements below are built once per principal's read context (its time is a parameter) and
# run through the driver (`tearline.db.driver`): on a page that touches a few hundred index
# entries, building the filter, and SQLAlchemy's execution, each cost more than running it.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dialect(session: Session) -> Dialect:
    return session.get_bind().dialect


@lru_cache(maxsize=512)
def _page_statement(reader: Reader, dialect: Dialect, limit: int) -> DriverStatement:
    page = (
        select(Portion.id)
        .where(Portion.id > bindparam("after", value=0), portion_visible(reader))
        .order_by(Portion.id)
        # The page size is written into the SQL, so that PostgreSQL may keep one generic plan for
        # the prepared statement (with LIMIT as a parameter, its generic plan took about 240 ms a page).
        .limit(bindparam("limit", value=limit, type_=Integer(), literal_execute=True))
    )
    return compile_for_driver(page, dialect)


@lru_cache(maxsize=512)
def _count_statement(reader: Reader, dialect: Dialect) -> DriverStatement:
    count = select(func.count()).select_from(Portion).where(portion_visible(reader, by_marking=True))
    return compile_for_driver(count, dialect)


def reader_sees_whole_report(session: Session, reader: Reader, stix_id: str) -> bool:
    """True iff every current portion and object of the report is visible to the reader."""
    report_id = session.scalar(select(Report.id).where(Report.stix_id == stix_id))
    if report_id is None:
        return False
    p, o = Portion, StixObject
    hidden_portion = select(p.id).where(p.report_id == report_id, p.is_current, ~portion_visible(reader, p)).exists()
    hidden_object = select(o.id).where(o.report_id == report_id, o.is_current, ~object_visible(reader, o)).exists()
    return not session.scalar(select(or_(hidden_portion, hidden_object)))


def visible_hashes(session: Session, reader: Reader, version_id: int, hashes: list[str]) -> set[str]:
    """Which of these items of one version the reader may see (for approvers, DESIGN §3.5)."""
    p, o = Portion, StixObject
    in_version = (p.version_id == version_id, p.hash.in_(hashes))
    seen = set(session.scalars(select(p.hash).where(*in_version, portion_visible(reader, p, current=False))))
    in_version = (o.version_id == version_id, o.hash.in_(hashes))
    seen |= set(session.scalars(select(o.hash).where(*in_version, object_visible(reader, o, current=False))))
    return seen
