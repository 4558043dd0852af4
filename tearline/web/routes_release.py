"""Release workflow over HTTP: preview, request, review, approve or deny, recall, consent, oversight."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.models import Principal
from tearline.db.release_tables import Release
from tearline.errors import Forbidden, InvalidInput, Problem
from tearline.markings.banner import banner_text
from tearline.markings.release import Recipient
from tearline.markings.scheme import EquivalenceTable
from tearline.node import Node
from tearline.policy.workflow import authorize
from tearline.release import consents, rules, workflow
from tearline.release.outbox import release_record
from tearline.release.review import review_data
from tearline.release.tearline import recipient_name
from tearline.store.content import version_content
from tearline.store.filters import Reader
from tearline.store.items import items_by_hash
from tearline.store.release_sight import release_sight
from tearline.web import consent_asks
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.audited import audited, audited_read, reader_of
from tearline.web.params import PathId
from tearline.web.schemas import RequestBody

router = APIRouter(tags=["release"])


# The statements a decision records are stored in unbounded Text columns (so `tearline.db.limits`
# has no length to read from them); this bound keeps one from being a megabyte of anything.
STATEMENT_LIMIT = 4_000
Statement = Annotated[str, Field(max_length=STATEMENT_LIMIT)]


class RecipientIn(RequestBody):
    noun = "a recipient"
    # Refused, never upper-cased (DESIGN §3.2): `mex` is not a nation code.
    nation: str = Field(
        min_length=3, max_length=3, pattern="^[A-Z]{3}$", description="a partner's ISO 3166 alpha-3 code, e.g. MEX"
    )
    agency: str | None = None

    def recipient(self) -> Recipient:
        return Recipient(self.nation, self.agency)


class ReleaseRequestIn(RequestBody):
    noun = "a release request"
    report: str
    recipient: RecipientIn
    purpose: Statement
    need_to_know: Statement
    expires_at: datetime


class ApproveIn(RequestBody):
    noun = "an approval"
    determination: Statement = ""


class ReasonIn(RequestBody):
    noun = "this decision"
    reason: Statement = ""


class ConsentAnswerIn(RequestBody):
    noun = "a consent answer"
    grant: bool
    expires_at: datetime | None = None
    note: Statement = ""
    item_hashes: list[str] | None = Field(
        default=None, max_length=10_000, description="grant only these of the items asked for (default: all)"
    )


class ConsentAskIn(RequestBody):
    noun = "a consent request"
    purpose: Statement
    # Item hashes to ask about, among the withheld items the officer may see; left out: all of those.
    items: list[Annotated[str, StringConstraints(max_length=128)]] | None = Field(default=None, max_length=10_000)


class TwoPersonRuleIn(RequestBody):
    noun = "the two-person rule"
    levels: list[Annotated[int, Field(ge=0, le=4)]] = Field(
        max_length=5, description="the common levels (0 to 4) at which a release needs two approvers"
    )


def _me(session: Session, principal: Principal) -> Principal:
    row = session.get(Principal, principal.id)
    assert row is not None
    return row


@router.post("/release-requests", status_code=201)
def open_request(body: ReleaseRequestIn, node: NodeDep, principal: PrincipalDep) -> JSONResponse:
    req = workflow.RequestIn(body.report, body.recipient.recipient(), body.purpose, body.need_to_know, body.expires_at)
    with audited(node, principal, "release.request", [body.report], journaled=True) as (session, _, _t):
        row = workflow.request_release(session, node, _me(session, principal), req)
        out: dict[str, Any] = {"id": row.id, "state": row.state}
        if workflow.waiting_for_consent(session, node, row):
            # Nothing may leave yet (DESIGN §3.5 refuses an empty tearline): the request stands only
            # so that its officers can ask the originators, and approval is refused until they consent.
            out["waiting_for"] = (
                f"an originator's consent: nothing of this report may go to {recipient_name(req.recipient)} "
                f"without it; ask from the review (POST /api/release-requests/{row.id}/consent)"
            )
    return JSONResponse(out, status_code=201)


@router.get("/release-requests/{request_id}/review")
def review(request_id: PathId, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Original and tearline side by side, banners before and after, the recipient's clearance."""
    with audited(node, principal, "release.review", [f"release-request:{request_id}"]) as (session, _, _t):
        me = _me(session, principal)
        authorize(me, "review", node.config.nation)
        request = workflow.get_request(session, request_id)
        content = version_content(session, request.report_stix_id, request.version_number)
        tearline = workflow.tearline_of(
            session, node, content, Recipient(request.recipient_nation, request.recipient_agency), allow_empty=True
        )
        data = review_data(session, node, me, request, tearline, content.version_id)
        journal.record(session, node, me, "release.review", [request.report_stix_id, f"release-request:{request.id}"])
    return data


