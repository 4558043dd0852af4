"""Consent under the third-party rule and ORCON, as messages between the holder and the originator.

The holder asks (its outbox carries a `consent-request` to the originator's node); the
originator's disclosure officer grants, with scope and expiry, or refuses; the grant travels back
signed by the originator's node. Partners are told only "refused" (naming more would reveal
third-party holdings). Revoking a consent recalls every release that used it.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.db.models import Grant, Principal
from tearline.db.release_tables import Consent, ConsentRequest, Release, ReleaseRecall
from tearline.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tearline.markings.release import Maker, Recipient, Withheld
from tearline.markings.visibility import Cover
from tearline.node import Node
from tearline.policy.workflow import authorize
from tearline.release.outbox import enqueue, enqueue_recall
from tearline.release.tearline import Tearline, TearlineContext
from tearline.store.items import items_by_hash


def live_consents(session: Session) -> list[Cover]:
    """Consents this node holds, as covers (their liveness is checked at decision time)."""
    rows = session.scalars(select(Consent).where(Consent.revoked_at.is_(None)))
    return [
        Cover(
            "consent",
            c.grantor_nation,
            c.recipient_nation,
            c.recipient_agency,
            h,
            None,
            clock.as_utc(c.expires_at),
            False,
            grantor_agency=c.grantor_agency,
            origin_id=c.id,
        )
        for c in rows
        for h in c.item_hashes
    ]


def delivery_covers(session: Session) -> list[Cover]:
    """The unrecalled deliveries of received items (their expiry is checked at decision time)."""
    rows = session.scalars(select(Grant).where(Grant.kind == "delivery", Grant.recalled_at.is_(None)))
    return [
        Cover(
            "delivery",
            g.grantor_nation,
            g.nation,
            g.agency,
            g.item_hash,
            g.report_version_id,
            clock.as_utc(g.expires_at),
            False,
            grantor_agency=g.grantor_agency,
            origin_id=g.origin_id,
        )
        for g in rows
    ]


def tearline_context(session: Session, node: Node) -> TearlineContext:
    """What this node decides a tearline with, as of now: itself as maker, its markings, and the
    consents and deliveries it holds."""
    # Here rather than beside TearlineContext: this module imports tearline.py, not the other way.
    return TearlineContext(
        maker=Maker(node.config.nation, node.config.agency),
        registry=node.registry(session),
        table=node.table(session),
        consents=tuple(live_consents(session)),
        now=clock.now(),
        deliveries=tuple(delivery_covers(session)),
    )


def consent_needed(tearline: Tearline, originators: dict[str, tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Withheld item hashes that a consent could free, grouped by originator (nation, agency)."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for item in tearline.withheld:
        if item.rule in (Withheld.THIRD_PARTY, Withheld.ORCON) and item.hash in originators:
            wanted.setdefault(originators[item.hash], []).append(item.hash)
    return wanted


def request_consent(
    session: Session,
    node: Node,
    officer: Principal,
    tearline: Tearline,
    originators: dict[str, tuple[str, str]],
    purpose: str,
) -> list[ConsentRequest]:
    """Ask each originator whose items the tearline withholds for consent; the requests go out by outbox."""
    authorize(officer, "request_consent", node.config.nation)
    if not purpose.strip():
        raise InvalidInput(Problem("purpose", "say why the recipient needs the items"))
    wanted = consent_needed(tearline, originators)
    if not wanted:
        raise InvalidInput(Problem("tearline", "no withheld item of this tearline needs an originator's consent"))
    out = []
    for (nation, agency), hashes in sorted(wanted.items()):
        row = ConsentRequest(
            id=f"consent-request--{uuid.uuid4()}",
            direction="out",
            requester_nation=node.config.nation,
            requester_agency=node.config.agency,
            grantor_nation=nation,
            grantor_agency=agency,
            recipient_nation=tearline.recipient.nation,
            recipient_agency=tearline.recipient.agency,
            item_hashes=sorted(hashes),
            purpose=purpose.strip(),
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        enqueue(session, node, "consent-request", nation, request_message(row))
        journal.record(session, node, officer, "consent.request", [row.id, *hashes])
        out.append(row)
    return out


def request_message(row: ConsentRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "requester": {"nation": row.requester_nation, "agency": row.requester_agency},
        "grantor": {"nation": row.grantor_nation, "agency": row.grantor_agency},
        "recipient": {"nation": row.recipient_nation, "agency": row.recipient_agency},
        "item_hashes": list(row.item_hashes),
        "purpose": row.purpose,
    }


def receive_consent_request(session: Session, node: Node, message: dict[str, Any]) -> ConsentRequest:
    """At the originator's node: file an incoming request for its disclosure officers."""
    if message["grantor"]["nation"] != node.config.nation:
        raise InvalidInput(Problem("grantor.nation", "this node is not the originator named in the request"))
    row = ConsentRequest(
        id=message["id"],
        direction="in",
        requester_nation=message["requester"]["nation"],
        requester_agency=message["requester"]["agency"],
        grantor_nation=message["grantor"]["nation"],
        grantor_agency=message["grantor"]["agency"],
        recipient_nation=message["recipient"]["nation"],
        recipient_agency=message["recipient"].get("agency"),
        item_hashes=list(message["item_hashes"]),
        purpose=message["purpose"],
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def answer_consent(
    session: Session,
    node: Node,
    officer: Principal,
    request_id: str,
    grant: bool,
    expires_at: datetime | None,
    note: str = "",
    item_hashes: list[str] | None = None,
) -> Consent | None:
    """Grant (signed by this node, with scope and expiry) or refuse; the answer goes back by outbox.

    A grant covers the items asked for that the officer may see, or only `item_hashes` of them: the
    originator may let the port contact go on and keep the informant's portion back. A request for
    nothing the officer may see answers like one that does not exist (DESIGN §3.3): an officer
    decides only on what they can read.
    """
    authorize(officer, "grant_consent" if grant else "refuse_consent", node.config.nation)
    row = session.get(ConsentRequest, request_id)
    seen = _seen_items(session, node, officer, row) if row is not None and row.direction == "in" else []
    if row is None or not seen:
        raise NotFound(f"no consent request {request_id}")
    if row.state != "pending":
        raise Conflict(f"{request_id} was already answered ({row.state})")
    if grant and officer.agency != row.grantor_agency and node.config.agency != row.grantor_agency:
        raise Forbidden("only the originator agency may consent", rule="originator-agency")
    row.state, row.answer, row.answered_at = ("granted" if grant else "refused"), note, clock.now()
    if not grant:
        enqueue(session, node, "consent-answer", row.requester_nation, {"request": row.id, "answer": "refused"})
        journal.record(session, node, officer, "consent.refuse", [row.id])
        return None
    if expires_at is None or clock.as_utc(expires_at) <= clock.now():
        raise InvalidInput(Problem("expires_at", "a consent needs an expiry in the future"))
    scope = _granted_scope(row, seen, item_hashes)
    consent = _signed_consent(node, row, clock.as_utc(expires_at), scope)
    session.add(consent)
    session.flush()
    enqueue(
        session,
        node,
        "consent-answer",
        row.requester_nation,
        {"request": row.id, "answer": "granted", "consent": consent.body, "signature": consent.signature},
    )
    journal.record(session, node, officer, "consent.grant", [row.id, consent.id, *scope])
    return consent


def _seen_items(session: Session, node: Node, officer: Principal, row: ConsentRequest) -> list[str]:
    """The items a request asks for that the officer may see, by the read path's own filter."""
    reader = node.reader(officer, session)
    return sorted({item.hash for item in items_by_hash(session, reader, list(row.item_hashes))})


def _granted_scope(row: ConsentRequest, seen: list[str], item_hashes: list[str] | None) -> list[str]:
    """The items a grant covers: all those asked for that the officer sees, or a non-empty part of them."""
    if item_hashes is None:
        return seen
    if not item_hashes:
        raise InvalidInput(Problem("item_hashes", "a grant covers at least one item; refuse the request instead"))
    unasked = sorted(set(item_hashes) - set(seen))
    if unasked:
        raise InvalidInput(Problem("item_hashes", f"{', '.join(unasked)} were not asked for in {row.id}"))
    return sorted(set(item_hashes))


def _signed_consent(node: Node, row: ConsentRequest, expires_at: datetime, scope: list[str]) -> Consent:
    body = {
        "id": f"consent--{uuid.uuid4()}",
        "grantor": {"nation": row.grantor_nation, "agency": row.grantor_agency},
        "recipient": {"nation": row.recipient_nation, "agency": row.recipient_agency},
        "item_hashes": scope,
        "purpose": row.purpose,
        "expires_at": expires_at.isoformat(),
        "request": row.id,
    }
    signature = base64.b64encode(node.signing_key().sign(canonical(body))).decode()
    return _consent_row(body, signature)


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _consent_row(body: dict[str, Any], signature: str) -> Consent:
    return Consent(
        id=body["id"],
        grantor_nation=body["grantor"]["nation"],
        grantor_agency=body["grantor"]["agency"],
        recipient_nation=body["recipient"]["nation"],
        recipient_agency=body["recipient"].get("agency"),
        item_hashes=list(body["item_hashes"]),
        purpose=body["purpose"],
        expires_at=clock.parse_timestamp(body["expires_at"]),
        body=body,
        signature=signature,
        created_at=clock.now(),
    )


def receive_consent_answer(
    session: Session, node: Node, message: dict[str, Any], originator_key: Ed25519PublicKey
) -> Consent | None:
    """At the holder: record the answer; a grant is stored only if the originator's node signed it."""
    request = session.get(ConsentRequest, message["request"])
    if request is None or request.direction != "out":
        raise NotFound(f"no consent request {message['request']}")
    if request.state != "pending":
        raise Conflict(f"consent request {request.id} was already answered ({request.state})")
    if message["answer"] != "granted":
        request.state, request.answered_at = "refused", clock.now()
        return None
    body = message["consent"]
    try:
        originator_key.verify(base64.b64decode(message["signature"]), canonical(body))
    except (InvalidSignature, ValueError):
        raise Forbidden("the consent is not signed by the originator's node", rule="consent-signature") from None
    if body["grantor"]["nation"] != request.grantor_nation or not set(body["item_hashes"]) <= set(request.item_hashes):
        raise InvalidInput(Problem("consent", "the consent does not match the request it answers"))
    consent = _consent_row(body, message["signature"])
    session.add(consent)
    for item_hash in consent.item_hashes:
        session.add(
            Grant(
                kind="consent",
                grantor_nation=consent.grantor_nation,
                grantor_agency=consent.grantor_agency,
                nation=consent.recipient_nation,
                agency=consent.recipient_agency,
                item_hash=item_hash,
                expires_at=consent.expires_at,
                created_at=clock.now(),
                origin_id=consent.id,
            )
        )
    request.state, request.answered_at = "granted", clock.now()
    session.flush()
    return consent


def withdraw_consent(session: Session, node: Node, officer: Principal, consent_id: str, reason: str) -> Consent:
    """At the originator: revoke a consent we granted; the holder is told, and recalls what used it."""
    authorize(officer, "revoke_consent", node.config.nation)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.grantor_nation != node.config.nation:
        raise NotFound(f"no consent {consent_id} granted by this node")
    if consent.revoked_at is not None:
        raise InvalidInput(Problem("consent", f"consent {consent_id} was already revoked"))
    if not reason.strip():
        raise InvalidInput(Problem("reason", "say why the consent is revoked"))
    request = session.get(ConsentRequest, consent.body.get("request"))
    if request is None:
        raise NotFound(f"the request that consent {consent_id} answered is not on this node")
    consent.revoked_at = clock.now()
    enqueue(session, node, "consent-revoke", request.requester_nation, {"consent": consent_id})
    journal.record(session, node, officer, "consent.revoke", [consent_id, request.id], rule=reason[:200])
    return consent


def revoke_consent(session: Session, node: Node, consent_id: str, by: str) -> list[str]:
    """At the holder, when the originator revokes: the consent stops covering and its releases are recalled."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound(f"no consent {consent_id}")
    consent.revoked_at = clock.now()
    session.execute(update(Grant).where(Grant.origin_id == consent_id).values(recalled_at=clock.now()))
    recalled = []
    for release in session.scalars(select(Release)):
        if consent_id in release.consents_used and session.get(ReleaseRecall, release.id) is None:
            session.add(
                ReleaseRecall(release_id=release.id, by=by, reason=f"consent {consent_id} revoked", at=clock.now())
            )
            session.execute(update(Grant).where(Grant.origin_id == release.id).values(recalled_at=clock.now()))
            enqueue_recall(session, node, release)
            journal.record(
                session,
                node,
                by,
                "release.recall",
                [release.report_stix_id, release.id],
                rule=f"consent-revoked:{consent_id}",
            )
            recalled.append(release.id)
    journal.record(session, node, by, "consent.revoke", [consent_id, *recalled])
    return recalled


def recipient_of(row: ConsentRequest) -> Recipient:
    return Recipient(row.recipient_nation, row.recipient_agency)


def all_requests(session: Session) -> list[ConsentRequest]:
    return list(session.scalars(select(ConsentRequest).order_by(ConsentRequest.created_at)))
