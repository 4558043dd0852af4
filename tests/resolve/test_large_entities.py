"""An entity of tens of thousands of members (a phone many records share), on SQLite and PostgreSQL:
splitting it and reading it never sends its members as one list of parameters (PostgreSQL takes at
most 65,535 in one statement)."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import func, insert, select

from tearline import clock
from tearline.db.models import Principal
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.node import Node
from tearline.resolve import entities, incremental
from tearline.store.principals import add_principal
from tests.conftest import detached_principal

MEMBERS = 40_000


def _chain(node: Node) -> tuple[list[str], list[int]]:
    """One phone entity of MEMBERS members, each merged with the one before it."""
    now, entity = clock.now(), "entity--large"
    ids = [f"x-tearline-phone--{uuid.uuid4()}" for _ in range(MEMBERS)]
    members = [
        {
            "stix_id": s,
            "kind": "phone",
            "entity_id": entity,
            "features": {"number": "+526621234567"},
            "match_key": "+526621234567",
            "created_at": now,
        }
        for s in ids
    ]
    merges = [
        {
            "kind": "merge",
            "state": "auto",
            "member_a": a,
            "member_b": b,
            "probability": 1.0,
            "match_weight": 19.9,
            "explanation": [],
            "decided_by": "test",
            "created_at": now,
            "decided_at": now,
        }
        for a, b in itertools.pairwise(ids)
    ]
    with node.db.write() as session:
        session.execute(insert(ResolveMember), members)
        session.execute(insert(ResolveDecision), merges)
        decisions = list(session.scalars(select(ResolveDecision.id).order_by(ResolveDecision.id)))
    return ids, decisions


def _analyst(node: Node) -> Principal:
    with node.db.write() as session:
        add_principal(session, "big.analyst", "USA", node.config.agency, "SECRET", roles=["analyst"])
    return detached_principal(node, "big.analyst")


def test_splitting_a_large_entity_divides_it_where_the_link_was(node: Node) -> None:
    ids, decisions = _chain(node)
    with node.db.write() as session:
        incremental.split(session, decisions[MEMBERS // 2 - 1], "analyst")  # between the halves
        sizes = dict(
            session.execute(select(ResolveMember.entity_id, func.count()).group_by(ResolveMember.entity_id)).all()
        )
        first, last = (
            session.scalar(select(ResolveMember.entity_id).where(ResolveMember.stix_id == s)) for s in (ids[0], ids[-1])
        )
    assert sorted(sizes.values()) == [MEMBERS // 2, MEMBERS // 2]
    assert first == "entity--large" and last != first  # the older half keeps the entity's name


def test_standing_links_and_visible_members_of_a_large_entity_are_found(node: Node) -> None:
    ids, _ = _chain(node)
    reader = node.reader(_analyst(node))
    with node.db.read() as session:
        links = entities.standing_within(session, "entity--large", set(ids[: MEMBERS // 4]))
        # None of these ids is a stored object, so none is visible: the answer is empty, not an error.
        assert (
            entities.visible_members(session, reader, [*ids, *(f"identity--{uuid.uuid4()}" for _ in range(30_000))])
            == {}
        )
    assert len(links) == MEMBERS // 4 - 1 and all(d.state == "auto" for d in links)
