"""Console pages for reports: the inbox, the read view, and the marking editor.

Each page calls the API's own route functions, so a page read is the same audited read as the API's
(`report.list`, `report.read`, ...), filtered in SQL for the reader, with the same banners.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.release_tables import ReleaseRequest
from tearline.errors import InvalidInput, MarkingError, NotFound, Problem
from tearline.markings.banner import banner_text, portion_mark
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.markings.scheme import CONTROLS, NATIONAL_LABELS, EquivalenceTable
from tearline.release import workflow
from tearline.stix.objects import _ends as object_ends  # the ends the store checks (DESIGN §3.3 rule 8)
from tearline.store import reader_versions
from tearline.store.federation import received_releases
from tearline.store.filters import Reader as StoreReader
from tearline.store.rollup import reports_banner
from tearline.web import routes_release, routes_reports
from tearline.web.app import NodeDep
from tearline.web.audited import audited_read, reader_of
from tearline.web.console.pages import PageRoute, Reader, Writer, render
from tearline.web.routes_stream import page_start
from tearline.web.schemas import ReportIn, report_draft

router = APIRouter(route_class=PageRoute, include_in_schema=False)
actions = APIRouter(prefix="/console", include_in_schema=False)  # JSON for the pages' scripts


def _officer(principal: Any, nation: str) -> bool:
    return "disclosure_officer" in principal.roles and principal.nation == nation


@router.get("/inbox")
def inbox(request: Request, node: NodeDep, principal: Reader) -> Response:
    """New reports, the release queue, consent requests and recalls; live events join by the stream."""
    listed = routes_reports.list_reports(node, principal, 50, 0)
    nation = node.config.nation
    queue: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    recalls: list[dict[str, Any]] = []
    if _officer(principal, nation):
        with audited_read(node, principal, "release.queue") as (session, reader, trail):
            queue = [
                {
                    "id": r.id,
                    "report": r.report_stix_id,
                    "recipient": f"{r.recipient_nation}/{r.recipient_agency or '*'}",
                    "purpose": r.purpose,
                    "created_at": r.created_at,
                }
                for r in _readable_requests(session, reader_of(reader), node.table(session))
            ]
            trail.objects = [f"release-request:{r['id']}" for r in queue]
        consents = [c for c in routes_release.consent_requests(node, principal)["items"] if c["state"] == "pending"]
    if principal.nation == nation and {"disclosure_officer", "auditor"} & set(principal.roles):
        recalls = [r for r in routes_release.releases(node, principal)["items"] if r["recalled_at"]]
    # After the node's newest change, sealed afresh on every rendering (routes_stream.page_start).
    stream_after = page_start(node, principal)
    with node.db.read() as session:
        banner = reports_banner(
            session, node.reader(principal), node.table(session), [r["id"] for r in listed["items"]]
        )
        # Only reports this reader may read are listed, so only their deliveries are shown.
        titles = {r["id"]: r["title"] or r["id"] for r in listed["items"]}
        received = [
            {
                "report": r.report_stix_id,
                "title": titles[r.report_stix_id],
                "from": r.sender_nation,
                "at": r.received_at,
            }
            for r in received_releases(session, list(titles))
        ]
    return render(
        request,
        "inbox.html",
        principal,
        banner=banner,
        reports=listed["items"],
        total=listed["total"],
        queue=queue,
        consents=consents,
        recalls=recalls,
        received=received,
        stream_after=stream_after,
    )


def _readable_requests(session: Session, reader: StoreReader, table: EquivalenceTable) -> list[ReleaseRequest]:
    """The open requests whose report the officer may read: the others answer /review/N with a 404,
    so their id, report, recipient and purpose are not the officer's to see (DESIGN §3.3)."""
    requests = workflow.open_requests(session)
    reports = {r.report_stix_id for r in requests}
    readable = {stix_id for stix_id in reports if _readable(session, reader, table, stix_id)}
    return [r for r in requests if r.report_stix_id in readable]


def _readable(session: Session, reader: StoreReader, table: EquivalenceTable, stix_id: str) -> bool:
    try:
        reader_versions.report_view(session, reader, table, stix_id)  # what /review/N reads first
    except NotFound:
        return False
    return True


@router.get("/reports/new")
def new_report(request: Request, node: NodeDep, principal: Reader) -> Response:
    return _editor(request, node, principal, None)


