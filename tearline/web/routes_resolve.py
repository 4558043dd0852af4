"""Resolved entities, the analysts' review queue and their decisions; every read and decision audited.

Each answer is computed over what the caller may see (tearline.resolve.entities): a hidden person,
or a decision about one, answers the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tearline import journal
from tearline.errors import Forbidden
from tearline.resolve import arrivals, entities, incremental
from tearline.store.filters import Reader
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.audited import audited, audited_read, reader_of
from tearline.web.params import INT_MAX, PathId

router = APIRouter(tags=["entities"])
MAX_REVIEWS = 200  # decisions on one page of the review queue


def _require_analyst(reader: Reader) -> None:
    if "analyst" not in reader.roles:
        raise Forbidden("entity-resolution decisions are for analysts", rule="analyst-role")


@router.get("/entities/{stix_id}")
def read_entity(stix_id: str, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited_read(node, principal, "entity.read", [stix_id]) as (session, reader, trail):
        view = entities.entity_view(session, reader_of(reader), node.table(session), node.config.nation, stix_id)
        trail.objects = [m.stix_id for m in view.members]
        trail.marking = view.banner
    return {
        "banner": view.banner,
        "members": [{"id": m.stix_id, "name": m.name, "originator": m.originator, "hash": m.hash}
                    for m in view.members],
        "member_count": len(view.members),
        "attributes": view.attributes,
        "links": view.links,
        "sources": view.sources,
    }


@router.get("/resolve/reviews")
def list_reviews(
    node: NodeDep,
    principal: PrincipalDep,
    after: Annotated[
        int, Query(ge=0, le=INT_MAX, description="Only decisions after this one (the last of the page before).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_REVIEWS, description="Decisions on one page.")] = 50,
) -> dict[str, Any]:
    """A page of pending reviews whose two members the caller may both see, oldest first. `next` is
    the `after` of the following page, or null on the last; no count of the rest is given, since it
    would count what the caller may not see."""
    with audited_read(node, principal, "entity.reviews") as (session, reader, trail):
        # One more than the page, to know whether another page follows (it is not shown, nor logged).
        items = entities.review_queue(session, reader_of(reader), limit=limit + 1, after=after)
        more, items = len(items) > limit, items[:limit]
        trail.objects = [s for item in items for s in item["members"]]
    return {"total": len(items), "items": items, "next": items[-1]["decision"] if more else None}


@router.post("/resolve/decisions/{decision_id}/confirm")
def confirm_decision(decision_id: PathId, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.confirm", [f"decision:{decision_id}"]) as (session, reader, trail):
        _require_analyst(reader_of(reader))
        decision = entities.decision_for(session, reader_of(reader), decision_id)
        trail.objects += [decision.member_a, decision.member_b]
        incremental.confirm(session, decision_id, principal.username)
        return {"decision": decision_id, "state": decision.state}


@router.post("/resolve/decisions/{decision_id}/split")
def split_decision(decision_id: PathId, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.split", [f"decision:{decision_id}"]) as (session, reader, trail):
        _require_analyst(reader_of(reader))
        decision = entities.decision_for(session, reader_of(reader), decision_id)
        trail.objects += [decision.member_a, decision.member_b]
        incremental.split(session, decision_id, principal.username)
        return {"decision": decision_id, "state": decision.state}


@router.post("/resolve/run")
def run_resolution(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Resolve now whatever is not resolved yet (arrivals are resolved as they arrive; this also
    covers objects stored before that). The node's own work covers objects the caller may not see,
    so the answer says nothing about them, not even how many."""
    with audited(node, principal, "entity.resolve") as (session, reader, trail):
        _require_analyst(reader_of(reader))
        incremental.kept_model(session)  # persons need a model: say so rather than leave them queued
        arrivals.note_unresolved(session)
        done = arrivals.drain_in(session, node, principal.username)
        trail.objects = done.stix_ids
    return {"status": "done"}


TRAINERS = frozenset({"analyst", "admin"})


@router.post("/resolve/train")
def train_model(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Train the model by EM on the node's persons and the analysts' decisions, keep it, and resolve
    the persons that waited for one. The answer names the kept model only: how many persons it
    learned from would count persons the caller may not see."""
    from tearline.resolve.train import train_and_keep

    if not TRAINERS & set(principal.roles):
        with audited(node, principal, "entity.train"):
            raise Forbidden("training the entity-resolution model is for analysts and admins", rule="analyst-role")

    def audit(session: Session, model_id: int) -> None:
        journal.record(session, node, principal, "entity.train", [f"model:{model_id}"])

    trained = train_and_keep(node, audit=audit)  # EM runs outside any transaction
    arrivals.drain(node)
    return {"status": "kept", "model": trained.model_id}
