"""Precomputed audiences: which stored markings each principal may see by rules 1-4 and 6.

The rules themselves live in `tearline.markings.visibility`; this module only caches their
answer per (principal, marking) so that reads can filter inside SQL. An audience is recomputed
before the next decision whenever the policy epoch moves (a principal, the registry or the
equivalence table changed). New markings are added to every fresh audience as they are stored.

A reader carries a snapshot of its audience (`AudienceSnapshot`), which its queries write in as
constants (`tearline.store.filters.audience_clause`). The snapshot is taken again whenever the
audience was recomputed or the audience generation (bumped as markings are added) has moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, delete, func, insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from tearline import clock
from tearline.db.models import AgencyRow, Audience, MarkingRow, Principal, Setting
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import marking_verdict, sees_source
from tearline.store.principals import viewer_of
from tearline.store.registry import (
    GENERATION_KEY,
    NodeIdentity,
    audience_generation,
    bump_audience_generation,
    current_table,
    policy_epoch,
)

LOOKUP_CHUNK = 1_000  # digests per IN list (SQLite caps a statement's parameters)
# Above this many markings in an audience, a reader's queries keep probing the audience table:
# SQLite builds the constants into an index at every execution, which then costs more than it saves.
SNAPSHOT_LIMIT = 4_096
# A reader who may not see a marking's source fields sees no coordinates if either of these is one.
COORDINATE_FIELDS = ("latitude", "longitude")


class _NamesCoordinates(ColumnElement[bool]):
    """True iff a stored marking body lists a coordinate among its source fields.

    Written per database (the body is JSON in both), so that a query can tell, inside SQL, the
    markings whose coordinates a reader without sight of the source does not see.
    """

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [("body", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (read by SQLAlchemy)

    def __init__(self, body: Any) -> None:
        self.body = body

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        return self


_FIELDS_SQL = ", ".join(f"'{name}'" for name in COORDINATE_FIELDS)  # constants of this module, not input


@compiles(_NamesCoordinates, "sqlite")
def _names_coordinates_sqlite(element: _NamesCoordinates, compiler: SQLCompiler, **kw: Any) -> str:
    body = compiler.process(element.body, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({body}, '$.source_fields') AS f WHERE f.value IN ({_FIELDS_SQL}))"


@compiles(_NamesCoordinates, "postgresql")
def _names_coordinates_postgresql(element: _NamesCoordinates, compiler: SQLCompiler, **kw: Any) -> str:
    body = compiler.process(element.body, **kw)
    return f"COALESCE(jsonb_exists_any(({body})::jsonb -> 'source_fields', ARRAY[{_FIELDS_SQL}]), false)"


def coordinates_source_sensitive(marking_id: Any) -> ColumnElement[bool]:
    """The marking `marking_id` makes an item's latitude or longitude source-sensitive."""
    return (
        select(MarkingRow.id)
        .where(MarkingRow.id == marking_id, _NamesCoordinates(MarkingRow.body))
        .correlate_except(MarkingRow)
        .exists()
    )


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
    bump_audience_generation(session)


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


@dataclass(frozen=True, eq=False)  # compared by identity: a node reuses one snapshot while it holds
class AudienceSnapshot:
    """One principal's audience as it stood at one epoch of its own and one audience generation.

    `plain` holds the markings it sees with no per-item cover, `searchable` those of them whose
    source fields it may also search, and `placed` those whose coordinates it is shown (every source
    field may be hidden but the coordinates). `covered` holds the markings it sees only where a live
    release or consent covers the item. Markings stored after the snapshot have ids above `newest`.
    """

    plain: tuple[int, ...]
    searchable: tuple[int, ...]
    covered: tuple[int, ...]
    newest: int
    placed: tuple[int, ...] = ()  # empty: every marking's coordinates are probed

    @property
    def known(self) -> tuple[int, ...]:
        """Every marking of the audience, with or without cover."""
        return tuple(sorted(self.plain + self.covered))


def audience_stamp(session: Session, principal_id: int) -> tuple[int, int]:
    """What dates a principal's audience: the epoch it was computed at, and the audience generation.

    The principal's own epoch, not the policy epoch: a snapshot keyed by the policy epoch could be
    read between a policy change and the refresh of this audience, and be kept after the refresh.
    A refresh rewrites the rows and the principal's epoch in one transaction. Both values come in
    one statement: every reader a node makes reads them.
    """
    generation = select(Setting.value).where(Setting.key == GENERATION_KEY).scalar_subquery()
    row = session.execute(select(Principal.audience_epoch, generation).where(Principal.id == principal_id)).first()
    if row is None:
        return -1, audience_generation(session)
    epoch, value = row
    return epoch, int(value) if value is not None else 0


def take_snapshot(session: Session, principal_id: int) -> AudienceSnapshot | None:
    """The principal's (fresh) audience as constants; None when it is too large to write into SQL.

    Read `audience_stamp` before calling this, and key the snapshot by it: what is read here is then
    at least as new as its key, and a marking added since moves the stamp.
    """
    # Newest first: a marking stored between these reads is then either in the rows or above `newest`.
    newest = session.scalar(select(func.max(MarkingRow.id))) or 0
    hides_place = (Audience.hides_source & coordinates_source_sensitive(Audience.marking_id)).label("hides_place")
    rows = session.execute(
        select(Audience.marking_id, Audience.needs_orcon, Audience.needs_consent, Audience.hides_source, hides_place)
        .where(Audience.principal_id == principal_id)
        .order_by(Audience.marking_id)
    ).all()
    if len(rows) > SNAPSHOT_LIMIT:
        return None
    plain = [r for r in rows if not (r.needs_orcon or r.needs_consent)]
    return AudienceSnapshot(
        plain=tuple(r.marking_id for r in plain),
        searchable=tuple(r.marking_id for r in plain if not r.hides_source),
        covered=tuple(r.marking_id for r in rows if r.needs_orcon or r.needs_consent),
        newest=newest,
        placed=tuple(r.marking_id for r in plain if not r.hides_place),
    )
