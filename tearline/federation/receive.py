"""Receiving sealed units from a partner: check, then store whole or refuse whole.

The sending node's release rules ran before it sent; ours run again here (DESIGN §3.5): every
item must be marked releasable to us by the same rules, third-party items must come with the
originator's signed consent, and the seal must be the sender's. What passes is stored as a
received report with its provenance (originator, sender, release id), so the third-party rule
holds for it from then on. A unit already applied is acknowledged and not applied again.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.db.federation_tables import Peer, Received, ReceivedRelease
from tearline.db.limits import Column, length_problems
from tearline.db.models import Grant, Portion
from tearline.db.release_tables import Consent, ConsentRequest, ReleaseRecall
from tearline.errors import Forbidden, InvalidInput, Problem, TearlineError
from tearline.federation import units
from tearline.federation.peers import public_key
from tearline.federation.seal import Unit, canonical, verify_unit, version_of
from tearline.markings.release import Maker, Recipient, recipient_agency_problem, release_rule
from tearline.markings.visibility import Cover
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.release import consents
from tearline.release.outbox import enqueue_recall
from tearline.stix import ids
from tearline.stix.decode import bundle_to_drafts
from tearline.stix.reports import WITHHELD_TITLE
from tearline.store import changes
from tearline.store.drafts import ReportDraft
from tearline.store.federation import principal_named, recall_grants, releases_using, report_named
from tearline.store.reports import create_report, store_received_version

KINDS = ("release", "recall", "consent-request", "consent-answer", "consent-revoke")


@dataclass(frozen=True)
class Outcome:
    seal: str
    version: str
    applied: bool  # False: already applied before (idempotent repeat)
    detail: str


def receive_unit(session: Session, node: Node, peer: Peer, unit: Unit) -> Outcome:
    """Check and apply one unit from `peer` in the caller's transaction; raise to refuse it."""
    seal_id, version = str(unit.seal.get("id")), version_of(unit.seal)
    units.check_seal(unit.seal, seal_id)  # every key read below is there, of its type
    sender = unit.seal["sender"]
    if sender["nation"] != peer.nation:
        raise Forbidden(f"seal {seal_id} names sender {sender.get('nation')!r}, not {peer.nation}", rule="sender")
    verify_unit(unit, public_key(peer.vkey))
    if unit.seal.get("destination") != node.config.nation:
        raise Forbidden(f"seal {seal_id} is addressed to {unit.seal.get('destination')!r}", rule="destination")
    units.check_payload(unit.kind, unit.payload, seal_id)  # a malformed unit never reaches `_APPLY`
    problems = length_problems(_stored_strings(unit, seal_id, version), seal_id)
    if problems:
        raise InvalidInput(problems)
    if session.get(Received, (seal_id, version)) is not None:
        return Outcome(seal_id, version, False, "already applied")
    if unit.kind not in KINDS:
        raise InvalidInput(Problem("kind", f"unknown unit kind {unit.kind!r}", seal_id))
    detail = _APPLY[unit.kind](session, node, peer, unit)
    session.add(Received(stix_id=seal_id, modified=version, sender=peer.nation, kind=unit.kind, at=clock.now()))
    journal.record(
        session,
        node,
        f"{SERVICE_ACCOUNT}@{node.config.agency}",
        f"federation.receive.{unit.kind}",
        [seal_id, detail],
        rule=f"sealed-by:{peer.nation}",
    )
    return Outcome(seal_id, version, True, detail)


# Where each kind of unit puts a payload value into a `String(N)` column: (its path, the column).
_STORED: dict[str, list[tuple[str, Column]]] = {
    "release": [("release.id", ReceivedRelease.release_id), ("release.recipient.agency", Grant.agency)],
    "consent-request": [
        ("id", ConsentRequest.id),
        ("requester.agency", ConsentRequest.requester_agency),
        ("grantor.agency", ConsentRequest.grantor_agency),
        ("recipient.nation", ConsentRequest.recipient_nation),
        ("recipient.agency", ConsentRequest.recipient_agency),
    ],
    "consent-answer": [
        ("consent.id", Consent.id),
        ("consent.grantor.agency", Consent.grantor_agency),
        ("consent.recipient.nation", Consent.recipient_nation),
        ("consent.recipient.agency", Consent.recipient_agency),
    ],
}


def _stored_strings(unit: Unit, seal_id: str, version: str) -> list[tuple[str, Column, object]]:
    """Every value of the unit that would fill a `String(N)` column, for a length check before any is stored
    (a partner's over-long value failed its whole push on PostgreSQL, and SQLite stored it)."""
    out: list[tuple[str, Column, object]] = [
        ("seal.id", Received.stix_id, seal_id),
        ("seal.modified", Received.modified, version),
    ]
    payload = unit.seal.get("payload")
    out += [(path, column, _at(payload, path)) for path, column in _STORED.get(str(unit.seal.get("kind")), [])]
    items = payload.get("items") if isinstance(payload, dict) and unit.seal.get("kind") == "release" else None
    if isinstance(items, dict):  # the originator's item hashes, which our copies keep
        out += [(f"items.{key}", Portion.hash, value) for key, value in items.items()]
    return out


