"""The release workflow: request → review → approve or deny → disseminated, and recall after that.

Each step is authorised by the Cedar workflow policy; each decision goes into the audit log in
the same transaction as the step itself. An approval writes the immutable release record, the
grants that readers' filters honour, the audit entry and the outbox message in one transaction,
so a crash leaves either no release or a complete one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.db.limits import length_problems
from tearline.db.models import Grant, Principal
from tearline.db.release_tables import Release, ReleaseApproval, ReleaseRecall, ReleaseRequest
from tearline.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tearline.markings.marking import Registry
from tearline.markings.release import Recipient, Withheld, recipient_agency_problem
from tearline.node import Node
from tearline.policy.workflow import authorize
from tearline.release.consents import tearline_context
from tearline.release.outbox import enqueue_recall, enqueue_release
from tearline.release.rules import two_person_levels
from tearline.release.tearline import (
    Tearline,
    TearlineRefused,
    nothing_leaves,
    recipient_name,
    tearline_for,
)
from tearline.store import changes
from tearline.store.content import VersionContent, version_content
from tearline.store.reads import visible_hashes


@dataclass(frozen=True)
class RequestIn:
    report: str
    recipient: Recipient
    purpose: str
    need_to_know: str
    expires_at: datetime


def tearline_of(
    session: Session, node: Node, content: VersionContent, recipient: Recipient, *, allow_empty: bool = False
) -> Tearline:
    return tearline_for(content, recipient, tearline_context(session, node), allow_empty=allow_empty)


def request_release(session: Session, node: Node, requester: Principal, req: RequestIn) -> ReleaseRequest:
    """Open a request; refuse it at once if nothing could leave or the record needs review."""
    authorize(requester, "request", node.config.nation)
    _require_readable(session, node, requester, req.report)
    problems = _request_problems(req) + _recipient_problems(node.registry(session), node.config.nation, req.recipient)
    content = version_content(session, req.report)
    _require_reviewed(content)
    if clock.as_utc(req.expires_at) > clock.as_utc(content.review_due):
        # 28 CFR Part 23: the record is reviewed or purged by then; a copy released from it must not outlive that.
        due = clock.as_utc(content.review_due).isoformat()
        problems.append(Problem("expires_at", f"must not be later than the record's review date {due}"))
    if problems:
        raise InvalidInput(problems)
    tearline = _tearline_for_requester(session, node, requester, content, req.recipient)
    earliest = tearline.earliest_consent_expiry
    if earliest is not None and clock.as_utc(req.expires_at) > clock.as_utc(earliest):
        raise InvalidInput(Problem("expires_at", f"exceeds the earliest expiry of the consents used ({earliest})"))
    row = ReleaseRequest(
        report_stix_id=req.report,
        version_number=content.number,
        recipient_nation=req.recipient.nation,
        recipient_agency=req.recipient.agency,
        requester_id=requester.id,
        purpose=req.purpose.strip(),
        need_to_know=req.need_to_know.strip(),
        expires_at=clock.as_utc(req.expires_at),
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    journal.record(session, node, requester, "release.request", [req.report, f"release-request:{row.id}"])
    _note(session, "release-request", row)
    return row


def _note(session: Session, kind: str, request: ReleaseRequest, **detail: object) -> None:
    """Tell the officers of a step of a request, in its transaction (the live stream, `store.changes`).

    Only what the officers' queue and the request's review show anyone who reads the report: its id,
    its recipient and, for a decision, what was decided. The stream sends it only to officers and
    auditors who may read the report (`routes_stream._sees_subject`).
    """
    recipient = {"nation": request.recipient_nation, "agency": request.recipient_agency}
    changes.note(
        session,
        kind,
        request.report_stix_id,
        role="disclosure_officer",
        detail={"request": request.id, "recipient": recipient, **detail},
    )


def _tearline_to_request(session: Session, node: Node, content: VersionContent, recipient: Recipient) -> Tearline:
    """The tearline a request would release. An empty one is refused, naming the recipient and the
    rules that keep each item home, unless an originator's consent could free something: then the
    request stands only to ask that consent (`consents.request_consent` works from a request), its
    review says approval is refused, and approval refuses it until something may leave."""
    tearline = tearline_of(session, node, content, recipient, allow_empty=True)
    if tearline.empty and not consent_could_free(tearline, content, node.registry(session)):
        raise TearlineRefused(nothing_leaves(recipient, tearline.withheld))
    return tearline


def consent_could_free(tearline: Tearline, content: VersionContent, registry: Registry) -> bool:
    """Whether an originator's consent alone would let some withheld item go. A third-party item
    failed no other rule (that rule is checked last). An ORCON item needs a consent naming the
    recipient's agency, so none can free it for a nation-wide recipient, and it must pass LES too."""
    markings = {i.hash: i.marking for i in content.items}
    agency = tearline.recipient.agency
    for item in tearline.withheld:
        if item.rule == Withheld.THIRD_PARTY:
            return True
        marking = markings[item.hash]
        les_passes = "LES" not in marking.controls or (agency is not None and registry.is_law_enforcement(agency))
        if item.rule == Withheld.ORCON and agency is not None and les_passes:
            return True
    return False


