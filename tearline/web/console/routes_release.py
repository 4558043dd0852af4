"""Console pages of the release workflow: request, review side by side, decide, consent, oversight.

Each step calls the API's route function, so it is authorised, decided and audited exactly as there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from tearline import clock
from tearline.db.release_tables import Release
from tearline.errors import InvalidInput, Problem, TearlineError
from tearline.markings.banner import banner_text, portion_mark
from tearline.markings.marking import Marking
from tearline.release import workflow
from tearline.store.content import version_content
from tearline.store.items import NamedItem, items_by_hash
from tearline.store.registry import load_registry
from tearline.validation import problems_of
from tearline.web import consent_asks, routes_release, routes_reports
from tearline.web.app import NodeDep
from tearline.web.audited import audited_read, reader_of
from tearline.web.console.pages import PageRoute, Reader, Writer, by_field, render
from tearline.web.params import PathId

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Text = Annotated[str, Form()]
Body = TypeVar("Body", bound=BaseModel)


def end_of_day(day: str, field: str) -> datetime:
    """A date from a form, as the end of that day in UTC (an expiry is exclusive)."""
    try:
        parsed = datetime.strptime(day, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(Problem(field, "give a date as YYYY-MM-DD")) from None
    return datetime.combine(parsed, time(23, 59, 59), tzinfo=UTC)


def _agencies(node: Any) -> list[tuple[str, str]]:
    with node.db.read() as session:
        registry = load_registry(session, node.identity)
    return sorted((a.nation, a.name) for a in registry.agencies.values() if a.nation != node.config.nation)


@router.get("/reports/{report_id}/release")
def release_form(report_id: str, request: Request, node: NodeDep, principal: Reader) -> Response:
    return _release_form(request, node, principal, report_id)


# The release request body's fields, by the form field that gives each.
RELEASE_FIELDS = {
    "recipient": "recipient",
    "purpose": "purpose",
    "need_to_know": "need_to_know",
    "expires_at": "expires",
}


def _release_form(
    request: Request,
    node: Any,
    principal: Any,
    report_id: str,
    problems: list[Problem] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The form, empty, or again as it was sent with each refusal next to its field."""
    report = routes_reports.read_report(report_id, node, principal, None)
    default_expiry = (clock.now() + timedelta(days=30)).date().isoformat()
    return render(
        request,
        "release_request.html",
        principal,
        banner=report["banner"],
        report=report,
        agencies=_agencies(node),
        typed=typed or {"expires": default_expiry},
        problems=by_field(problems or [], RELEASE_FIELDS),
        status=422 if problems else 200,
    )


@router.post("/reports/{report_id}/release")
def request_release(
    report_id: str,
    request: Request,
    node: NodeDep,
    principal: Writer,
    recipient: Text,
    purpose: Text = "",
    need_to_know: Text = "",
    expires: Text = "",
) -> Response:
    nation, _, agency = recipient.partition("/")
    try:
        body = _form_body(
            routes_release.ReleaseRequestIn,
            {
                "report": report_id,
                "recipient": {"nation": nation, "agency": agency or None},
                "purpose": purpose,
                "need_to_know": need_to_know,
                "expires_at": end_of_day(expires, "expires_at"),
            }
        )
        created = routes_release.open_request(body, node, principal)
    except InvalidInput as err:
        typed = {"recipient": recipient, "purpose": purpose, "need_to_know": need_to_know, "expires": expires}
        return _release_form(request, node, principal, report_id, err.problems, typed)
    request_id = json.loads(bytes(created.body))["id"]
    if "disclosure_officer" in principal.roles and principal.nation == node.config.nation:
        return RedirectResponse(f"/review/{request_id}", status_code=303)
    return RedirectResponse(f"/reports/{report_id}?requested={request_id}", status_code=303)


def _form_body(model: type[Body], fields: dict[str, Any]) -> Body:
    """The API's body from the form's fields; what the API would refuse with a 422 is refused the same way
    (as InvalidInput, naming each field), never left to escape as a 500."""
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise InvalidInput(problems_of(err)) from None


