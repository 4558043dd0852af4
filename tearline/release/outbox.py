"""The transactional outbox: messages for partner nodes, written in the same transaction as the
step they report. Federation delivers them; until then they wait here, complete or not at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.release_tables import Consent, OutboxMessage, Release
from tearline.node import Node
from tearline.release.tearline import Tearline
from tearline.stix.encode import bundle_for, restamp
from tearline.store import changes
from tearline.store.reads import ObjectView, PortionView, ReportView


def enqueue(session: Session, node: Node, kind: str, destination: str, payload: dict[str, Any]) -> OutboxMessage:
    """Write a message for `destination` and its sealed unit in that partner's feed, in the caller's
    transaction: the step it reports, the message and what the partner can pull commit together."""
    from tearline.federation.feed import publish  # federation builds on release; import at use

    message = OutboxMessage(kind=kind, destination=destination, payload=payload, created_at=clock.now())
    session.add(message)
    session.flush()
    publish(session, node, message)
    return message


def release_record(release: Release) -> dict[str, Any]:
    return {
        "id": release.id,
        "report": release.report_stix_id,
        "version": release.version_number,
        "kept_hashes": list(release.kept_hashes),
        "recipient": {"nation": release.recipient_nation, "agency": release.recipient_agency},
        "determination": release.determination,
        "purpose": release.purpose,
        "need_to_know": release.need_to_know,
        "expires_at": clock.as_utc(release.expires_at).isoformat(),
        "approvers": list(release.approvers),
        "consents_used": list(release.consents_used),
        "banner": release.banner,
        "audit_index": release.audit_index,
    }


def enqueue_release(session: Session, node: Node, release: Release, tearline: Tearline) -> OutboxMessage:
    """The release for its recipient: the tearline, numbered and dated as the recipient sees it.

    Our stored version number and its time would tell the partner of every edit to an item the
    tearline withholds (DESIGN §3.3), so the record and the report's times name the recipient's
    version instead (`versions.recipient_version`), which the release record keeps. The times are
    stamped before the seal is made, so push and pull carry these bytes.
    """
    from tearline.release.versions import record_recipient_version  # it reads consents, which build on the outbox

    seen = record_recipient_version(session, node, tearline, release)
    maker = f"{node.config.nation}/{node.config.agency}"
    bundle = bundle_for([tearline_view(tearline, release, maker)], node.config.nation, node.config.agency)
    payload = {
        "release": {**release_record(release), "version": seen.number},
        "items": item_keys(tearline),
        "consents": consent_proofs(session, release.consents_used),
        "bundle": restamp(bundle, release.report_stix_id, seen.times),
    }
    return enqueue(session, node, "release", release.recipient_nation, payload)


def item_keys(tearline: Tearline) -> dict[str, str]:
    """Each kept item's place in the tearline -> its hash, so the partner's copy keeps our hashes."""
    keys = {}
    for item in tearline.kept:
        key = {"title": "title", "portion": f"portion-{item.number}"}.get(item.kind, item.stix_id or "")
        keys[key] = item.hash
    return keys


def consent_proofs(session: Session, consent_ids: list[str]) -> list[dict[str, Any]]:
    """The originators' signed consents a release used, so the recipient can check them itself."""
    proofs = []
    for consent_id in consent_ids:
        consent = session.get(Consent, consent_id)
        if consent is not None:
            proofs.append({"body": consent.body, "signature": consent.signature})
    return proofs


def enqueue_recall(session: Session, node: Node, release: Release) -> OutboxMessage:
    """Tell the recipient that a release of ours is recalled, and our officers too (the live stream).

    Every recall of ours comes through here: an officer's, and those a revoked consent or the
    originator's recall of what we passed on make. The stream sends the officers' event only to
    officers and auditors who may see an item the release kept (`routes_stream._sees_subject`), as
    the releases list shows it; our own copy is not recalled, so they see it as before.
    """
    recipient = {"nation": release.recipient_nation, "agency": release.recipient_agency}
    detail = {"release": release.id, "request": release.request_id, "recipient": recipient}
    changes.note(session, "release-recall", release.report_stix_id, role="disclosure_officer", detail=detail)
    return enqueue(
        session, node, "recall", release.recipient_nation, {"release": release.id, "report": release.report_stix_id}
    )


def tearline_view(tearline: Tearline, release: Release, maker: str) -> ReportView:
    """The tearline as a report view, so that it is encoded exactly like any export."""
    title = next((k for k in tearline.kept if k.kind == "title"), None)
    portions = [PortionView(k.number, k.text, k.marking, k.hash) for k in tearline.kept if k.kind == "portion"]
    objects = [
        ObjectView(
            k.stix_id or "",
            k.stix_type or "",
            k.text,
            k.body,
            k.marking,
            tearline.report,
            k.hash,
            k.observed_at,
            k.latitude,
            k.longitude,
        )
        for k in tearline.kept
        if k.kind == "object"
    ]
    return ReportView(
        stix_id=tearline.report,
        version=tearline.version,
        versions=1,
        title=title.text if title else None,
        title_marking=title.marking if title else None,
        banner=tearline.banner,
        portions=portions,
        objects=objects,
        predicate=tearline.predicate or _onward_predicate(release, maker),
        need_to_know=release.need_to_know,
        # A partner's record goes on with no review date of its own: the copy lapses with the release.
        review_due=tearline.review_due or release.expires_at,
        title_hash=title.hash if title else None,
    )


def _onward_predicate(release: Release, maker: str) -> str:
    """A partner's record passed on under its consent: the partner's criminal predicate stays with the
    partner (it is no item a consent covers), and the recipient is told where it is recorded."""
    return (
        f"Criminal predicate recorded by the originator of this record; passed on by {maker} under the "
        f"originator's consent, for: {release.purpose}"
    )


def pending(session: Session, destination: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None)).order_by(OutboxMessage.id)
    if destination:
        query = query.where(OutboxMessage.destination == destination)
    return list(session.scalars(query))
