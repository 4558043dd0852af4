"""The test oracle for tearlines: DESIGN §3.5 (with §3.3 rule 5 and §3.4) transcribed on plain data.

Deliberately naive and independent of `tearline.markings.release` and `tearline.release.tearline`:
plain sets and loops, to be checked by reading it against DESIGN.md. Only the names of the rules
are shared with the engine, since the test compares them.

A tearline for recipient nation R (and optionally agency G), made by node (N, A), keeps x iff:
- R ∈ x.rel_to;
- common(x.level) is at most the ceiling of the N–R agreement, read under the agreement of x's
  originator nation and R; no ceiling when R is x's originator nation;
- if x has compartments: G is given and owns every one of them;
- if x is ORCON: x's originator agency is A, or has consented (a consent naming an agency);
- if x is LES: G is given and is a law-enforcement agency;
- x's originator nation is N, or a live consent from x's originator covers (R, G, x);
- and x is live (§3.3 rule 5): not withdrawn, and if received, delivered by a live release.
A relationship is kept only if it and both its ends are kept (§3.3 rule 8, "no gaps show").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.leak.oracle import COMMON  # DESIGN §3.1, the shipped trilateral agreement

CEILING = 3  # the shipped agreement's release ceiling (DESIGN §3.1), for every pair of nations

# The rule names the engine reports (what is compared), keyed by the DESIGN clause.
NOT_RELEASABLE = "not-releasable-to-recipient"
ABOVE_CEILING = "above-release-ceiling"
COMPARTMENT = "compartment"
ORCON = "orcon-without-approval"
LES = "les-needs-law-enforcement-recipient"
THIRD_PARTY = "third-party-without-consent"
NOT_LIVE = "not-live"
RELATIONSHIP_END = "relationship-end-withheld"


@dataclass(frozen=True)
class Item:
    hash: str
    kind: str  # title, portion, object
    position: int
    text: str
    orig_nation: str
    orig_agency: str
    level: str
    rel_to: frozenset[str]
    controls: frozenset[str]
    compartments: frozenset[str]
    source_fields: tuple[str, ...] = ()
    source_grade: str | None = None
    withdrawn: bool = False
    received: bool = False
    stix_id: str | None = None
    source_ref: str | None = None
    target_ref: str | None = None
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Consent:
    """Signed by the originator's node; names R and optionally G; covers item hashes or a version."""

    id: str
    grantor_nation: str
    grantor_agency: str
    nation: str
    agency: str | None
    item_hash: str | None
    version_id: int | None
    expires_at: datetime
    revoked: bool


@dataclass(frozen=True)
class Delivery:
    """The release that delivered a received item here."""

    item_hash: str | None
    version_id: int | None
    expires_at: datetime
    recalled: bool


@dataclass(frozen=True)
class World:
    maker_nation: str
    maker_agency: str
    version_id: int
    now: datetime
    owners: dict[str, frozenset[str]]  # compartment -> owning agencies
    law_enforcement: dict[str, bool]  # agency -> is it a law-enforcement agency
    consents: list[Consent]
    deliveries: list[Delivery]


@dataclass(frozen=True)
class Expected:
    refused: str | None  # "empty" or "source_grade", or None
    kept: set[str]  # hashes
    failures: dict[str, set[str]]  # hash -> every rule that withholds it (empty set: kept)
    consents_used: set[str]
    banner: str | None


def _names_item(c: Consent | Delivery, x: Item, world: World) -> bool:
    return c.item_hash == x.hash or c.version_id == world.version_id


def covering_consents(x: Item, r: str, g: str | None, world: World) -> list[Consent]:
    """Live consents from x's originator (its nation: the third-party rule is between nations) covering (R, G, x)."""
    out = []
    for c in world.consents:
        live = not c.revoked and world.now < c.expires_at
        names_recipient = c.nation == r and (c.agency is None or c.agency == g)
        if live and c.grantor_nation == x.orig_nation and names_recipient and _names_item(c, x, world):
            out.append(c)
    return out


def orcon_consents(x: Item, r: str, g: str | None, world: World) -> list[Consent]:
    """ORCON is at agency level: x's originator agency consented, naming the recipient agency."""
    return [c for c in covering_consents(x, r, g, world) if c.grantor_agency == x.orig_agency and c.agency is not None]


def own_failures(x: Item, r: str, g: str | None, world: World) -> set[str]:
    failed = set()
    if x.withdrawn:
        failed.add(NOT_LIVE)
    if x.received and not any(
        not d.recalled and world.now < d.expires_at and _names_item(d, x, world) for d in world.deliveries
    ):
        failed.add(NOT_LIVE)
    if r not in x.rel_to:
        failed.add(NOT_RELEASABLE)
    if r != x.orig_nation and COMMON[x.orig_nation][x.level] > CEILING:
        failed.add(ABOVE_CEILING)
    for compartment in x.compartments:
        if g is None or g not in world.owners[compartment]:
            failed.add(COMPARTMENT)
    if "ORCON" in x.controls and x.orig_agency != world.maker_agency and not orcon_consents(x, r, g, world):
        failed.add(ORCON)
    if "LES" in x.controls and (g is None or not world.law_enforcement[g]):
        failed.add(LES)
    if x.orig_nation != world.maker_nation and not covering_consents(x, r, g, world):
        failed.add(THIRD_PARTY)
    return failed


def expected(items: list[Item], r: str, g: str | None, world: World) -> Expected:
    failures = {x.hash: own_failures(x, r, g, world) for x in items}
    by_id = {x.stix_id: x for x in items if x.stix_id}
    changed = True
    while changed:  # a relationship goes only with both its ends
        changed = False
        for x in items:
            ends = [by_id.get(ref) for ref in (x.source_ref, x.target_ref) if ref]
            if not failures[x.hash] and any(end is None or failures[end.hash] for end in ends):
                failures[x.hash] = {RELATIONSHIP_END}
                changed = True
    kept = [x for x in items if not failures[x.hash]]
    used: set[str] = set()
    for x in kept:
        if x.orig_nation != world.maker_nation:
            used |= {c.id for c in covering_consents(x, r, g, world)}
        elif "ORCON" in x.controls and x.orig_agency != world.maker_agency:
            used |= {c.id for c in orcon_consents(x, r, g, world)}
    refused = None
    if not [x for x in kept if x.kind != "title"]:
        refused = "empty"
    elif any(x.source_fields and not x.source_grade for x in kept):
        refused = "source_grade"
    return Expected(refused, {x.hash for x in kept}, failures, used, banner(kept, world.maker_nation) if kept else None)


def banner(kept: list[Item], node: str) -> str:
    """DESIGN §3.4 on a node of nation `node`: max level, REL TO intersection, unions of the rest."""
    level = max(COMMON[x.orig_nation][x.level] for x in kept)
    rel_to = set.intersection(*(set(x.rel_to) for x in kept))
    compartments = sorted(set().union(*(x.compartments for x in kept)))
    controls = sorted(set().union(*(x.controls for x in kept)) - {"NOFORN"})
    labels = [label for label, common in COMMON[node].items() if common == level]
    parts = [labels[-1]]  # each nation's labels are listed lowest first: the last is the highest-ranked
    if compartments:
        parts.append("/".join(compartments))
    if controls:
        parts.append("/".join(controls))
    if rel_to == {node}:
        parts.append("NOFORN")
    else:
        head = [node] if node in rel_to else []
        parts.append("REL TO " + ", ".join(head + sorted(rel_to - {node})))
    return "//".join(parts)