@router.get("/review/{request_id}")
def review(request_id: PathId, request: Request, node: NodeDep, principal: Reader) -> Response:
    return _review(request, node, principal, request_id)


def _review(
    request: Request,
    node: Any,
    principal: Any,
    request_id: int,
    error: TearlineError | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    """The review page; after a refused decision, with the decision's form as it was sent."""
    data = routes_release.review(request_id, node, principal)
    officer = data["state"] == "requested" and "disclosure_officer" in principal.roles
    asked = typed is not None and "chosen" in typed  # the refusal is of the consent form, shown beside it
    return render(
        request,
        "review.html",
        principal,
        banner=data["banner_before"],
        review=data,
        outcome=_outcome(request.query_params.get("outcome"), data["state"]),
        release=_release_of(node, data) if data["state"] == "disseminated" else None,
        error=error,
        typed=typed or {},
        askable=consent_asks.askable(node, principal, request_id) if officer else [],
        consent_problems=by_field(error.problems, CONSENT_FIELDS) if asked and isinstance(error, InvalidInput) else {},
        status=error.status if error else 200,
    )


CONSENT_FIELDS = {"items": "items", "purpose": "purpose"}


# The notice after a decision, for the state the request reached: the query only says which notice
# the officer came for, and a notice the request's state does not bear out is not shown.
_OUTCOMES = {"waiting": "requested", "disseminated": "disseminated", "denied": "denied"}


def _outcome(asked: str | None, state: str) -> str | None:
    return asked if asked is not None and _OUTCOMES.get(asked) == state else None


def _release_of(node: Any, review: dict[str, Any]) -> str | None:
    """The id of the release a disseminated request made, from the record (never from the query)."""
    with node.db.read() as session:
        made, _ = workflow.releases_with_recalls(session, review["report"])
        return next((r.id for r in made if r.request_id == review["request"]), None)


@router.post("/review/{request_id}/approve")
def approve(
    request_id: PathId, request: Request, node: NodeDep, principal: Writer, determination: Text = ""
) -> Response:
    try:
        body = _form_body(routes_release.ApproveIn, {"determination": determination})
        result = routes_release.approve(request_id, body, node, principal)
    except TearlineError as err:
        return _review(request, node, principal, request_id, err, {"determination": determination})
    if result["state"] == "disseminated":
        target = f"/review/{request_id}?outcome=disseminated&release={result['release']['id']}"
    else:
        target = f"/review/{request_id}?outcome=waiting"
    return RedirectResponse(target, status_code=303)


@router.post("/review/{request_id}/deny")
def deny(request_id: PathId, request: Request, node: NodeDep, principal: Writer, reason: Text = "") -> Response:
    try:
        routes_release.deny(request_id, _form_body(routes_release.ReasonIn, {"reason": reason}), node, principal)
    except TearlineError as err:
        return _review(request, node, principal, request_id, err, {"reason": reason})
    return RedirectResponse(f"/review/{request_id}?outcome=denied", status_code=303)


@router.post("/review/{request_id}/consent")
def ask_consent(
    request_id: PathId,
    request: Request,
    node: NodeDep,
    principal: Writer,
    purpose: Text = "",
    item: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Ask the originators of the chosen withheld items for consent (third-party rule, ORCON)."""
    chosen = item or []
    try:
        consent_asks.ask(node, principal, request_id, chosen, purpose)
    except InvalidInput as err:  # the form again, as sent; any other refusal is the error page
        return _review(request, node, principal, request_id, err, {"purpose": purpose, "chosen": chosen})
    return RedirectResponse("/consent?asked=1", status_code=303)


@router.get("/consent")
def consent(request: Request, node: NodeDep, principal: Reader) -> Response:
    return _consent(request, node, principal)


def _consent(
    request: Request,
    node: Any,
    principal: Any,
    error: TearlineError | None = None,
    answered: dict[str, str] | None = None,
) -> Response:
    """The consent page; after a refused answer, that request's form as it was sent, the reason beside it."""
    items = routes_release.consent_requests(node, principal)["items"]
    found = _asked_items(node, principal, [h for c in items if c["direction"] == "in" for h in c["item_hashes"]])
    nation = node.config.nation
    with node.db.read() as session:
        table = node.table(session)
    asked = {i.hash: {"kind": i.kind, "text": i.text, "mark": portion_mark(i.marking, nation, table)} for i in found}
    default_expiry = (clock.now() + timedelta(days=30)).date().isoformat()
    return render(
        request,
        "consent.html",
        principal,
        banner=page_banner(node, [i.marking for i in found]),
        items=list(reversed(items)),
        asked=asked,
        default_expiry=default_expiry,
        error=error,
        answered=answered or {},
        sent=request.query_params.get("asked") == "1" and error is None,
        status=error.status if error else 200,
    )


def _asked_items(node: Any, principal: Any, hashes: list[str]) -> list[NamedItem]:
    """What an incoming request asks for, as the officer may see it: a read like any other, audited."""
    if not hashes:
        return []
    with audited_read(node, principal, "consent.items", hashes) as (session, reader, _trail):
        return items_by_hash(session, reader_of(reader), hashes)


def page_banner(node: Any, markings: list[Marking]) -> str | None:
    """The banner of a page showing items of these markings (None: nothing marked, the lowest label)."""
    if not markings:
        return None
    with node.db.read() as session:
        return banner_text(markings, node.config.nation, node.table(session))


def released_markings(node: Any, items: list[dict[str, Any]]) -> list[Marking]:
    """The markings of what release records show: their kept items that the reader may see.

    `items` come from `routes_release.releases`, which keeps in each only the hashes the reader
    may see; a record's own banner rolls up exactly these.
    """
    markings: list[Marking] = []
    with node.db.read() as session:
        for item in items:
            release = session.get(Release, item["id"])
            if release is None:
                continue
            content = version_content(session, release.report_stix_id, release.version_number)
            kept = set(item["kept_hashes"])
            markings += [i.marking for i in content.items if i.hash in kept]
    return markings


@router.post("/consent/{request_id}/answer")
def answer_consent(
    request_id: str,
    request: Request,
    node: NodeDep,
    principal: Writer,
    decision: Text,
    expires: Text = "",
    note: Text = "",
) -> Response:
    grant = decision == "grant"
    try:
        if decision not in ("grant", "refuse"):  # anything else is a mistake, never a refusal
            raise InvalidInput(Problem("decision", "must be grant or refuse"))
        expires_at = end_of_day(expires, "expires_at") if grant else None
        body = _form_body(routes_release.ConsentAnswerIn, {"grant": grant, "expires_at": expires_at, "note": note})
        routes_release.answer(request_id, body, node, principal)
    except TearlineError as err:
        answered = {"id": request_id, "decision": decision, "expires": expires, "note": note}
        return _consent(request, node, principal, err, answered)
    return RedirectResponse("/consent", status_code=303)


@router.get("/releases")
def releases(request: Request, node: NodeDep, principal: Reader) -> Response:
    return _releases(request, node, principal)


def _releases(
    request: Request, node: Any, principal: Any, error: InvalidInput | None = None, typed: dict[str, str] | None = None
) -> Response:
    items = routes_release.releases(node, principal)["items"]
    banner = page_banner(node, released_markings(node, items))
    return render(
        request,
        "releases.html",
        principal,
        banner=banner,
        items=list(reversed(items)),
        error=error,
        typed=typed or {},
        status=error.status if error else 200,
    )


@router.post("/releases/{release_id}/recall")
def recall(release_id: str, request: Request, node: NodeDep, principal: Writer, reason: Text = "") -> Response:
    try:
        routes_release.recall(release_id, _form_body(routes_release.ReasonIn, {"reason": reason}), node, principal)
    except InvalidInput as err:  # the form again, saying what to mend; any other refusal is the error page
        return _releases(request, node, principal, err, {"release": release_id, "reason": reason})
    return RedirectResponse("/releases", status_code=303)