def _at(value: object, path: str) -> object:
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def refuse(session: Session, node: Node, peer_nation: str, seal_id: str, err: TearlineError) -> None:
    """Log a refused unit (its own transaction rolled back; nothing of it is stored)."""
    rule = getattr(err, "rule", None) or err.code
    journal.record(
        session,
        node,
        f"{SERVICE_ACCOUNT}@{node.config.agency}",
        "federation.receive",
        [seal_id, peer_nation],
        rule=f"{rule}: {err.message}"[:500],
        outcome="denied",
    )


# --- releases ----------------------------------------------------------------------------------


def _apply_release(session: Session, node: Node, peer: Peer, unit: Unit) -> str:
    record: dict[str, Any] = unit.payload["release"]
    items: dict[str, str] = unit.payload.get("items", {})
    registry = node.registry(session)
    bundle = {"type": "bundle", "id": ids.bundle_id(unit.objects), "objects": unit.objects}
    drafts = bundle_to_drafts(bundle, registry)
    if len(drafts) != 1:
        raise InvalidInput(Problem("objects", f"a release carries one report, not {len(drafts)}", record.get("id")))
    draft = drafts[0]
    draft = _with_origin_hashes(draft, items, str(record["id"]))
    covers = _verified_consents(session, unit.payload.get("consents", []))
    us = Recipient(node.config.nation, record["recipient"].get("agency") or node.config.agency)
    foreign = recipient_agency_problem(us, registry)
    if foreign is not None and us.agency in registry.agencies:  # an agency we do not know is judged by the rules
        raise Forbidden(f"release.recipient.agency: {foreign}", rule="not-releasable-to-us")
    maker = Maker(peer.nation, peer.agency)
    table = node.table(session)
    problems = []
    for key, marking, item_hash in _items(draft):
        covering = [c for c in covers if c.grantor_nation == marking.originator_nation and c.covers_item(item_hash, 0)]
        if marking.originator_nation == node.config.nation:
            continue  # our own information coming back is not a third party's
        if key == "title" and draft.title.text == WITHHELD_TITLE:
            continue  # a placeholder that says only that the title stayed behind
        rule = release_rule(marking, us, maker, registry, table, covering)
        if rule is not None:
            problems.append(Problem(key, f"not releasable to {us.nation}: {rule.value}", record.get("id")))
    if problems:
        raise Forbidden("; ".join(f"{p.field}: {p.reason}" for p in problems), rule="not-releasable-to-us")
    report_id = _store(session, node, draft)
    expires = clock.parse_timestamp(record["expires_at"])
    for _, _marking, item_hash in _items(draft):
        session.add(_delivery(peer, node, record, item_hash, expires))
    originator = draft.title.marking
    session.add(
        ReceivedRelease(
            release_id=record["id"],
            report_stix_id=report_id,
            originator_nation=originator.originator_nation,
            originator_agency=originator.originator_agency,
            sender_nation=peer.nation,
            banner=record.get("banner", ""),
            record=record,
            received_at=clock.now(),
        )
    )
    changes.note(session, "release-received", report_id, detail={"release": record["id"], "from": peer.nation})
    return str(record["id"])


def _items(draft: ReportDraft) -> list[tuple[str, Any, str]]:
    found = [("title", draft.title.marking, draft.title.origin_hash or "")]
    found += [(f"portion-{i + 1}", p.marking, p.origin_hash or "") for i, p in enumerate(draft.portions)]
    found += [(o.stix_id, o.marking, o.origin_hash or "") for o in draft.objects]
    return found


def _with_origin_hashes(draft: ReportDraft, items: dict[str, str], release_id: str) -> ReportDraft:
    def hashed(key: str) -> str:
        if key not in items:
            raise InvalidInput(Problem("items", f"the release names no hash for {key}"))
        return items[key]

    if "title" not in items and draft.title.text == WITHHELD_TITLE:
        # The tearline withheld the title; the placeholder is ours, named after the release.
        items = {**items, "title": hashlib.sha256(f"withheld-title:{release_id}".encode()).hexdigest()}
    return replace(
        draft,
        title=replace(draft.title, origin_hash=hashed("title")),
        portions=tuple(replace(p, origin_hash=hashed(f"portion-{i + 1}")) for i, p in enumerate(draft.portions)),
        objects=tuple(replace(o, origin_hash=hashed(o.stix_id)) for o in draft.objects),
        received=True,
        workspace=None,  # a partner's workspace is not ours: a received copy sits in none of ours
        extra={},
    )


