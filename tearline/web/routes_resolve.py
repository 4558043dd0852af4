"""Resolved entities, the analysts' review queue and their decisions; every read and decision audited.

Each answer is computed over what the caller may see (tearline.resolve.entities): a hidden person,
or a decision about one, answers the same 404 as a missing one.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tearline.errors import Forbidden
from tearline.resolve import entities, incremental
from tearline.store.filters import Reader
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.audited import audited, reader_of

router = APIRouter(tags=["entities"])
_resolvers: dict[str, incremental.IncrementalResolver] = {}
_lock = threading.Lock()


def _resolver(session: Session) -> incremental.IncrementalResolver:
    trained = incremental.kept_model(session)
    key = hashlib.sha256(trained.dumps().encode()).hexdigest()
    with _lock:  # building one compiles the model's SQL: once per kept model
        if key not in _resolvers:
            _resolvers.clear()
            _resolvers[key] = incremental.IncrementalResolver(trained)
        return _resolvers[key]


def _require_analyst(reader: Reader) -> None:
    if "analyst" not in reader.roles:
        raise Forbidden("entity-resolution decisions are for analysts", rule="analyst-role")


@router.get("/entities/{stix_id}")
def read_entity(stix_id: str, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.read", [stix_id]) as (session, reader, trail):
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
def list_reviews(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.reviews") as (session, reader, trail):
        items = entities.review_queue(session, reader_of(reader))
        trail.objects = [s for item in items for s in item["members"]]
    return {"total": len(items), "items": items}


@router.post("/resolve/decisions/{decision_id}/confirm")
def confirm_decision(decision_id: int, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.confirm", [f"decision:{decision_id}"]) as (session, reader, trail):
        _require_analyst(reader_of(reader))
        decision = entities.decision_for(session, reader_of(reader), decision_id)
        trail.objects += [decision.member_a, decision.member_b]
        incremental.confirm(session, decision_id, principal.username)
        return {"decision": decision_id, "state": decision.state}


@router.post("/resolve/decisions/{decision_id}/split")
def split_decision(decision_id: int, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited(node, principal, "entity.split", [f"decision:{decision_id}"]) as (session, reader, trail):
        _require_analyst(reader_of(reader))
        decision = entities.decision_for(session, reader_of(reader), decision_id)
        trail.objects += [decision.member_a, decision.member_b]
        incremental.split(session, decision_id, principal.username)
        return {"decision": decision_id, "state": decision.state}


@router.post("/resolve/run")
def run_resolution(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Resolve every person not resolved yet against those that are. The node's own work covers
    persons the caller may not see, so the answer says nothing about them, not even how many."""
    with audited(node, principal, "entity.resolve") as (session, reader, trail):
        _require_analyst(reader_of(reader))
        persons = entities.unresolved_persons(session)
        outcomes = _resolver(session).add(session, persons, principal.username)
        trail.objects = [o.stix_id for o in outcomes]
    return {"status": "done"}