@router.get("/reports/{report_id}")
def read_report(
    report_id: str,
    request: Request,
    node: NodeDep,
    principal: Reader,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    report = routes_reports.read_report(report_id, node, principal, version)
    may_edit = _may_edit(principal, report)
    return render(request, "report.html", principal, banner=report["banner"], report=report, may_edit=may_edit)


def _may_edit(principal: Any, report: dict[str, Any]) -> bool:
    """Whether to offer "Edit markings": an analyst of the agency that originates what the page shows
    (a marking is its originator's decision). Judged on the items shown, so that the offer says
    nothing of items the reader may not see; an edit is still decided by the API."""
    markings = [report["title_marking"]] if report["title_marking"] else []
    markings += [item["marking"] for item in (*report["portions"], *report["objects"])]
    ours = {"nation": principal.nation, "agency": principal.agency}
    return "analyst" in principal.roles and all(m["originator"] == ours for m in markings)


@router.get("/reports/{report_id}/edit")
def edit_report(report_id: str, request: Request, node: NodeDep, principal: Reader) -> Response:
    report = routes_reports.read_report(report_id, node, principal, None)
    return _editor(request, node, principal, report)


def _held(registry: Registry, principal: Any) -> Registry:
    """The registry as the author knows it: the editor offers only the author's compartments."""
    return registry.known_to(principal.compartments or [])


def _author_registry(node: Any, principal: Any) -> Registry:
    with node.db.read() as session:
        return _held(node.registry(session), principal)


def _editor(request: Request, node: Any, principal: Any, report: dict[str, Any] | None) -> Response:
    registry = _author_registry(node, principal)
    choices = {
        "levels": {nation: list(labels) for nation, labels in NATIONAL_LABELS.items()},
        "nations": sorted(registry.nations),
        "controls": sorted(CONTROLS),
        "compartments": sorted(registry.compartments),
        "author": {"nation": principal.nation, "agency": principal.agency},
    }
    banner = report["banner"] if report else None
    return render(request, "editor.html", principal, banner=banner, report=report, choices=choices)


def _required(body: ReportIn) -> None:
    """What 28 CFR Part 23 asks of every record, required by the editor."""
    problems = [
        Problem(name, reason)
        for name, value, reason in (
            ("predicate", body.predicate, "state the criminal predicate (reasonable suspicion)"),
            ("need_to_know", body.need_to_know, "state who needs to know this record"),
        )
        if not value.strip()
    ]
    if problems:
        raise InvalidInput(problems)


def _with_ends(body: ReportIn) -> ReportIn:
    """Sightings and relationships keep the ends the store checks for visibility."""
    for obj in body.objects:
        if obj.source_ref is None and obj.target_ref is None:
            with contextlib.suppress(KeyError, TypeError, IndexError):  # a malformed body is the store's to refuse
                obj.source_ref, obj.target_ref = object_ends(obj.type, obj.properties)
    return body


def _markings_known_to_author(body: ReportIn, node: Any, principal: Any, action: str, objects: list[str]) -> None:
    """Refuse a compartment the author does not hold as the store refuses an unknown one (logged alike)."""
    try:
        report_draft(body, _author_registry(node, principal))
    except InvalidInput as err:
        journal.record_refusal(node, principal, action, objects, err.code)
        raise


@actions.post("/reports")
def create(body: ReportIn, node: NodeDep, principal: Writer) -> JSONResponse:
    _required(body)
    _markings_known_to_author(body, node, principal, "report.create", [])
    return routes_reports.post_report(_with_ends(body), node, principal)


@actions.post("/reports/{report_id}")
def save(report_id: str, body: ReportIn, node: NodeDep, principal: Writer) -> dict[str, Any]:
    _required(body)
    _markings_known_to_author(body, node, principal, "report.edit", [report_id])
    return routes_reports.put_report(report_id, _with_ends(body), node, principal)


@actions.post("/banner")
def preview_banner(body: dict[str, Any], node: NodeDep, principal: Writer) -> dict[str, Any]:
    """The banner a draft would carry, and each item's mark; an invalid marking is refused with its reason."""
    raw = body.get("markings")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(Problem("markings", "give the markings of the draft's items"))
    problems: list[Problem] = []
    markings: list[Marking] = []
    with node.db.read() as session:
        registry = _held(node.registry(session), principal)
        table = node.table(session)
    for i, item in enumerate(raw):
        try:
            markings.append(marking_from_dict(item, registry, f"markings[{i}]"))
        except MarkingError as err:
            problems.extend(err.problems)
    if problems:
        raise MarkingError(problems)
    nation = node.config.nation
    return {"banner": banner_text(markings, nation, table), "marks": [portion_mark(m, nation, table) for m in markings]}
