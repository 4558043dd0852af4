"""What a disclosure officer sees before deciding: original and tearline side by side."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tearline.db.models import Principal
from tearline.db.release_tables import ReleaseRequest
from tearline.markings.banner import banner_text, portion_mark
from tearline.markings.marking import Marking
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release.tearline import Tearline, nothing_leaves
from tearline.store.reader_versions import report_view
from tearline.store.reads import ReportView, visible_hashes

# Word for word what approving would answer (rule `approver-clearance`): it names and counts nothing.
NOT_CLEARED = "an approver must be cleared for every item that would leave"
EMPTY_TEARLINE = "empty-tearline"  # DESIGN §3.5: an empty tearline is refused


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
    # What would leave, as far as this reviewer may see it (DESIGN §3.3 "Nothing hidden shows"): its
    # banner, title, positions and items are computed over the kept items the reviewer may see, and
    # nothing else. That something else would leave is said only as the approve refusal says it.
    visible = visible_hashes(session, reader, version_id, tearline.kept_hashes)
    shown = [k for k in tearline.kept if k.hash in visible]
    cleared = len(visible) == len(set(tearline.kept_hashes))

    def mark(marking: Marking) -> str:
        return portion_mark(marking, node.config.nation, table)

    return {
        "request": request.id,
        "report": request.report_stix_id,
        "recipient": {"nation": request.recipient_nation, "agency": request.recipient_agency},
        "banner_before": original.banner,
        "banner_after": banner_text([k.marking for k in shown], node.config.nation, table) if shown else "",
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
            "title": next((k.text for k in shown if k.kind == "title"), None),
            "portions": [
                {"number": i + 1, "text": k.text} for i, k in enumerate(k for k in shown if k.kind == "portion")
            ],
            "objects": [{"id": k.stix_id, "name": k.text} for k in shown if k.kind == "object"],
        },
        "reviewer_cleared_for_all_kept": cleared,
        "approval_refused": _approval_refused(request, tearline, original, cleared),
        "purpose": request.purpose,
        "need_to_know": request.need_to_know,
        "expires_at": request.expires_at.isoformat(),
        "state": request.state,
    }


def _approval_refused(request: ReleaseRequest, tearline: Tearline, original: ReportView, cleared: bool) -> Any:
    """Why approving would be refused, as approving would say it. An empty tearline first: one that
    waits for an originator's consent, or that a recall or an expiry emptied since it was requested.
    Its reasons count only the withheld items the reviewer may see."""
    if tearline.empty:
        seen = {p.hash for p in original.portions} | {o.hash for o in original.objects} | {original.title_hash}
        recipient = Recipient(request.recipient_nation, request.recipient_agency)
        why = nothing_leaves(recipient, [w for w in tearline.withheld if w.hash in seen])
        return {"rule": EMPTY_TEARLINE, "message": why.reason}
    return None if cleared else {"rule": "approver-clearance", "message": NOT_CLEARED}


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
