"""The visibility predicate of DESIGN §3.3, as the one per-item decision of the node.

It is split in two so that bulk reads can be pushed into SQL: `marking_verdict` depends only on
the principal and the marking (rules 1-4 and 6), and is precomputed per principal as an audience;
`decide` adds the facts that depend on the item itself (cover by a release or consent, liveness,
workspace membership). The SQL filter in `tearline.store` must agree with `decide` exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable, national_rank


class Rule(StrEnum):
    """The rule of DESIGN §3.3 that denied an item."""

    NO_AGREEMENT = "1-no-agreement"
    CLEARANCE = "1-clearance"
    REL_TO = "2-rel-to"
    COMPARTMENT = "3-compartment"
    ORCON = "4-orcon"
    LES = "4-les"
    NOT_LIVE = "5-not-live"
    THIRD_PARTY = "6-third-party"
    WORKSPACE = "7-workspace"
    RELATIONSHIP_END = "8-relationship-end"


@dataclass(frozen=True)
class Viewer:
    """A principal as the rules see it."""

    nation: str
    agency: str
    clearance: str
    compartments: frozenset[str] = frozenset()
    law_enforcement: bool = False


@dataclass(frozen=True)
class MarkingVerdict:
    """What the marking alone says: deny (with the rule), allow, or allow only under cover."""

    allowed: bool
    rule: Rule | None = None
    needs_orcon_cover: bool = False
    needs_consent_cover: bool = False


@dataclass(frozen=True)
class ItemFacts:
    """Facts about one item, for one viewer, that the marking does not carry."""

    live: bool = True
    orcon_covered: bool = False
    consent_covered: bool = False
    in_allowed_workspace: bool = True


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: Rule | None = None
    table_version: int | None = None


def clearance_rule(viewer: Viewer, marking: Marking, table: EquivalenceTable) -> Rule | None:
    """Rule 1: national ranks within a nation, the common scale of the agreement across nations."""
    if viewer.nation == marking.originator_nation:
        mine = national_rank(viewer.nation, viewer.clearance)
        theirs = national_rank(marking.originator_nation, marking.level)
        if mine is None or theirs is None or mine < theirs:
            return Rule.CLEARANCE
        return None
    agreement = table.agreement(viewer.nation, marking.originator_nation)
    if agreement is None:
        return Rule.NO_AGREEMENT
    mine = agreement.common(viewer.nation, viewer.clearance)
    theirs = agreement.common(marking.originator_nation, marking.level)
    if mine is None or theirs is None:
        return Rule.NO_AGREEMENT
    return None if mine >= theirs else Rule.CLEARANCE


def marking_verdict(viewer: Viewer, marking: Marking, node_nation: str, table: EquivalenceTable) -> MarkingVerdict:
    """Rules 1-4 and 6 for a viewer on a node of `node_nation`, as far as the marking decides them."""
    rule = clearance_rule(viewer, marking, table)
    if rule is not None:
        return MarkingVerdict(False, rule)
    if viewer.nation not in marking.rel_to:
        return MarkingVerdict(False, Rule.REL_TO)
    if not marking.compartments <= viewer.compartments:
        return MarkingVerdict(False, Rule.COMPARTMENT)
    if "LES" in marking.controls and not viewer.law_enforcement:
        return MarkingVerdict(False, Rule.LES)
    needs_orcon = "ORCON" in marking.controls and viewer.agency != marking.originator_agency
    foreign_item = marking.originator_nation != node_nation
    needs_consent = foreign_item and viewer.nation not in {node_nation, marking.originator_nation}
    return MarkingVerdict(True, None, needs_orcon, needs_consent)


def decide(
    viewer: Viewer,
    marking: Marking,
    facts: ItemFacts,
    node_nation: str,
    table: EquivalenceTable,
) -> Decision:
    """May `viewer` see an item with this marking and these facts? Names the rule that denies."""
    verdict = marking_verdict(viewer, marking, node_nation, table)
    if not verdict.allowed:
        return Decision(False, verdict.rule, table.version)
    if verdict.needs_orcon_cover and not facts.orcon_covered:
        return Decision(False, Rule.ORCON, table.version)
    if not facts.live:
        return Decision(False, Rule.NOT_LIVE, table.version)
    if verdict.needs_consent_cover and not facts.consent_covered:
        return Decision(False, Rule.THIRD_PARTY, table.version)
    if viewer.nation != node_nation and not facts.in_allowed_workspace:
        return Decision(False, Rule.WORKSPACE, table.version)
    return Decision(True, None, table.version)


def sees_source(viewer: Viewer, marking: Marking) -> bool:
    """Source-sensitive fields: originator agency only, and the source compartment if one is named."""
    if viewer.agency != marking.originator_agency or viewer.nation != marking.originator_nation:
        return False
    return marking.source_compartment is None or marking.source_compartment in viewer.compartments


@dataclass(frozen=True)
class Cover:
    """A release, consent or delivery as the rules see it (DESIGN §3.3, after rule 6).

    It names a nation and optionally an agency, and covers an item by the item's hash or by
    report version. A delivery is the release that brought a received item to this node.
    """

    kind: str
    grantor_nation: str
    nation: str
    agency: str | None
    item_hash: str | None
    version_id: int | None
    expires_at: datetime
    recalled: bool
    grantor_agency: str | None = None
    origin_id: str | None = None

    def live(self, now: datetime) -> bool:
        return not self.recalled and now < self.expires_at

    def covers_item(self, item_hash: str, version_id: int) -> bool:
        return self.item_hash == item_hash or self.version_id == version_id

    def covers_viewer(self, viewer: Viewer) -> bool:
        return self.nation == viewer.nation and (self.agency is None or self.agency == viewer.agency)


# Rule 4's "live release or consent": a release reaches a receiving node as the delivery that
# brought the item, so there the delivery is the release (live iff unrecalled and unexpired).
ORCON_COVER_KINDS = ("release", "consent", "delivery")


@dataclass(frozen=True)
class ItemState:
    """Where an item stands: its identity for covers, and its liveness and workspace."""

    item_hash: str
    version_id: int
    withdrawn: bool = False
    received: bool = False
    workspace: int | None = None


def item_facts(
    viewer: Viewer,
    marking: Marking,
    item: ItemState,
    covers: Iterable[Cover],
    now: datetime,
    allowed_workspaces: frozenset[int],
) -> ItemFacts:
    """The per-item facts for `decide`, from the covers that exist now."""
    live_covers = [c for c in covers if c.live(now) and c.covers_item(item.item_hash, item.version_id)]
    orcon = any(c.kind in ORCON_COVER_KINDS and c.agency is not None and c.covers_viewer(viewer) for c in live_covers)
    consent = any(
        c.kind == "consent" and c.grantor_nation == marking.originator_nation and c.covers_viewer(viewer)
        for c in live_covers
    )
    delivered = any(c.kind == "delivery" for c in live_covers)
    return ItemFacts(
        live=not item.withdrawn and (not item.received or delivered),
        orcon_covered=orcon,
        consent_covered=consent,
        in_allowed_workspace=item.workspace is not None and item.workspace in allowed_workspaces,
    )
