"""Entity-resolution read paths held to the oracle: entity views, the review queue and decisions.

Random worlds (as in test_leak_harness) get random merges and reviews between their identities,
resolved as persons, organisations, phones or vehicles (one kind a world: the paths are the same,
the attributes rolled up differ). A reader's entity around a visible member must be exactly the
component of standing merges among the members the oracle lets them see (content included: hidden
source fields exclude, as from search), its attributes and banner must come from those only, and a
hidden member or a decision about one must answer like a missing one.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tearline import clock
from tearline.db.models import StixObject
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.errors import NotFound
from tearline.markings.banner import banner_text
from tearline.resolve import entities
from tests.conftest import NodeFactory
from tests.leak import oracle
from tests.leak.test_leak_harness import NOW, Built, _marking_of, build, expected
from tests.leak.world import WorldSpec, worlds

KINDS = {"person": "given_all", "organization": "name", "phone": "number", "vehicle": "plate"}


def _link(session: Any, built: Built, seed: int) -> tuple[list[str], list[ResolveDecision], str]:
    """Every current identity becomes a member of one kind; random merges (standing or split) and reviews."""
    rng = random.Random(seed)
    resolved_as = rng.choice(sorted(KINDS))
    ids = sorted({r.stix_id for _, r in built.items if isinstance(r, StixObject) and r.stix_type == "identity"})
    decisions = []
    for a in ids:
        for b in ids:
            if a < b and rng.random() < 0.5:
                state = rng.choice(["auto", "confirmed", "pending", "split"])
                kind = {"auto": "merge", "split": "merge"}.get(state, "review")
                decisions.append(ResolveDecision(
                    kind=kind, state=state, member_a=a, member_b=b, probability=rng.random(), match_weight=1.0,
                    explanation=[{"comparison": "given", "level": "exact", "match_weight": 1.0}],
                    decided_by="test", created_at=NOW))
    parent = {s: s for s in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for d in decisions:
        if d.state in ("auto", "confirmed"):
            parent[find(d.member_a)] = find(d.member_b)
    for s in ids:
        features: dict[str, Any] = {KINDS[resolved_as]: f"NAME-{s}"}
        if resolved_as == "person":
            features["phones"] = [f"+5200{len(s)}"]
        session.add(ResolveMember(stix_id=s, kind=resolved_as, entity_id=f"entity--{find(s)}", created_at=NOW,
                                  features=features))
    session.add_all(decisions)
    session.flush()
    return ids, decisions, resolved_as


def _visible(built: Built, p: oracle.P) -> dict[str, oracle.X]:
    """Persons the oracle lets p see with their content (no hidden source field)."""
    _, objects = expected(built, p)
    return {r.stix_id: x for x, r in objects if r.stix_type == "identity"
            and (not x.source_fields or oracle.sees_source(p, x))}


def _component(start: str, members: set[str], decisions: list[ResolveDecision]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for d in decisions:
            if d.state in ("auto", "confirmed") and current in (d.member_a, d.member_b):
                other = d.member_b if current == d.member_a else d.member_a
                if other in members and other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def _check(built: Built, username: str, ids: list[str], decisions: list[ResolveDecision], kind: str) -> None:
    p = built.principals[username]
    visible = _visible(built, p)
    reader = built.node.reader(built.rows[username])
    with built.node.db.read() as session:
        table = built.node.table(session)
        for stix_id in ids:
            if stix_id not in visible:
                with pytest.raises(NotFound):
                    entities.entity_view(session, reader, table, "USA", stix_id)
                continue
            view = entities.entity_view(session, reader, table, "USA", stix_id)
            want = _component(stix_id, set(visible), decisions)
            assert {m.stix_id for m in view.members} == want
            attribute = "given_names" if kind == "person" else KINDS[kind]
            assert view.kind == kind and view.attributes[attribute] == sorted(f"NAME-{s}" for s in want)
            assert view.banner == banner_text([_marking_of(visible[s]) for s in want], "USA", table)
            for link in view.links:
                assert set(link["members"]) <= want
            assert {h["hash"] for h in view.sources} == {m.hash for m in view.members}
        queue = entities.review_queue(session, reader, limit=10_000)
        pending = {d.id for d in decisions if d.state == "pending" and d.member_a in visible and d.member_b in visible}
        assert {item["decision"] for item in queue} == pending
        for d in decisions:
            if d.member_a in visible and d.member_b in visible:
                assert entities.decision_for(session, reader, d.id).id == d.id
            else:
                with pytest.raises(NotFound):
                    entities.decision_for(session, reader, d.id)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds(), seed=st.integers(0, 10_000))
def test_entity_paths_obey_the_oracle(make_node: NodeFactory, spec: WorldSpec, seed: int) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        with built.node.db.write() as session:
            ids, _, kind = _link(session, built, seed)
            stored = list(session.scalars(select(ResolveDecision)))
            for d in stored:
                session.expunge(d)
        for username in built.principals:
            _check(built, username, ids, stored, kind)

