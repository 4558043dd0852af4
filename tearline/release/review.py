"""What a disclosure officer sees before deciding: original and tearline side by side."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tearline.db.models import Principal
from tearline.db.release_tables import ReleaseRequest
from tearline.markings.banner import portion_mark
from tearline.markings.marking import Marking
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release.tearline import Tearline
from tearline.store.reads import report_view, visible_hashes


def effective_clearance(node: Node, session: Session, recipient: Recipient) -> dict[str, Any]:
    """The most the recipient may receive from this node: the agreement's ceiling in the recipient's labels."""
    table = node.table(session)
    agreement = table.agreement(node.config.nation, recipient.nation)
    if agreement is None:
        return {"agreement": None, "common_level": None, "label": None, "table_version": table.version}
    return {
        "agreement": agreement.name,
        "common_level": agreement.ceiling,
        "label": agreement.highest_label(recipient.nation, agreement.ceiling),
        "table_version": table.version,
    }


def review_data(
    session: Session, node: Node, reviewer: Principal, request: ReleaseRequest, tearline: Tearline, version_id: int
) -> dict[str, Any]:
    """The review screen: only what the reviewer may see, each item marked kept or withheld (and why)."""
    reader = node.reader(reviewer, session)
    table = node.table(session)
    original = report_view(session, reader, table, request.report_stix_id)
    withheld = {w.hash: w.rule for w in tearline.withheld}
    kept = {k.hash: k for k in tearline.kept}
    def mark(marking: Marking) -> str:
        return portion_mark(marking, node.config.nation, table)

    seen = {p.hash for p in original.portions} | {o.hash for o in original.objects} | {original.title_hash}
    return {
        "request": request.id,
        "report": request.report_stix_id,
        "recipient": {"nation": request.recipient_nation, "agency": request.recipient_agency},
        "banner_before": original.banner,
        "banner_after": tearline.banner,
        "recipient_clearance": effective_clearance(
            node, session, Recipient(request.recipient_nation, request.recipient_agency)
        ),
        "original": {
            "title": original.title,
            "portions": [
                {**_side(p.number, p.text, p.hash, withheld, kept), "mark": mark(p.marking)} for p in original.portions
            ],
            "objects": [
                {**_side(None, o.name, o.hash, withheld, kept, o.stix_id), "mark": mark(o.marking)}
                for o in original.objects
            ],
        },
        "tearline": {
            "title": next((k.text for k in tearline.kept if k.kind == "title"), None),
            "portions": [
                {"number": k.number, "text": k.text} for k in tearline.kept if k.kind == "portion" and k.hash in seen
            ],
            "objects": [
                {"id": k.stix_id, "name": k.text} for k in tearline.kept if k.kind == "object" and k.hash in seen
            ],
        },
        "reviewer_cleared_for_all_kept": len(visible_hashes(session, reader, version_id, tearline.kept_hashes))
        == len(set(tearline.kept_hashes)),
        "purpose": request.purpose,
        "need_to_know": request.need_to_know,
        "expires_at": request.expires_at.isoformat(),
        "state": request.state,
    }


def _side(
    number: int | None,
    text: str,
    item_hash: str,
    withheld: dict[str, str],
    kept: dict[str, Any],
    stix_id: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"text": text, "kept": item_hash in kept, "withheld_by": withheld.get(item_hash)}
    if number is not None:
        out["number"] = number
    if stix_id is not None:
        out["id"] = stix_id
    return out
