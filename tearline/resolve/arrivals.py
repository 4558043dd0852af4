"""Arrivals resolved as they arrive: noted in the storing transaction, resolved right after it.

Every way a report is stored (file ingest, the API, a partner's release) goes through the store's
one write path, which notes each person, organisation, phone and vehicle in `resolve_arrival` in
the same transaction. Nothing is resolved inside that transaction: scoring would hold the write
lock many times longer than storing does, and a node with no model yet must still take reports.
Right after the commit (the CLI after its ingest, the server's worker when woken or every second)
`drain` resolves the queue a batch per transaction: members, decisions, the audit entry and the
removal of the queue rows commit together, so a crash at any point leaves each arrival either
resolved or still queued, never half done and never lost.

Persons need the kept model: without one they wait in the queue (not an error) and are resolved
once one is trained. Organisations, phones and vehicles resolve by their keys and never wait.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.background import Worker
from tearline.db.models import StixObject
from tearline.db.resolve_tables import ResolveArrival, ResolveMember, ResolveModel
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.resolve.queue import RESOLVABLE_TYPES, kind_of
from tearline.store.reads import markings_by_id

log = logging.getLogger(__name__)

BATCH = 100  # arrivals per transaction: scoring a batch at once is several times faster per arrival
_DRAIN_LOCK = 0x7E5A_0001  # PostgreSQL advisory lock: one drain at a time sees the others' members


def note_unresolved(session: Session) -> int:
    """Queue current objects neither resolved nor queued (stored before arrivals were noted)."""
    rows = session.execute(select(StixObject.stix_id, StixObject.stix_type, StixObject.body).where(
        StixObject.stix_type.in_(RESOLVABLE_TYPES), StixObject.is_current.is_(True),
        StixObject.withdrawn.is_(False), StixObject.stix_id.not_in(select(ResolveMember.stix_id)),
        StixObject.stix_id.not_in(select(ResolveArrival.stix_id))).order_by(StixObject.id))
    now, seen, queued = clock.now(), set(), []
    for stix_id, stix_type, body in rows:
        kind = kind_of(stix_type, body or {})
        if kind and stix_id not in seen:
            seen.add(stix_id)
            queued.append({"stix_id": stix_id, "kind": kind, "noted_at": now})
    if queued:
        session.execute(insert(ResolveArrival), queued)
    return len(queued)


@dataclass
class Drained:
    """What a drain did: arrivals resolved, decisions made, persons still waiting for a model."""

    resolved: int = 0
    decisions: int = 0
    waiting: int = 0
    stix_ids: list[str] = field(default_factory=list)


_resolvers: dict[str, Any] = {}
_resolvers_lock = threading.Lock()


def person_resolver(session: Session) -> Any | None:
    """The incremental resolver of the newest kept model (built once per model), or None."""
    body = session.scalar(select(ResolveModel.body).order_by(ResolveModel.id.desc()).limit(1))
    if body is None:
        return None
    from tearline.resolve import incremental, model

    key = hashlib.sha256(body.encode()).hexdigest()
    with _resolvers_lock:  # building one compiles the model's SQL: once per kept model
        if key not in _resolvers:
            _resolvers.clear()
            _resolvers[key] = incremental.IncrementalResolver(model.TrainedModel.loads(body))
        return _resolvers[key]


def drain(node: Node, limit: int | None = None, progress: Any = None) -> Drained:
    """Resolve queued arrivals, a batch per transaction, until none is left that can be resolved."""
    done = Drained()
    while limit is None or done.resolved < limit:
        with node.db.write() as session:
            batch = _drain_batch(session, node)
        if batch is None:
            break
        done.resolved += batch.resolved
        done.decisions += batch.decisions
        done.stix_ids += batch.stix_ids
        if progress is not None:
            progress(done.resolved)
    with node.db.read() as session:
        done.waiting = session.scalar(select(func.count()).select_from(ResolveArrival)) or 0
    return done


def drain_in(session: Session, node: Node, actor: str) -> Drained:
    """Resolve every queued arrival that can be, in the caller's transaction (an analyst's run)."""
    done = Drained()
    while (batch := _drain_batch(session, node, actor)) is not None:
        session.expire_all()  # the next batch reads members this one joined behind the session's back
        done.resolved += batch.resolved
        done.decisions += batch.decisions
        done.stix_ids += batch.stix_ids
    return done


def _drain_batch(session: Session, node: Node, actor: str | None = None) -> Drained | None:
    """One batch, in the caller's transaction; None when nothing is left to resolve."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DRAIN_LOCK})
    persons = person_resolver(session)
    query = select(ResolveArrival).order_by(ResolveArrival.id).limit(BATCH)
    if persons is None:
        query = query.where(ResolveArrival.kind != "person")  # persons wait for a model
    queued = list(session.scalars(query))
    if not queued:
        return None
    actor = actor or f"{SERVICE_ACCOUNT}@{node.config.agency}"
    outcomes = resolve_objects(session, persons, [q.stix_id for q in queued], actor)
    session.execute(delete(ResolveArrival).where(ResolveArrival.stix_id.in_({q.stix_id for q in queued})))
    decisions = sorted({d for o in outcomes for d in o.decisions})
    resolved = [o.stix_id for o in outcomes]
    # The node's own work, logged like an analyst's run: what was resolved and every decision made.
    journal.record(session, node, actor, "entity.resolve", [*resolved, *(f"decision:{d}" for d in decisions)],
                   rule="arrival")
    return Drained(len(queued), len(decisions), 0, resolved)


