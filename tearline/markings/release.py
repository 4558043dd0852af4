"""What may leave in a tearline (DESIGN §3.5): the keep rule for one item and one recipient.

A tearline for recipient nation R (and optionally agency G), made by node (N, A), keeps an item
iff every rule below holds; otherwise the first rule that fails names why it was withheld.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tearline.markings.marking import Marking, Registry
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import Cover


class Withheld(StrEnum):
    """Why an item stayed home."""

    NOT_RELEASABLE = "not-releasable-to-recipient"
    NO_AGREEMENT = "no-equivalence-agreement"
    ABOVE_CEILING = "above-release-ceiling"
    COMPARTMENT = "compartment"
    ORCON = "orcon-without-approval"
    LES = "les-needs-law-enforcement-recipient"
    THIRD_PARTY = "third-party-without-consent"
    NOT_LIVE = "not-live"


@dataclass(frozen=True)
class Recipient:
    nation: str
    agency: str | None = None


@dataclass(frozen=True)
class Maker:
    """The node that makes the tearline."""

    nation: str
    agency: str


def consents_covering(
    consents: Iterable[Cover], marking: Marking, recipient: Recipient, item_hash: str, version_id: int, now: datetime
) -> list[Cover]:
    """Live consents from the item's originator that cover (R, G, x)."""
    return [
        c
        for c in consents
        if c.kind == "consent"
        and c.live(now)
        and c.grantor_nation == marking.originator_nation
        and c.nation == recipient.nation
        and (c.agency is None or c.agency == recipient.agency)
        and c.covers_item(item_hash, version_id)
    ]


def release_rule(
    marking: Marking,
    recipient: Recipient,
    maker: Maker,
    registry: Registry,
    table: EquivalenceTable,
    covering: list[Cover],
) -> Withheld | None:
    """None if the item may go to the recipient; otherwise the rule that withholds it.

    `covering` are the live consents from the item's originator that cover (R, G, x).
    """
    if recipient.nation not in marking.rel_to:
        return Withheld.NOT_RELEASABLE
    rule = _ceiling_rule(marking, recipient, maker, table)
    if rule is not None:
        return rule
    if marking.compartments and not _owns_all(recipient.agency, marking.compartments, registry):
        return Withheld.COMPARTMENT
    orcon_consented = any(c.grantor_agency == marking.originator_agency and c.agency is not None for c in covering)
    if "ORCON" in marking.controls and marking.originator_agency != maker.agency and not orcon_consented:
        return Withheld.ORCON
    if "LES" in marking.controls and not (recipient.agency and registry.is_law_enforcement(recipient.agency)):
        return Withheld.LES
    if marking.originator_nation != maker.nation and not covering:
        return Withheld.THIRD_PARTY
    return None


def _ceiling_rule(marking: Marking, recipient: Recipient, maker: Maker, table: EquivalenceTable) -> Withheld | None:
    if recipient.nation == marking.originator_nation:
        return None  # no ceiling when the recipient is the item's own nation
    read_under = table.agreement(marking.originator_nation, recipient.nation)
    ceiling_of = table.agreement(maker.nation, recipient.nation)
    if read_under is None or ceiling_of is None:
        return Withheld.NO_AGREEMENT
    level = read_under.common(marking.originator_nation, marking.level)
    if level is None:
        return Withheld.NO_AGREEMENT
    return Withheld.ABOVE_CEILING if level > ceiling_of.ceiling else None


def recipient_agency_problem(recipient: Recipient, registry: Registry) -> str | None:
    """Why a named recipient agency cannot stand for its nation, or None. An agency of another nation
    would pass the compartment, ORCON and LES rules of §3.5 for the wrong nation (§3.2 holds a
    principal to its agency's nation alike): a US agency named for Mexico let a vetted-unit portion go."""
    if recipient.agency is None:
        return None
    agency = registry.agencies.get(recipient.agency)
    if agency is None:
        return f"unknown agency {recipient.agency!r}; `tearline agency list` shows them"
    if agency.nation != recipient.nation:
        return f"{recipient.agency} is an agency of {agency.nation}, not of the recipient nation {recipient.nation}"
    return None


def _owns_all(agency: str | None, compartments: frozenset[str], registry: Registry) -> bool:
    if agency is None:
        return False
    return all(agency in registry.compartments[c].owners for c in compartments if c in registry.compartments) and all(
        c in registry.compartments for c in compartments
    )