@router.post("/release-requests/{request_id}/approve")
def approve(request_id: PathId, body: ApproveIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "release.approve", [f"release-request:{request_id}"], journaled=True) as (
        session,
        _,
        _t,
    ):
        me = _me(session, principal)
        release = workflow.approve(session, node, me, request_id, body.determination)
        if release is None:
            return {"state": "requested", "waiting_for": "a second approver (two-person rule)"}
        # As the release list shows it to the approver: the version numbered over what they may see,
        # never our stored number, which counts edits they cannot see (DESIGN §3.3).
        shown = _as_seen(session, node, node.reader(me, session), node.table(session), release)
        return {"state": "disseminated", "release": shown or _without_version(release)}


@router.post("/release-requests/{request_id}/deny")
def deny(request_id: PathId, body: ReasonIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "release.deny", [f"release-request:{request_id}"], journaled=True) as (
        session,
        _,
        _t,
    ):
        row = workflow.deny(session, node, _me(session, principal), request_id, body.reason)
        return {"state": row.state, "reason": row.denial_reason}


@router.post("/release-requests/{request_id}/consent")
def ask_consent(request_id: PathId, body: ConsentAskIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Ask the originators of withheld third-party or ORCON items for consent: the items named, or every
    such item the officer may see. A request whose report the officer may not see answers 404, and an
    item hidden from them is refused like one that is not there (DESIGN §3.3)."""
    return {"requests": consent_asks.ask(node, principal, request_id, body.items, body.purpose)}


@router.get("/consent-requests")
def consent_requests(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Consent requests in and out, each as the officer may see it: only the items the officer may
    see are named, and a request for none of them is left out (DESIGN §3.3, nothing hidden shows)."""
    with audited_read(node, principal, "consent.list") as (session, seer, _trail):
        authorize(principal, "review", node.config.nation)
        rows = consents.all_requests(session)
        asked = [h for r in rows for h in r.item_hashes]
        seen = {i.hash for i in items_by_hash(session, reader_of(seer), asked)}
        items = []
        for r in rows:
            named = [h for h in r.item_hashes if h in seen]
            if named:
                items.append({**consents.request_message(r), "item_hashes": named, "direction": r.direction,
                              "state": r.state})  # fmt: skip
        return {"items": items}


@router.post("/consent-requests/{request_id}/answer")
def answer(request_id: str, body: ConsentAnswerIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "consent.answer", [request_id], journaled=True) as (session, _, _t):
        consent = consents.answer_consent(
            session, node, _me(session, principal), request_id, body.grant, body.expires_at, body.note, body.item_hashes
        )
        return {"answer": "granted" if consent else "refused", "consent": consent.body if consent else None}


@router.post("/consents/{consent_id}/revoke")
def revoke(consent_id: str, body: ReasonIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """The originator's officer revokes a consent it granted; the holder recalls what used it."""
    with audited(node, principal, "consent.revoke", [consent_id], journaled=True) as (session, _, _t):
        consent = consents.withdraw_consent(session, node, _me(session, principal), consent_id, body.reason)
        return {"consent": consent.id, "revoked_at": consent.revoked_at.isoformat() if consent.revoked_at else None}


@router.post("/releases/{release_id}/recall")
def recall(release_id: str, body: ReasonIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "release.recall", [release_id], journaled=True) as (session, _, _t):
        me = _me(session, principal)
        authorize(me, "recall", node.config.nation)
        if not body.reason.strip():
            raise InvalidInput(Problem("reason", "a recall records its reason"))
        row = workflow.recall(session, node, me, release_id, body.reason)
        return {"release": row.release_id, "recalled_at": row.at.isoformat()}


RULE_SETTING = "setting:two_person_levels"


def _rule_state(session: Session) -> dict[str, Any]:
    proposal = rules.pending_proposal(session)
    return {"levels": sorted(rules.two_person_levels(session)), "pending": proposal.as_dict() if proposal else None}


@router.get("/release/two-person-rule")
def two_person_rule(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """The common levels at which a release needs two approvers, and a change waiting for a second admin."""
    with audited_read(node, principal, "release.two_person_rule.read", [RULE_SETTING]) as (session, _, _t):
        overseers = {"admin", "disclosure_officer", "auditor"}
        if not overseers & set(principal.roles) or principal.nation != node.config.nation:
            raise Forbidden(
                "only this node's admins, disclosure officers and auditors see its release rules",
                rule="release-settings",
            )
        return _rule_state(session)


@router.put("/release/two-person-rule")
def set_two_person_rule(body: TwoPersonRuleIn, node: NodeDep, principal: PrincipalDep) -> JSONResponse:
    """Add levels at once; taking any out is a proposal until a second admin makes the same change."""
    with audited(node, principal, "release.two_person_rule.change", [RULE_SETTING], journaled=True) as (
        session,
        _,
        _t,
    ):
        me = _me(session, principal)
        before = sorted(rules.two_person_levels(session))
        change = rules.change_two_person_levels(session, body.levels, me, node.config.nation)
        action = "release.two_person_rule." + ("change" if change.in_force else "propose")
        detail = {"from": before, "to": sorted(set(body.levels)), "admins": list(change.approvers)}
        journal.record(session, node, me, action, [RULE_SETTING], detail=detail)
        out = {**_rule_state(session), "state": "in force" if change.in_force else "proposed"}
    if not change.in_force:
        out["waiting_for"] = "a second admin to make the same change within 24 hours"
    return JSONResponse(out, status_code=200 if change.in_force else 202)


@router.get("/releases")
def releases(node: NodeDep, principal: PrincipalDep, report: str | None = None) -> dict[str, Any]:
    """Oversight: per record, who received it, when, and under which determination (officers and auditors)."""
    with audited_read(node, principal, "release.list", [report] if report else []) as (session, seer, _trail):
        if not {"disclosure_officer", "auditor"} & set(principal.roles) or principal.nation != node.config.nation:
            authorize(principal, "review", node.config.nation)  # a refusal is audited too
        rows, recalls = workflow.releases_with_recalls(session, report)
        reader, table = reader_of(seer), node.table(session)
        items = []
        for r in rows:
            shown = _as_seen(session, node, reader, table, r)
            if shown is None:
                continue  # none of it is visible to this reader: it answers like a release that is not there
            items.append(
                {
                    **shown,
                    "created_at": r.created_at.isoformat(),
                    "recalled_at": recalls[r.id].at.isoformat() if r.id in recalls else None,
                }
            )
        return {"items": items}


def _without_version(release: Release) -> dict[str, Any]:
    """The record without our stored version number, for an approver who no longer sees the version."""
    return {k: v for k, v in release_record(release).items() if k != "version"}


def _as_seen(
    session: Session, node: Node, reader: Reader, table: EquivalenceTable, release: Release
) -> dict[str, Any] | None:
    """A release record as this reader may see it (DESIGN §3.3): its banner rolled up, its kept hashes
    and its version number counted over the items and versions the reader may see; None if none."""
    sight = release_sight(session, reader, release)
    if sight is None:
        return None
    content, seen, number = sight
    markings = [i.marking for i in content.items if i.hash in seen]
    return {
        **release_record(release),
        "version": number,
        "kept_hashes": [h for h in release.kept_hashes if h in seen],
        "banner": banner_text(markings, node.config.nation, table),
    }
