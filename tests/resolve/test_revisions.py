"""A new version of a report re-resolves what it changed: through the store's edit path and the
arrival queue, on SQLite and PostgreSQL, audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.models import Principal
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.fixtures import build_demo, us_marking
from tearline.node import Node
from tearline.resolve import arrivals
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import create_report, edit_report

FIRST, SECOND = (
    "x-tearline-phone--6b1f3a0e-0000-4000-8000-000000000001",
    "x-tearline-phone--6b1f3a0e-0000-4000-8000-000000000002",
)


def _draft(node: Node, numbers: dict[str, str]) -> ReportDraft:
    with node.db.read() as session:
        marking = us_marking(node.registry(session), ["USA", "MEX"])
    phones = tuple(ObjectDraft(i, "x-tearline-phone", {"number": n}, marking, name=n) for i, n in numbers.items())
    return ReportDraft(
        title=PortionDraft("Fictional phones of a test case", marking),
        portions=(PortionDraft("Two handsets seen at a fictional warehouse.", marking),),
        predicate="Reasonable suspicion of narcotics distribution (fictional test case).",
        review_due=clock.now() + timedelta(days=90),
        objects=phones,
    )


def _ana(session: Session) -> Principal:
    ana = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
    assert ana is not None
    return ana


def test_an_edited_report_re_resolves_the_phone_it_changed(node: Node) -> None:
    build_demo(node)
    with node.db.write() as session:
        stix_id = create_report(
            session,
            _draft(node, {FIRST: "+52 (662) 123-4567", SECOND: "+52 662 123 4567"}),
            _ana(session),
            node.identity,
            node.registry(session),
        ).stix_id
    arrivals.drain(node)
    with node.db.read() as session:
        [merge] = session.scalars(select(ResolveDecision).where(ResolveDecision.member_b.in_((FIRST, SECOND))))
        assert merge.kind == "merge" and merge.state == "auto"

    with node.db.write() as session:  # the second number was mistyped: a new version corrects it
        draft = _draft(node, {FIRST: "+52 (662) 123-4567", SECOND: "+52 662 765 4321"})
        edit_report(session, stix_id, draft, _ana(session), node.identity, node.registry(session), True)
    drained = arrivals.drain(node)

    with node.db.read() as session:
        assert session.get(ResolveDecision, merge.id).state == "superseded"  # type: ignore[union-attr]
        members = {m.stix_id: m for m in session.scalars(select(ResolveMember).where(ResolveMember.kind == "phone"))}
        assert members[FIRST].entity_id != members[SECOND].entity_id
        assert members[SECOND].features["number"] == "+526627654321"
        hits = search(session, Query(object_id=f"decision:{merge.id}", limit=10)).hits
    assert drained.resolved == 2  # both phones came again; only the changed one was revised
    assert [h.event.action for h in hits] == ["entity.resolve", "entity.resolve"]  # made, then superseded
