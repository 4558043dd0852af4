"""Reports, objects, search and counts: every read path filters inside SQL for the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tearline import clock
from tearline.errors import Forbidden, InvalidInput, NotFound, Problem
from tearline.store import fulltext, reader_versions, reads
from tearline.store.authorship import authorship_problems, require_author
from tearline.store.drafts import OBJECT_KINDS
from tearline.store.reports import create_report, edit_report, require_originator
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.audited import audited, audited_read, reader_of
from tearline.web.params import INT_MAX, QueryNumber
from tearline.web.schemas import ReportIn, report_draft
from tearline.web.views import object_page_json, report_json

router = APIRouter(tags=["reports"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = QueryNumber


@router.get("/reports")
def list_reports(node: NodeDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    with audited_read(node, principal, "report.list") as (session, reader, trail):
        page = reads.report_list(session, reader_of(reader), node.table(session), limit, offset)
        trail.objects = [item["id"] for item in page.items]
    return {"total": page.total, "items": page.items}


@router.get("/reports/{report_id}")
def read_report(
    report_id: str,
    node: NodeDep,
    principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> dict[str, Any]:
    with audited_read(node, principal, "report.read", [report_id]) as (session, audited_reader, trail):
        reader = reader_of(audited_reader)
        table = node.table(session)
        if version is not None and "auditor" not in reader.roles:
            # Read the current version first: a hidden report must answer the same 404 as a missing
            # one, never a 403 that confirms it exists, and an old version stays for auditors only.
            view = reader_versions.report_view(session, reader, table, report_id)
            if version > view.version:
                raise NotFound(f"no report {report_id}")
            if version < view.version:
                raise Forbidden("only auditors may read earlier versions", rule="auditor-role")
        else:
            view = reader_versions.report_view(session, reader, table, report_id, version)
        trail.objects += [p.hash for p in view.portions] + [o.stix_id for o in view.objects]
        trail.marking = view.banner
    return report_json(view, table, node.config.nation)


@router.post("/reports", status_code=201)
def post_report(body: ReportIn, node: NodeDep, principal: PrincipalDep) -> JSONResponse:
    with audited(node, principal, "report.create") as (session, _, trail):
        registry = node.registry(session)
        author = session.merge(principal, load=False)
        require_author(author)
        # Parsed against the compartments the author holds: one not held is "unknown", never "not yours".
        draft = report_draft(body, registry.known_to(author.compartments or []))
        problems = authorship_problems(draft, author, node.table(session))
        if problems:
            raise InvalidInput(problems)
        report = create_report(session, draft, author, node.identity, registry)
        stix_id = report.stix_id
        trail.objects = [stix_id]
    return JSONResponse({"id": stix_id, "version": 1}, status_code=201)


@router.put("/reports/{report_id}")
def put_report(report_id: str, body: ReportIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Edit: a new version. The editor must see every item of the current version, and originate it."""
    with audited(node, principal, "report.edit", [report_id]) as (session, reader, _):
        registry = node.registry(session)
        sees_all = reads.reader_sees_whole_report(session, reader_of(reader), report_id)
        author = session.merge(principal, load=False)
        require_author(author)
        draft = report_draft(body, registry.known_to(author.compartments or []), report_id)
        if sees_all:  # otherwise edit_report answers the 404 of a missing report
            require_originator(session, report_id, draft, author, node.table(session))
        version = edit_report(session, report_id, draft, author, node.identity, registry, sees_all)
        number = version.number
    return {"id": report_id, "version": number}


@router.get("/objects")
def list_objects(
    node: NodeDep, principal: PrincipalDep, type: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    kind = _kinds([type])[0] if type is not None else None
    with audited_read(node, principal, "object.list") as (session, reader, trail):
        page = reads.object_list(session, reader_of(reader), kind, limit, offset)
        trail.objects = [o.stix_id for o in page.items]
        return object_page_json(page, node.table(session), node.config.nation)


# A query parameter is named in an error as the validation handler names it (tearline.web.app).
def _query_problem(name: str, reason: str) -> InvalidInput:
    return InvalidInput(Problem(f"query.{name}", reason))


def _kinds(types: list[str]) -> tuple[str, ...]:
    """Object types as stored; an unknown one is a mistake to name, not a filter that matches nothing."""
    unknown = [t for t in types if t not in OBJECT_KINDS]
    if unknown:
        known = ", ".join(sorted(OBJECT_KINDS))
        raise _query_problem("type", f"unknown object type {unknown[0]!r}; the types are {known}")
    return tuple(types)


def _window(after: datetime | None, before: datetime | None) -> None:
    if after is not None and before is not None and clock.as_utc(after) > clock.as_utc(before):
        raise _query_problem("after", "is later than before: the window holds no moment")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise _query_problem("bbox", "must be four numbers: west,south,east,north") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise _query_problem("bbox", "must satisfy -180<=west<=east<=180 and -90<=south<=north<=90")
    return west, south, east, north


# Portions have no type, time or place: a search narrowed by any of these does not search them.
PORTIONS_NOT_SEARCHED = "portions have no type, time or place: give q alone to search them"


@router.get("/search")
def search(
    node: NodeDep,
    principal: PrincipalDep,
    q: str | None = None,
    type: Annotated[list[str] | None, Query()] = None,
    after: datetime | None = None,
    before: datetime | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Objects by text, type, time window and bounding box; portions by text alone.

    `portions` is null, with a `note` saying why, when they were not searched: without `q`, or
    with a type, time or box (which portions do not have), rather than a total of 0 that would
    read as "no portion matches".
    """
    if q:
        fulltext.parse_query(q, "query.q")  # refused here, naming the parameter as every other one
    _window(after, before)
    query = reads.SearchQuery(q, _kinds(type or []), after, before, _bbox(bbox), limit, offset)
    narrowed = bool(type or after or before or bbox)
    with audited_read(node, principal, "search") as (session, audited_reader, trail):
        reader = reader_of(audited_reader)
        table = node.table(session)
        objects = object_page_json(reads.search_objects(session, reader, query), table, node.config.nation)
        trail.objects = [o["id"] for o in objects["items"]]
        if not q or narrowed:
            note = PORTIONS_NOT_SEARCHED if q else "portions are searched by text: give q"
            return {"objects": objects, "portions": None, "note": note}
        page = reads.search_portions(session, reader, q, limit, offset)
        trail.objects += [hit["report"] for hit in page.items]
    return {"objects": objects, "portions": {"total": page.total, "items": [_portion_hit(h) for h in page.items]}}


def _portion_hit(hit: dict[str, Any]) -> dict[str, Any]:
    return {**hit, "marking": hit["marking"].as_dict()}


@router.get("/counts")
def counts(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited_read(node, principal, "counts") as (session, reader, _):
        return reads.counts(session, reader_of(reader))