def _store(session: Session, node: Node, draft: ReportDraft) -> str:
    service = principal_named(session, SERVICE_ACCOUNT)
    assert service is not None, "every node has its service account"
    existing = report_named(session, draft.stix_id)
    if existing is None:
        return create_report(session, draft, service, node.identity, node.registry(session)).stix_id
    if not existing.received:
        raise Forbidden(f"report {draft.stix_id} is ours; a partner cannot replace it", rule="originator")
    store_received_version(session, existing, draft, service, node.identity, node.registry(session))
    return existing.stix_id


def _delivery(peer: Peer, node: Node, record: dict[str, Any], item_hash: str, expires: datetime) -> Grant:
    return Grant(
        kind="delivery",
        grantor_nation=peer.nation,
        grantor_agency=peer.agency,
        nation=node.config.nation,
        agency=record["recipient"].get("agency"),
        item_hash=item_hash,
        expires_at=expires,
        created_at=clock.now(),
        origin_id=record["id"],
    )


def _verified_consents(session: Session, proofs: list[dict[str, Any]]) -> list[Cover]:
    """Consents the sender used, each checked against its grantor's registered node key."""
    covers = []
    for proof in proofs:
        body, signature = proof.get("body", {}), proof.get("signature", "")
        grantor = session.get(Peer, body.get("grantor", {}).get("nation", ""))
        if grantor is None:
            continue  # we cannot check a consent from a node we do not know: it does not count
        try:
            public_key(grantor.vkey).verify(base64.b64decode(signature), canonical(body))
        except (InvalidSignature, ValueError):
            continue
        expires = clock.parse_timestamp(body["expires_at"])
        recipient = body.get("recipient", {})
        for item_hash in body.get("item_hashes", []):
            covers.append(
                Cover(
                    "consent",
                    grantor.nation,
                    recipient.get("nation", ""),
                    recipient.get("agency"),
                    item_hash,
                    None,
                    expires,
                    False,
                    grantor_agency=body["grantor"]["agency"],
                    origin_id=body.get("id"),
                )
            )
    return [c for c in covers if c.live(clock.now())]


# --- messages ----------------------------------------------------------------------------------


def _apply_recall(session: Session, node: Node, peer: Peer, unit: Unit) -> str:
    """Withdraw our copy on every read path, and recall what we passed on from it."""
    release_id = str(unit.payload["release"])
    held = session.get(ReceivedRelease, release_id)
    if held is None or held.sender_nation != peer.nation:
        return f"{release_id} (not held)"
    now = clock.now()
    held.recalled_at = now
    hashes = recall_grants(session, release_id, now)
    for onward in releases_using(session, hashes):
        if session.get(ReleaseRecall, onward.id) is None:
            reason = f"the originator recalled {release_id}"
            session.add(ReleaseRecall(release_id=onward.id, by=peer.nation, reason=reason, at=now))
            recall_grants(session, onward.id, now)
            enqueue_recall(session, node, onward)
    changes.note(
        session,
        "recall",
        held.report_stix_id,
        role="disclosure_officer",
        detail={"release": release_id, "from": peer.nation},
    )
    return release_id


def _apply_consent_request(session: Session, node: Node, peer: Peer, unit: Unit) -> str:
    message = unit.payload
    if message.get("requester", {}).get("nation") != peer.nation:
        raise Forbidden("a consent request must come from the requester's own node", rule="sender")
    row = consents.receive_consent_request(session, node, message)
    changes.note(session, "consent-request", None, role="disclosure_officer", detail={"request": row.id})
    return row.id


def _apply_consent_answer(session: Session, node: Node, peer: Peer, unit: Unit) -> str:
    consent = consents.receive_consent_answer(session, node, unit.payload, public_key(peer.vkey))
    request = str(unit.payload.get("request"))
    changes.note(
        session,
        "consent-answer",
        None,
        role="disclosure_officer",
        detail={"request": request, "answer": "granted" if consent else "refused"},
    )
    return request


def _apply_consent_revoke(session: Session, node: Node, peer: Peer, unit: Unit) -> str:
    """The originator revoked its consent: it stops covering, and what used it is recalled."""
    consent_id = str(unit.payload.get("consent"))
    held = session.get(Consent, consent_id)
    if held is None or held.grantor_nation != peer.nation:
        raise Forbidden(f"{peer.nation} granted no consent {consent_id} held here", rule="sender")
    recalled = consents.revoke_consent(session, node, consent_id, by=peer.nation)
    changes.note(
        session, "consent-revoke", None, role="disclosure_officer", detail={"consent": consent_id, "recalled": recalled}
    )
    return consent_id


_APPLY = {
    "release": _apply_release,
    "recall": _apply_recall,
    "consent-request": _apply_consent_request,
    "consent-answer": _apply_consent_answer,
    "consent-revoke": _apply_consent_revoke,
}
