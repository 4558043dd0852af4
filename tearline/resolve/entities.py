"""Resolved entities as a reader may see them: a derived product (DESIGN §3.4).

A reader sees only the members they may see, and a member's content only where its source fields
are not hidden from them (the same rule that keeps such items out of search). The entity they see
is the connected component of standing merges *among those members*: a link that runs through a
hidden record is not shown, since it would reveal that record. Attributes, scores, links, counts
and the banner are computed from visible members only; a hidden person answers exactly like a
missing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from tearline.db.models import StixObject
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.errors import NotFound
from tearline.markings.banner import banner_text
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.resolve.dates import parse_birth_date
from tearline.resolve.incremental import STANDING
from tearline.resolve.queue import RESOLVABLE_TYPES
from tearline.resolve.records import PersonRecord, person_record
from tearline.stix.person import PERSON_FIELDS  # where a stored identity keeps a person's canonical fields
from tearline.store.audience import LOOKUP_CHUNK
from tearline.store.filters import Reader, object_visible
from tearline.store.reads import markings_by_id


def person_of(obj_body: dict[str, Any], source: str) -> PersonRecord:
    """A STIX identity (an individual) as a person record: its name, and any canonical fields it carries
    (stored in one form whichever form they arrived in: tearline.stix.person)."""
    extra = obj_body.get(PERSON_FIELDS) or {}
    values = {k: str(v) for k, v in extra.items() if isinstance(v, str | int)}
    values.setdefault("full_name", str(obj_body.get("name", "")))
    dob = parse_birth_date(values["dob"]) if values.get("dob") else None
    return person_record(values, source, dob, str(extra.get("phone_region", "MX")))


def is_person(obj: StixObject) -> bool:
    return obj.stix_type == "identity" and (obj.body or {}).get("identity_class") == "individual"


@dataclass(frozen=True)
class Member:
    stix_id: str
    name: str
    hash: str
    originator: str
    marking: Marking


@dataclass
class EntityView:
    """One reader's view of the entity around a person, organisation, phone or vehicle."""

    members: list[Member]
    links: list[dict[str, Any]]
    attributes: dict[str, list[str]]
    banner: str
    sources: list[dict[str, str]] = field(default_factory=list)
    kind: str = "person"


def visible_members(session: Session, reader: Reader, stix_ids: Iterable[str]) -> dict[str, Member]:
    """Those of these members the reader may see, content and all (hidden source fields exclude)."""
    ids = sorted(set(stix_ids))
    rows: list[StixObject] = []
    for start in range(0, len(ids), LOOKUP_CHUNK):  # a large entity's ids would overflow one statement's parameters
        rows += session.scalars(select(StixObject).where(
            StixObject.stix_id.in_(ids[start : start + LOOKUP_CHUNK]), StixObject.stix_type.in_(RESOLVABLE_TYPES),
            object_visible(reader, StixObject, searchable=True)))
    markings = markings_by_id(session, {r.marking_id for r in rows})
    out: dict[str, Member] = {}
    for row in rows:
        marking = markings[row.marking_id]
        origin = "/".join(marking.originator)
        out[row.stix_id] = Member(row.stix_id, row.name, row.hash, origin, marking)
    return out


def _component(start: str, members: set[str], decisions: list[ResolveDecision]) -> set[str]:
    """The members joined to `start` through these decisions, by way of `members` only."""
    linked: dict[str, list[str]] = {}
    for d in decisions:  # each member's neighbours once: walking every decision per member was quadratic
        linked.setdefault(d.member_a, []).append(d.member_b)
        linked.setdefault(d.member_b, []).append(d.member_a)
    seen, frontier = {start}, [start]
    while frontier:
        for other in linked.get(frontier.pop(), ()):
            if other in members and other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