def resolve_objects(session: Session, persons: Any | None, stix_ids: Sequence[str], actor: str) -> list[Any]:
    """Resolve these stored objects (current, not withdrawn; others are dropped), each by its kind."""
    from tearline.resolve.entities import person_of
    from tearline.resolve.keyed import Arrival, KeyedResolver

    rows = session.execute(select(StixObject.stix_id, StixObject.stix_type, StixObject.body, StixObject.marking_id)
                           .where(StixObject.stix_id.in_(set(stix_ids)), StixObject.is_current.is_(True),
                                  StixObject.withdrawn.is_(False)).order_by(StixObject.id)).all()
    nations = {i: m.originator[0] for i, m in markings_by_id(session, {r.marking_id for r in rows}).items()}
    by_kind: dict[str, dict[str, tuple[dict[str, Any], str]]] = {}
    for stix_id, stix_type, body, marking_id in rows:
        kind = kind_of(stix_type, body or {})
        if kind and (kind != "person" or persons is not None):
            by_kind.setdefault(kind, {})[stix_id] = (body or {}, nations[marking_id])  # the newest row wins
    outcomes: list[Any] = []
    for kind, found in by_kind.items():
        if kind == "person":
            people = [(s, person_of(body, nation.lower())) for s, (body, nation) in found.items()]
            outcomes += persons.add(session, people, actor) if persons is not None else []
        else:
            arrivals = [Arrival(s, body, nation) for s, (body, nation) in found.items()]
            outcomes += KeyedResolver(kind).add(session, arrivals, actor)
    return outcomes


class ArrivalWorker(Worker):
    """A thread of the server that drains the queue when nudged (after a change commits) and every
    `every` seconds (a partner's release pulled by the courier, an ingest from the command line)."""

    def __init__(self, node: Node, every: float = 1.0) -> None:
        super().__init__(f"arrivals-{node.config.nation}", every=every, stop_wait=30)
        self.node = node

    def round(self) -> None:
        if _anything_queued(self.node):
            drain(self.node)


def _anything_queued(node: Node) -> bool:
    """A cheap read: is there an arrival that can be resolved now? (Persons need a model.)"""
    with node.db.read() as session:
        query = select(ResolveArrival.id).limit(1)
        if session.scalar(select(ResolveModel.id).limit(1)) is None:
            query = query.where(ResolveArrival.kind != "person")
        return session.scalar(query) is not None
