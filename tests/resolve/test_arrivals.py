"""Arrivals are noted in the storing transaction and resolved right after it: by ingest, by the API
and by a partner's release; persons wait for a model; a failed drain loses nothing; all audited."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.resolve_tables import ResolveArrival, ResolveDecision, ResolveMember
from tearline.federation import receive
from tearline.ingest import ingest_bundle
from tearline.node import Node
from tearline.resolve import arrivals, batch, bench, incremental
from tearline.stix.decode import bundle_to_drafts
from tests.stix.factories import NOW, make_node, sample_bundle


@pytest.fixture
def us_node(tmp_path: Path) -> Node:
    with clock.frozen_at(NOW):
        return make_node(tmp_path / "node")


def renamed(bundle: dict[str, Any]) -> dict[str, Any]:
    """The same report with new ids for every report object (markings and the author keep theirs)."""
    text = json.dumps(bundle)
    for obj in bundle["objects"]:
        if obj["type"] != "marking-definition" and obj.get("created_by_ref"):
            text = text.replace(obj["id"], f"{obj['type']}--{uuid.uuid4()}")
    out: dict[str, Any] = json.loads(text)
    return out


def _queued(node: Node) -> dict[str, str]:
    with node.db.read() as session:
        return {a.stix_id: a.kind for a in session.scalars(select(ResolveArrival))}


def _members(node: Node) -> dict[str, ResolveMember]:
    with node.db.read() as session:
        return {m.stix_id: m for m in session.scalars(select(ResolveMember))}


def test_ingest_queues_arrivals_and_a_drain_resolves_all_but_persons_without_a_model(us_node: Node) -> None:
    with clock.frozen_at(NOW):
        ingest_bundle(us_node, sample_bundle(), "ana")
        assert sorted(_queued(us_node).values()) == ["organization", "person", "phone", "vehicle"]
        first = arrivals.drain(us_node)
        assert first.resolved == 3 and first.waiting == 1  # the person waits for a model
        ingest_bundle(us_node, renamed(sample_bundle()), "ana")
        second = arrivals.drain(us_node)
    members = _members(us_node)
    assert sorted(m.kind for m in members.values()) == ["organization"] * 2 + ["phone"] * 2 + ["vehicle"] * 2
    for kind in ("organization", "phone"):
        assert len({m.entity_id for m in members.values() if m.kind == kind}) == 1  # the same firm, the same phone
    # The plate carries no jurisdiction: the same plate may be two vehicles, so an analyst decides.
    assert len({m.entity_id for m in members.values() if m.kind == "vehicle"}) == 2
    with us_node.db.read() as session:
        kinds = sorted(d.kind for d in session.scalars(select(ResolveDecision)))
    assert kinds == ["merge", "merge", "review"] and second.decisions == 3 and second.waiting == 2
    with us_node.db.read() as session:
        entries = search(session, Query(actor="node-service@DEA-DEMO", action="entity.resolve", limit=50)).hits
    logged = {o for h in entries for o in h.event.objects}
    assert set(members) <= logged and {f"decision:{d}" for d in range(1, 4)} <= logged


def test_persons_waiting_are_resolved_once_a_model_is_kept(us_node: Node) -> None:
    trained = batch.resolve(bench.spanish(families=40, seed=4).records).trained
    with clock.frozen_at(NOW):
        ingest_bundle(us_node, sample_bundle(), "ana")
        ingest_bundle(us_node, renamed(sample_bundle()), "ana")
        arrivals.drain(us_node)
        with us_node.db.write() as session:
            incremental.keep_model(session, trained)
        done = arrivals.drain(us_node)
    assert done.resolved == 2 and done.waiting == 0 and _queued(us_node) == {}
    persons = [m for m in _members(us_node).values() if m.kind == "person"]
    assert len(persons) == 2


def test_a_drain_that_fails_leaves_every_arrival_queued(us_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    with clock.frozen_at(NOW):
        ingest_bundle(us_node, sample_bundle(), "ana")
        queued = _queued(us_node)

        def crash(*_: Any, **__: Any) -> None:
            raise RuntimeError("the node stopped mid-batch")

        real = arrivals.journal.record
        monkeypatch.setattr(arrivals.journal, "record", crash)  # after the members and decisions were written
        with pytest.raises(RuntimeError):
            arrivals.drain(us_node)
        assert _queued(us_node) == queued and _members(us_node) == {}
        monkeypatch.setattr(arrivals.journal, "record", real)
        assert arrivals.drain(us_node).resolved == 3


def test_a_partner_release_is_queued_with_the_report(us_node: Node) -> None:
    with clock.frozen_at(NOW):
        with us_node.db.read() as session:
            [draft] = bundle_to_drafts(renamed(sample_bundle()), us_node.registry(session))
        with us_node.db.write() as session:
            receive._store(session, us_node, draft)  # what a received release stores, in its transaction
        assert sorted(_queued(us_node).values()) == ["organization", "person", "phone", "vehicle"]


def test_an_analysts_run_resolves_objects_stored_before_arrivals_were_noted(us_node: Node) -> None:
    with clock.frozen_at(NOW):
        ingest_bundle(us_node, sample_bundle(), "ana")
        with us_node.db.write() as session:
            session.execute(ResolveArrival.__table__.delete())  # type: ignore[attr-defined]
            assert arrivals.note_unresolved(session) == 4
            assert arrivals.note_unresolved(session) == 0  # queued once
            done = arrivals.drain_in(session, us_node, "ana")
            count = session.scalar(select(func.count()).select_from(ResolveDecision))
    assert done.resolved == 3 and count == 0