def entity_view(session: Session, reader: Reader, table: EquivalenceTable, node_nation: str,
                stix_id: str) -> EntityView:
    """The entity around a member, as this reader may see it; NotFound when they may not see the member."""
    anchor = session.scalar(select(ResolveMember).where(ResolveMember.stix_id == stix_id))
    if anchor is None or stix_id not in visible_members(session, reader, [stix_id]):
        raise NotFound(f"no resolved person {stix_id}")
    together = list(session.scalars(select(ResolveMember).where(ResolveMember.entity_id == anchor.entity_id)))
    visible = visible_members(session, reader, [m.stix_id for m in together])
    decisions = standing_within(session, anchor.entity_id, set(visible))
    component = _component(stix_id, set(visible), decisions)
    members = [visible[s] for s in sorted(component)]
    features = {m.stix_id: m.features for m in together if m.stix_id in component}
    links = [_link(d) for d in decisions if d.member_a in component and d.member_b in component]
    return EntityView(
        members=members,
        links=links,
        attributes=roll_up(anchor.kind, features.values()),
        banner=banner_text([m.marking for m in members], node_nation, table),
        sources=[{"originator": m.originator, "hash": m.hash} for m in members],
        kind=anchor.kind,
    )


def standing_within(session: Session, entity_id: str, members: set[str]) -> list[ResolveDecision]:
    """The standing decisions between two of these members of one entity, oldest first. They are
    found through the entity, so that no list of its members goes to the database: an entity of
    tens of thousands of members would overflow a statement's parameters."""
    of_entity = select(ResolveMember.stix_id).where(ResolveMember.entity_id == entity_id)
    found = session.scalars(select(ResolveDecision).where(
        ResolveDecision.member_a.in_(of_entity), ResolveDecision.state.in_(STANDING)).order_by(ResolveDecision.id))
    return [d for d in found if d.member_a in members and d.member_b in members]


def _link(d: ResolveDecision) -> dict[str, Any]:
    return {"decision": d.id, "members": [d.member_a, d.member_b], "kind": d.kind, "state": d.state,
            "match_probability": round(d.probability, 6), "explanation": d.explanation}


def roll_up(kind: str, features: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """An entity's attributes: every value of its (visible) members, by attribute."""
    if kind == "person":
        return _roll_up_persons(features)
    out: dict[str, set[str]] = {}
    for f in features:
        for key, value in f.items():
            if isinstance(value, str) and value:
                out.setdefault(key, set()).add(value)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _roll_up_persons(features: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {"given_names": set(), "paternal": set(), "maternal": set(), "dob": set(),
                                "phones": set(), "national_id": set(), "aliases": set(), "address": set()}
    for f in features:
        for key, column in (("given_names", "given_all"), ("paternal", "paternal"), ("maternal", "maternal"),
                            ("dob", "dob"), ("national_id", "national_id"), ("address", "address")):
            if f.get(column):
                out[key].add(str(f[column]))
        out["phones"].update(f.get("phones") or [])
        out["aliases"].update(f.get("alias_keys") or [])
    return {k: sorted(v) for k, v in out.items()}


def review_queue(session: Session, reader: Reader, limit: int = 50, after: int = 0) -> list[dict[str, Any]]:
    """The first `limit` pending reviews after decision `after` whose two members the reader may both
    see (nothing else is counted), oldest first.

    The database walks the pending decisions in id order and tests each member against the
    reader's visibility filter, so a page reads as far as it must and no further: loading every
    pending decision and its members (as this did) grew with the whole queue, and past about
    16,000 pending pairs overflowed SQLite's limit of bound parameters.
    """
    shown = list(session.scalars(select(ResolveDecision).where(
        ResolveDecision.state == "pending", ResolveDecision.id > after,
        _member_visible(reader, ResolveDecision.member_a), _member_visible(reader, ResolveDecision.member_b),
    ).order_by(ResolveDecision.id).limit(limit)))
    visible = visible_members(session, reader, {s for d in shown for s in (d.member_a, d.member_b)})
    return [{**_link(d), "names": [visible[d.member_a].name, visible[d.member_b].name]} for d in shown]


def _member_visible(reader: Reader, member: Any) -> ColumnElement[bool]:
    """`visible_members`' test of one member, as a condition on a decision's column."""
    obj = aliased(StixObject)
    return select(obj.id).where(obj.stix_id == member, obj.stix_type.in_(RESOLVABLE_TYPES),
                                object_visible(reader, obj, searchable=True)).exists()


def decision_for(session: Session, reader: Reader, decision_id: int) -> ResolveDecision:
    """A decision the reader may act on: both its persons visible, else the same 404 as a missing one."""
    decision = session.get(ResolveDecision, decision_id)
    if decision is None or len(visible_members(session, reader, [decision.member_a, decision.member_b])) < 2:
        raise NotFound(f"no decision {decision_id}")
    return decision