def waiting_for_consent(session: Session, node: Node, request: ReleaseRequest) -> bool:
    """Whether an open request's tearline is empty now: it may only wait for an originator's consent."""
    content = version_content(session, request.report_stix_id, request.version_number)
    return tearline_of(session, node, content, _recipient(request), allow_empty=True).empty


def _tearline_for_requester(
    session: Session, node: Node, requester: Principal, content: VersionContent, recipient: Recipient
) -> Tearline:
    """The tearline to request, decided only over what the requester may read.

    A requester who sees part of the report must learn nothing of the rest: not that a hidden
    item could go, nor why a hidden one could not. So for them the request stands only if
    something they read would leave, and a refusal says nothing more than that.
    """
    sees = visible_hashes(session, node.reader(requester, session), content.version_id, [i.hash for i in content.items])
    partial = len(sees) < len(content.items)
    nothing = TearlineRefused(
        Problem("recipient", f"nothing you may read of this report may go to {recipient_name(recipient)}")
    )
    try:
        tearline = _tearline_to_request(session, node, content, recipient)
    except TearlineRefused:
        if partial:
            raise nothing from None
        raise
    if partial and not set(tearline.kept_hashes) & sees:
        raise nothing
    return tearline


def _request_problems(req: RequestIn) -> list[Problem]:
    problems = length_problems([("recipient.agency", ReleaseRequest.recipient_agency, req.recipient.agency)])
    if not req.purpose.strip():
        problems.append(Problem("purpose", "a stated purpose is required (28 CFR Part 23)"))
    if not req.need_to_know.strip():
        problems.append(Problem("need_to_know", "a need-to-know statement is required (28 CFR Part 23)"))
    if clock.as_utc(req.expires_at) <= clock.now():
        problems.append(Problem("expires_at", "a release needs an expiry in the future"))
    return problems


def _recipient_problems(registry: Registry, our_nation: str, recipient: Recipient) -> list[Problem]:
    """The recipient nation is a configured partner (DESIGN §3.2), and a named agency is one of its own."""
    if recipient.nation == our_nation:
        return [Problem("recipient.nation", f"{our_nation} is this node's own nation; a release goes to a partner")]
    if recipient.nation not in registry.nations:
        return [Problem("recipient.nation", f"nation {recipient.nation!r} is not a configured partner")]
    reason = recipient_agency_problem(recipient, registry)
    return [Problem("recipient.agency", reason)] if reason else []


def _require_reviewed(content: VersionContent) -> None:
    if clock.as_utc(content.review_due) <= clock.now():
        raise Forbidden(
            "the record is past its review date; re-validate it (edit with a new review date) before release",
            rule="28cfr23-review-due",
        )


def _require_readable(session: Session, node: Node, principal: Principal, report: str) -> None:
    from tearline.store.reader_versions import report_view

    session.flush()
    report_view(session, node.reader(principal, session), node.table(session), report)  # NotFound if hidden


def get_request(session: Session, request_id: int) -> ReleaseRequest:
    row = session.get(ReleaseRequest, request_id)
    if row is None:
        raise NotFound(f"no release request {request_id}")
    return row


