"""Differential test: the SQL filter and the per-item decision give the same answers.

`tearline.store.filters` (bulk, inside SQL) and `tearline.markings.visibility.decide` (one item
at a time, with `item_facts`) must agree for every principal and every item of random worlds.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Grant, MarkingRow, Portion, StixObject
from tearline.markings.visibility import Cover, ItemState, decide, item_facts
from tearline.store.audience import AudienceSnapshot, marking_from_body
from tearline.store.filters import item_visible, object_visible
from tests.conftest import NodeFactory
from tests.leak.test_leak_harness import NOW, build
from tests.leak.world import ORCON_DELIVERED, WorldSpec, worlds


def _per_item(built, username: str) -> tuple[set[int], set[int]]:  # type: ignore[no-untyped-def]
    node = built.node
    reader = node.reader(built.rows[username])
    with node.db.read() as session:
        table = node.table(session)
        covers = [
            Cover(
                g.kind,
                g.grantor_nation,
                g.nation,
                g.agency,
                g.item_hash,
                g.report_version_id,
                g.expires_at,
                g.recalled_at is not None,
            )
            for g in session.scalars(select(Grant))
        ]
        markings = {m.id: marking_from_body(m.body) for m in session.scalars(select(MarkingRow))}

        def allowed(row) -> bool:  # type: ignore[no-untyped-def]
            marking = markings[row.marking_id]
            state = ItemState(row.hash, row.version_id, row.withdrawn, row.received, row.workspace_id)
            facts = item_facts(reader.viewer, marking, state, covers, reader.now, reader.allowed_workspaces)
            return decide(reader.viewer, marking, facts, "USA", table).allowed

        portions = {p.id for p in session.scalars(select(Portion).where(Portion.is_current)) if allowed(p)}
        objects = list(session.scalars(select(StixObject).where(StixObject.is_current)))
        by_ref = {(o.version_id, o.stix_id): o for o in objects}

        def object_allowed(o: StixObject) -> bool:
            ends = [by_ref.get((o.version_id, ref)) for ref in (o.source_ref, o.target_ref) if ref]
            return allowed(o) and all(e is not None and allowed(e) for e in ends)

        return portions, {o.id for o in objects if object_allowed(o)}


# A snapshot taken before any marking was stored: every marking is newer than it, so each row goes
# through the `newest` branch to the audience probe.
_BEFORE_ANY_MARKING = AudienceSnapshot(plain=(), searchable=(), covered=(), newest=0)


def _in_sql(built, username: str) -> tuple[set[int], set[int]]:  # type: ignore[no-untyped-def]
    """What the SQL filter admits, the same in each form it takes; the test fails on any difference."""
    node = built.node
    reader = node.reader(built.rows[username])
    assert reader.audience is not None  # the node's readers carry their audience as constants
    forms = {
        "snapshot, walking": (reader, False),
        "snapshot, by marking": (reader, True),
        "snapshot before any marking": (replace(reader, audience=_BEFORE_ANY_MARKING), False),
        "audience probe alone": (replace(reader, audience=None), False),
    }
    answers = {}
    with node.db.read() as session:
        for form, (r, by_marking) in forms.items():
            portions = select(Portion.id).where(item_visible(r, Portion, by_marking=by_marking))
            objects = select(StixObject.id).where(object_visible(r, StixObject))
            answers[form] = (set(session.scalars(portions)), set(session.scalars(objects)))
    first = answers["snapshot, walking"]
    assert all(answer == first for answer in answers.values()), {k: v == first for k, v in answers.items()}
    return first


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
@example(spec=ORCON_DELIVERED)
def test_sql_filter_equals_per_item_decision(make_node: NodeFactory, spec: WorldSpec) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        for username in built.principals:
            assert _in_sql(built, username) == _per_item(built, username)
