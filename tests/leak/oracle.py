"""The test oracle: DESIGN §3.3 transcribed directly, on plain data, independent of the engine.

It is deliberately naive (nested loops, no caching, no SQL) so that it is easy to check by
reading it against DESIGN.md. Every read path of the node is held to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# DESIGN §3.1: the shipped trilateral agreement (common level of each national label).
COMMON = {
    "USA": {"UNCLASSIFIED": 0, "CUI": 1, "CONFIDENTIAL": 2, "SECRET": 3, "TOP SECRET": 4},
    "CAN": {
        "UNCLASSIFIED": 0,
        "PROTECTED A": 1,
        "PROTECTED B": 1,
        "PROTECTED C": 2,
        "CONFIDENTIAL": 2,
        "SECRET": 3,
        "TOP SECRET": 4,
    },
    "MEX": {"PÚBLICA": 0, "RESERVADA": 1, "CONFIDENCIAL": 2, "SECRETA": 3, "ULTRA SECRETA": 4},
}
# "Each nation ranks its own labels in the order listed."
RANK = {nation: list(labels) for nation, labels in COMMON.items()}


@dataclass(frozen=True)
class P:
    """A principal."""

    id: int
    nation: str
    agency: str
    clearance: str
    compartments: frozenset[str]
    law_enforcement: bool
    workspaces_now: frozenset[int]  # workspaces the principal belongs to now and the host rules admit


@dataclass(frozen=True)
class G:
    """A release, consent or delivery: names a nation and optionally an agency; covers hashes or a version."""

    kind: str
    grantor_nation: str
    nation: str
    agency: str | None
    item_hash: str | None
    version_id: int | None
    expires_at: datetime
    recalled: bool


@dataclass(frozen=True)
class X:
    """A portion or object, with its marking as plain fields."""

    hash: str
    version_id: int
    report_id: int
    orig_nation: str
    orig_agency: str
    level: str
    rel_to: frozenset[str]
    controls: frozenset[str]
    compartments: frozenset[str]
    withdrawn: bool
    received: bool
    workspace: int | None
    source_ref: str | None = None
    target_ref: str | None = None
    stix_id: str | None = None
    source_fields: tuple[str, ...] = ()
    source_compartment: str | None = None


@dataclass
class World:
    node_nation: str
    now: datetime
    grants: list[G] = field(default_factory=list)


def covers(g: G, p: P, x: X, world: World) -> bool:
    """A release or consent covers a principal (nation, and agency if named) and the item (hash or version)."""
    live = not g.recalled and world.now < g.expires_at
    names_p = g.nation == p.nation and (g.agency is None or g.agency == p.agency)
    names_x = g.item_hash == x.hash or g.version_id == x.version_id
    return live and names_p and names_x


def may_see(p: P, x: X, world: World) -> bool:
    """DESIGN §3.3 rules 1-7 for one item."""
    n = world.node_nation
    # 1. Clearance.
    if p.nation == x.orig_nation:
        if RANK[p.nation].index(p.clearance) < RANK[x.orig_nation].index(x.level):
            return False
    elif COMMON[p.nation][p.clearance] < COMMON[x.orig_nation][x.level]:
        return False
    # 2. REL TO.
    if p.nation not in x.rel_to:
        return False
    # 3. Compartments.
    if not x.compartments <= p.compartments:
        return False
    # 4. ORCON and LES.
    if "ORCON" in x.controls and p.agency != x.orig_agency:
        # On the receiving node, the release naming p's agency is the delivery that brought x.
        named = [g for g in world.grants if g.kind in ("release", "consent", "delivery") and g.agency is not None]
        if not any(g.agency == p.agency and covers(g, p, x, world) for g in named):
            return False
    if "LES" in x.controls and not p.law_enforcement:
        return False
    # 5. Live.
    if x.withdrawn:
        return False
    if x.received and not any(g.kind == "delivery" and _covers_item(g, x, world) for g in world.grants):
        return False
    # 6. Third-party rule.
    if x.orig_nation != n and p.nation not in {n, x.orig_nation}:
        consents = [g for g in world.grants if g.kind == "consent" and g.grantor_nation == x.orig_nation]
        if not any(covers(g, p, x, world) for g in consents):
            return False
    # 7. Foreign principals only in workspaces they belong to now.
    return not (p.nation != n and (x.workspace is None or x.workspace not in p.workspaces_now))


def _covers_item(g: G, x: X, world: World) -> bool:
    return not g.recalled and world.now < g.expires_at and (g.item_hash == x.hash or g.version_id == x.version_id)


def object_may_see(p: P, x: X, siblings: dict[str, X], world: World) -> bool:
    """Rule 8: a relationship (or sighting) is visible iff it and both its ends are."""
    if not may_see(p, x, world):
        return False
    for ref in (x.source_ref, x.target_ref):
        if ref is not None and (ref not in siblings or not may_see(p, siblings[ref], world)):
            return False
    return True


def sees_source(p: P, x: X) -> bool:
    """Source-sensitive fields: the originator agency only, and the source compartment if named."""
    return p.agency == x.orig_agency and (x.source_compartment is None or x.source_compartment in p.compartments)


def text_searchable(p: P, x: X) -> bool:
    """A text search matches only items none of whose source fields is hidden from p (coarse, and safe)."""
    return not x.source_fields or sees_source(p, x)


def sees_coordinates(p: P, x: X) -> bool:
    """p is shown x's latitude and longitude: neither is a source field, or p sees the source."""
    return not ({"latitude", "longitude"} & set(x.source_fields)) or sees_source(p, x)