def approve(session: Session, node: Node, approver: Principal, request_id: int, determination: str) -> Release | None:
    """Record an approval; disseminate once enough distinct officers approved. Returns the release then."""
    authorize(approver, "approve", node.config.nation)
    request = _open_request(session, request_id)
    if not determination.strip():
        raise InvalidInput(
            Problem("determination", "record the determination that the release does not threaten national security")
        )
    _require_readable(session, node, approver, request.report_stix_id)  # a hidden report is a missing one
    content = version_content(session, request.report_stix_id, request.version_number)
    _require_reviewed(content)
    tearline = _tearline_to_approve(session, node, approver, content, _recipient(request))
    _check_approver(session, node, approver, request, content, tearline)
    session.add(
        ReleaseApproval(
            request_id=request.id, approver_id=approver.id, determination=determination.strip(), at=clock.now()
        )
    )
    session.flush()
    journal.record(
        session,
        node,
        approver,
        "release.approve",
        [request.report_stix_id, f"release-request:{request.id}"],
        marking=tearline.banner,
        detail={"determination": determination.strip()},
    )
    if len(_approvals(session, request.id)) < _approvers_needed(session, tearline):
        _note(session, "release-decision", request, outcome="approved", final=False)  # a second officer is awaited
        return None
    _check_earlier_approvers(session, node, approver, request, content, tearline)
    release = _disseminate(session, node, request, tearline)
    _note(session, "release-decision", request, outcome="approved", final=True)
    return release


def _tearline_to_approve(
    session: Session, node: Node, approver: Principal, content: VersionContent, recipient: Recipient
) -> Tearline:
    """The tearline an approval would release. An empty one is refused, and its reasons count only the
    withheld items the approver may see, as their review counts them (DESIGN §3.3)."""
    tearline = tearline_of(session, node, content, recipient, allow_empty=True)
    if tearline.empty:
        hashes = [w.hash for w in tearline.withheld]
        seen = visible_hashes(session, node.reader(approver, session), content.version_id, hashes)
        raise TearlineRefused(nothing_leaves(recipient, [w for w in tearline.withheld if w.hash in seen]))
    return tearline


def _open_request(session: Session, request_id: int) -> ReleaseRequest:
    request = session.scalar(select(ReleaseRequest).where(ReleaseRequest.id == request_id).with_for_update())
    if request is None:
        raise NotFound(f"no release request {request_id}")
    if request.state != "requested":
        raise Conflict(f"release request {request_id} is already {request.state}")
    return request


def _recipient(request: ReleaseRequest) -> Recipient:
    return Recipient(request.recipient_nation, request.recipient_agency)


def _approvals(session: Session, request_id: int) -> list[ReleaseApproval]:
    """A request's approvals in the order they were given."""
    query = select(ReleaseApproval).where(ReleaseApproval.request_id == request_id)
    return list(session.scalars(query.order_by(ReleaseApproval.at, ReleaseApproval.id)))


@dataclass(frozen=True)
class Determination:
    """One approver's recorded determination that the release does not threaten national security."""

    approver: str
    text: str


def determination_text(determinations: list[Determination]) -> str:
    """The release record's determination (DESIGN §3.5): every approver's own words, in the order they
    approved, one line each and named, so that a concurrence ("Concur.") never stands for the
    determination it concurs with."""
    return "\n".join(f"{d.approver}: {d.text}" for d in determinations)


def _approvers_needed(session: Session, tearline: Tearline) -> int:
    return 2 if tearline.level in two_person_levels(session) else 1


def _check_approver(
    session: Session,
    node: Node,
    approver: Principal,
    request: ReleaseRequest,
    content: VersionContent,
    tearline: Tearline,
) -> None:
    if any(a.approver_id == approver.id for a in _approvals(session, request.id)):
        raise Conflict("you already approved this request; a second approver must be a different officer")
    if _approvers_needed(session, tearline) == 2 and approver.id == request.requester_id:
        raise Forbidden("under the two-person rule the requester may not approve", rule="two-person-rule")
    seen = visible_hashes(session, node.reader(approver, session), content.version_id, tearline.kept_hashes)
    if len(seen) != len(set(tearline.kept_hashes)):
        raise Forbidden("an approver must be cleared for every item that would leave", rule="approver-clearance")


def _check_earlier_approvers(
    session: Session, node: Node, last: Principal, request: ReleaseRequest, content: VersionContent, tearline: Tearline
) -> None:
    """Every approver must pass 3.3 for every item that leaves now, not only for the tearline they
    approved: a grant, a consent or a compartment's owners may change between two approvals, and
    the tearline with them. An approver who could not read what now leaves never approved it."""
    for approval in _approvals(session, request.id):
        earlier = session.get(Principal, approval.approver_id)
        if earlier is None or earlier.id == last.id:
            continue
        seen = visible_hashes(session, node.reader(earlier, session), content.version_id, tearline.kept_hashes)
        if earlier.disabled or "disclosure_officer" not in earlier.roles or len(seen) != len(set(tearline.kept_hashes)):
            raise Conflict(
                f"the tearline changed since {earlier.username} approved: {len(tearline.kept_hashes)} items would now "
                f"leave, and {earlier.username} may no longer approve them all; deny this request and request "
                "the release again"
            )


