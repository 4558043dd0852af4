"""Console pages of entity resolution: the analysts' review queue, one decision side by side, confirm or split.

The queue and the decisions go through the API's route functions, so they are authorised, decided
and audited exactly as there. A decision's page reads as the API's entity reads do (`entity.read`):
only decisions whose two members the reader may both see, each member's entity as they may see it,
and a hidden decision answers the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tearline.errors import Conflict
from tearline.markings.banner import banner_text, portion_mark
from tearline.resolve import entities
from tearline.web import routes_resolve
from tearline.web.app import NodeDep
from tearline.web.audited import audited_read, reader_of
from tearline.web.console.pages import PageRoute, Reader, Writer, render
from tearline.web.params import INT_MAX, PathId

router = APIRouter(route_class=PageRoute, include_in_schema=False)
OUTCOMES = ("confirmed", "split")
PAGE = 50  # pending pairs on a page of the queue


@router.get("/entities/reviews")
def reviews(request: Request, node: NodeDep, principal: Reader) -> Response:
    """Pending decisions whose two members the reader may both see; nothing is said of the others."""
    after = _number(request, "after", 0)
    limit = min(max(_number(request, "limit", PAGE), 1), routes_resolve.MAX_REVIEWS)
    page = routes_resolve.list_reviews(node, principal, after=after, limit=limit)  # oldest first
    items = page["items"]
    banner = None
    if items:  # the banner of the names listed, from their markings (as the inbox rolls up its reports')
        with node.db.read() as session:
            shown = entities.visible_members(session, node.reader(principal), {s for i in items for s in i["members"]})
            banner = banner_text([m.marking for m in shown.values()], node.config.nation, node.table(session))
    outcome = request.query_params.get("outcome")
    decided = request.query_params.get("decision", "")
    return render(
        request,
        "entity_reviews.html",
        principal,
        banner=banner,
        items=items,
        after=after,
        next_page=f"/entities/reviews?after={page['next']}&limit={limit}" if page["next"] else None,
        outcome=outcome if outcome in OUTCOMES else None,
        decided=int(decided) if decided.isdigit() else None,
    )


def _number(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name, "")
    return min(int(text), INT_MAX) if text.isdigit() else default  # past a database integer: as far as it goes


@router.get("/entities/reviews/{decision_id}")
def review(decision_id: PathId, request: Request, node: NodeDep, principal: Reader) -> Response:
    return _review(request, node, principal, decision_id)


def _review(request: Request, node: Any, principal: Any, decision_id: int, error: Conflict | None = None) -> Response:
    nation = node.config.nation
    with audited_read(node, principal, "entity.read", [f"decision:{decision_id}"]) as (session, reader, trail):
        decision = entities.decision_for(session, reader_of(reader), decision_id)
        pair = (decision.member_a, decision.member_b)
        table = node.table(session)
        views = [entities.entity_view(session, reader_of(reader), table, nation, stix_id) for stix_id in pair]
        shown = {m.stix_id: m for view in views for m in view.members}
        trail.objects += sorted(shown)
        trail.marking = banner_text([m.marking for m in shown.values()], nation, table)
        sides = [_side(view, stix_id, nation, table) for view, stix_id in zip(views, pair, strict=True)]
        shown_decision = {
            "id": decision.id,
            "kind": decision.kind,
            "state": decision.state,
            "match_probability": decision.probability,
            "match_weight": decision.match_weight,
            "explanation": decision.explanation,
        }
    return render(
        request,
        "entity_review.html",
        principal,
        banner=trail.marking,
        decision=shown_decision,
        sides=sides,
        error=error,
        status=error.status if error else 200,
    )


def _side(view: entities.EntityView, stix_id: str, nation: str, table: Any) -> dict[str, Any]:
    """One member of a decision, with the rest of its entity as the reader sees it."""
    member = next(m for m in view.members if m.stix_id == stix_id)
    return {
        "id": member.stix_id,
        "name": member.name,
        "originator": member.originator,
        "mark": portion_mark(member.marking, nation, table),
        "kind": view.kind,
        "others": [m.name for m in view.members if m.stix_id != stix_id],
        "attributes": view.attributes,
    }


@router.post("/entities/reviews/{decision_id}/confirm")
def confirm(decision_id: PathId, request: Request, node: NodeDep, principal: Writer) -> Response:
    try:
        routes_resolve.confirm_decision(decision_id, node, principal)
    except Conflict as err:  # decided meanwhile: show where it stands
        return _review(request, node, principal, decision_id, err)
    return RedirectResponse(f"/entities/reviews?outcome=confirmed&decision={decision_id}", status_code=303)


@router.post("/entities/reviews/{decision_id}/split")
def split(decision_id: PathId, request: Request, node: NodeDep, principal: Writer) -> Response:
    try:
        routes_resolve.split_decision(decision_id, node, principal)
    except Conflict as err:
        return _review(request, node, principal, decision_id, err)
    return RedirectResponse(f"/entities/reviews?outcome=split&decision={decision_id}", status_code=303)
