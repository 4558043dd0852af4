"""Precomputed audiences: which stored markings each principal may see by rules 1-4 and 6.

The rules themselves live in `tearline.markings.visibility`; this module only caches their
answer per (principal, marking) so that reads can filter inside SQL. An audience is recomputed
before the next decision whenever the policy epoch moves (a principal, the registry or the
equivalence table changed). New markings are added to every fresh audience as they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.models import AgencyRow, Audience, MarkingRow, Principal
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import marking_verdict, sees_source
from tearline.store.principals import viewer_of
from tearline.store.registry import NodeIdentity, current_table, policy_epoch

LOOKUP_CHUNK = 1_000  # digests per IN list (SQLite caps a statement's parameters)


def marking_from_body(body: dict[str, Any]) -> Marking:
    """A stored marking (validated when it was written) back as a `Marking`."""
    reserved = body.get("reserved_until")
    return Marking(
        originator_nation=body["originator"]["nation"],
        originator_agency=body["originator"]["agency"],
        level=body["level"],
        rel_to=frozenset(body["rel_to"]),
        controls=frozenset(body.get("controls", [])),
        compartments=frozenset(body.get("compartments", [])),
        source_fields=tuple(body.get("source_fields", [])),
        source_grade=body.get("source_grade"),
        source_compartment=body.get("source_compartment"),
        reserved_until=clock.parse_timestamp(reserved) if isinstance(reserved, str) else None,
        tlp=body.get("tlp"),
    )


def law_enforcement_map(session: Session) -> dict[str, bool]:
    return {a.name: a.law_enforcement for a in session.scalars(select(AgencyRow))}


def intern_marking(session: Session, marking: Marking, node: NodeIdentity, cache: dict[str, int]) -> int:
    """The id of the stored row for this marking, storing it (and its audiences) if new."""
    intern_markings(session, [marking], node, cache)
    return cache[marking.digest()]


def intern_markings(session: Session, markings: Iterable[Marking], node: NodeIdentity, cache: dict[str, int]) -> None:
    """Put every marking's stored id in `cache` (by digest), storing the new ones and their audiences.

    A batch costs a few statements whatever its size (one lookup per chunk of digests, one insert of
    the new markings, one of their audience rows), where `intern_marking` costs several per new marking.
    """
    wanted = {m.digest(): m for m in markings if m.digest() not in cache}
    digests = list(wanted)
    for start in range(0, len(digests), LOOKUP_CHUNK):
        chunk = digests[start : start + LOOKUP_CHUNK]
        stored = session.execute(select(MarkingRow.digest, MarkingRow.id).where(MarkingRow.digest.in_(chunk)))
        cache.update((digest, marking_id) for digest, marking_id in stored)
    new = [(digest, m) for digest, m in wanted.items() if digest not in cache]
    if not new:
        return
    table: Any = MarkingRow.__table__
    rows = [
        {
            "digest": d,
            "body": m.as_dict(),
            "originator_nation": m.originator_nation,
            "originator_agency": m.originator_agency,
        }
        for d, m in new
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = list(session.connection().execute(statement, rows).scalars())
    cache.update((d, marking_id) for (d, _), marking_id in zip(new, ids, strict=True))
    _add_to_fresh_audiences(session, [(marking_id, m) for (_, m), marking_id in zip(new, ids, strict=True)], node)


def _add_to_fresh_audiences(session: Session, markings: list[tuple[int, Marking]], node: NodeIdentity) -> None:
    """Audience rows of new markings, for every principal whose audience is current (stale ones recompute)."""
    epoch = policy_epoch(session)
    table = current_table(session)
    agencies = law_enforcement_map(session)
    fresh = session.scalars(select(Principal).where(Principal.audience_epoch == epoch)).all()
    rows = _audience_rows(((p, marking_id, m) for p in fresh for marking_id, m in markings), node, table, agencies)
    if rows:
        session.execute(insert(Audience), rows)


def _audience_rows(
    pairs: Iterable[tuple[Principal, int, Marking]],
    node: NodeIdentity,
    table: EquivalenceTable,
    agencies: dict[str, bool],
) -> list[dict[str, Any]]:
    rows = []
    for principal, marking_id, marking in pairs:
        viewer = viewer_of(principal, agencies)
        verdict = marking_verdict(viewer, marking, node.nation, table)
        if verdict.allowed:
            rows.append(
                {
                    "principal_id": principal.id,
                    "marking_id": marking_id,
                    "needs_orcon": verdict.needs_orcon_cover,
                    "needs_consent": verdict.needs_consent_cover,
                    "hides_source": bool(marking.source_fields) and not sees_source(viewer, marking),
                }
            )
    return rows


def audience_is_fresh(session: Session, principal_id: int) -> bool:
    principal_epoch = session.scalar(select(Principal.audience_epoch).where(Principal.id == principal_id))
    return principal_epoch == policy_epoch(session)


def refresh_audience(session: Session, principal_id: int, node: NodeIdentity) -> None:
    """Recompute one principal's audience (in a write transaction) unless it is already fresh."""
    principal = session.scalar(select(Principal).where(Principal.id == principal_id).with_for_update())
    if principal is None:
        return
    epoch = policy_epoch(session)
    if principal.audience_epoch == epoch:
        return
    table = current_table(session)
    agencies = law_enforcement_map(session)
    session.execute(delete(Audience).where(Audience.principal_id == principal_id))
    markings = session.execute(select(MarkingRow.id, MarkingRow.body)).all()
    rows = _audience_rows(((principal, mid, marking_from_body(body)) for mid, body in markings), node, table, agencies)
    for start in range(0, len(rows), 5000):
        session.execute(insert(Audience), rows[start : start + 5000])
    principal.audience_epoch = epoch
    session.flush()