def _disseminate(session: Session, node: Node, request: ReleaseRequest, tearline: Tearline) -> Release:
    expiry = clock.as_utc(request.expires_at)
    earliest = tearline.earliest_consent_expiry
    if earliest is not None and expiry > clock.as_utc(earliest):
        raise InvalidInput(Problem("expires_at", f"exceeds the earliest expiry of the consents used ({earliest})"))
    approved = [(a, p) for a in _approvals(session, request.id) if (p := session.get(Principal, a.approver_id))]
    approvers = [p for _, p in approved]
    determinations = [Determination(p.username, a.determination) for a, p in approved]
    determination = determination_text(determinations)
    release_id = f"release--{uuid.uuid4()}"
    index = journal.record(
        session,
        node,
        approvers[-1],
        "release.disseminate",
        [tearline.report, release_id, *tearline.kept_hashes],
        marking=tearline.banner,
        detail={"determinations": [{"approver": d.approver, "determination": d.text} for d in determinations]},
    )
    release = Release(
        id=release_id,
        request_id=request.id,
        report_stix_id=tearline.report,
        version_number=tearline.version,
        kept_hashes=tearline.kept_hashes,
        recipient_nation=request.recipient_nation,
        recipient_agency=request.recipient_agency,
        determination=determination,
        purpose=request.purpose,
        need_to_know=request.need_to_know,
        expires_at=expiry,
        approvers=[p.username for p in approvers],
        consents_used=sorted({c.origin_id or "" for c in tearline.consents_used} - {""}),
        banner=tearline.banner,
        audit_index=index,
        created_at=clock.now(),
    )
    session.add(release)
    for item_hash in tearline.kept_hashes:
        session.add(
            Grant(
                kind="release",
                grantor_nation=node.config.nation,
                grantor_agency=node.config.agency,
                nation=request.recipient_nation,
                agency=request.recipient_agency,
                item_hash=item_hash,
                expires_at=expiry,
                created_at=clock.now(),
                origin_id=release_id,
            )
        )
    request.state, request.determination, request.decided_at = "disseminated", determination, clock.now()
    session.flush()
    enqueue_release(session, node, release, tearline)
    return release


def deny(session: Session, node: Node, officer: Principal, request_id: int, reason: str) -> ReleaseRequest:
    authorize(officer, "deny", node.config.nation)
    request = _open_request(session, request_id)
    if not reason.strip():
        raise InvalidInput(Problem("reason", "a denial records its reason"))
    request.state, request.denial_reason, request.decided_at = "denied", reason.strip(), clock.now()
    journal.record(
        session,
        node,
        officer,
        "release.deny",
        [request.report_stix_id, f"release-request:{request.id}"],
        rule=reason.strip(),
    )
    _note(session, "release-decision", request, outcome="denied", final=True)
    return request


def recall(session: Session, node: Node, officer: Principal, release_id: str, reason: str) -> ReleaseRecall:
    """Withdraw a release: its grants stop covering at once here, and the recipient is told."""
    authorize(officer, "recall", node.config.nation)
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    if session.get(ReleaseRecall, release_id) is not None:
        raise Conflict(f"{release_id} is already recalled")
    row = ReleaseRecall(release_id=release_id, by=officer.username, reason=reason.strip() or "recalled", at=clock.now())
    session.add(row)
    session.execute(update(Grant).where(Grant.origin_id == release_id).values(recalled_at=clock.now()))
    journal.record(session, node, officer, "release.recall", [release.report_stix_id, release_id], rule=row.reason)
    enqueue_recall(session, node, release)
    return row


def open_requests(session: Session) -> list[ReleaseRequest]:
    """Requests that wait for a decision, oldest first (the officers' queue)."""
    query = select(ReleaseRequest).where(ReleaseRequest.state == "requested").order_by(ReleaseRequest.id)
    return list(session.scalars(query))


def releases_with_recalls(session: Session, report: str | None) -> tuple[list[Release], dict[str, ReleaseRecall]]:
    """Oversight: the releases (of one report, or all) and their recalls."""
    query = select(Release).order_by(Release.created_at)
    if report:
        query = query.where(Release.report_stix_id == report)
    recalls = {r.release_id: r for r in session.scalars(select(ReleaseRecall))}
    return list(session.scalars(query)), recalls
