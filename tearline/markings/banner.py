"""Banner roll-up and rendering (DESIGN §3.4). A banner is computed, never typed by hand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tearline.errors import MarkingError, Problem
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable


@dataclass(frozen=True)
class Banner:
    """The rolled-up marking of a product: max level, REL TO intersection, unions of the rest."""

    common_level: int
    rel_to: frozenset[str]
    controls: frozenset[str]
    compartments: frozenset[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "common_level": self.common_level,
            "rel_to": sorted(self.rel_to),
            "controls": sorted(self.controls),
            "compartments": sorted(self.compartments),
        }


def common_level(marking: Marking, node_nation: str, table: EquivalenceTable) -> int:
    """The marking's level on the common scale of the agreement between its nation and the node's."""
    agreement = table.agreement(marking.originator_nation, node_nation)
    level = agreement.common(marking.originator_nation, marking.level) if agreement else None
    if level is None:
        raise MarkingError(
            Problem(
                field="level",
                reason=f"no equivalence between {marking.originator_nation} {marking.level!r} "
                f"and {node_nation} in table version {table.version}",
            )
        )
    return level


def roll_up(markings: Iterable[Marking], node_nation: str, table: EquivalenceTable) -> Banner:
    """Roll up everything a product contains; refuse an empty product or an empty REL TO."""
    items = list(markings)
    if not items:
        raise MarkingError(Problem(field="banner", reason="nothing to roll up: the product is empty"))
    rel_to = frozenset.intersection(*(m.rel_to for m in items))
    if not rel_to:
        raise MarkingError(
            Problem(field="rel_to", reason="REL TO intersection is empty: no nation may receive this product")
        )
    return Banner(
        common_level=max(common_level(m, node_nation, table) for m in items),
        rel_to=rel_to,
        controls=frozenset().union(*(m.controls for m in items)),
        compartments=frozenset().union(*(m.compartments for m in items)),
    )


def render(banner: Banner, node_nation: str, table: EquivalenceTable) -> str:
    """`LEVEL[//COMPARTMENTS][//CONTROLS][//REL TO N, others | //NOFORN]` on a node of `node_nation`."""
    agreement = table.agreement(node_nation, node_nation)
    label = agreement.highest_label(node_nation, banner.common_level) if agreement else None
    if label is None:
        raise MarkingError(
            Problem(field="level", reason=f"{node_nation} has no label at common level {banner.common_level}")
        )
    parts = [label]
    if banner.compartments:
        parts.append("/".join(sorted(banner.compartments)))
    controls = sorted(banner.controls - {"NOFORN"})
    if controls:
        parts.append("/".join(controls))
    parts.append(dissemination(banner.rel_to, node_nation))
    return "//".join(parts)


def dissemination(rel_to: frozenset[str], node_nation: str) -> str:
    """NOFORN iff the set is exactly the node's nation; otherwise REL TO with the node's nation first."""
    if rel_to == {node_nation}:
        return "NOFORN"
    head = [node_nation] if node_nation in rel_to else []
    return "REL TO " + ", ".join(head + sorted(rel_to - {node_nation}))


def banner_text(markings: Iterable[Marking], node_nation: str, table: EquivalenceTable) -> str:
    """Roll up and render in one step."""
    return render(roll_up(markings, node_nation, table), node_nation, table)


def portion_mark(marking: Marking, node_nation: str, table: EquivalenceTable) -> str:
    """A portion's own mark on a node of `node_nation`: its level as its nation writes it, its REL TO
    in the order the node's banners use (DESIGN §3.4: the node's nation first, then the others A–Z),
    so that a US SECRET portion reads `(SECRET//REL TO MEX, USA)` on the Mexican node, under a banner
    `REL TO MEX, USA`. NOFORN is the originator's: it means REL TO its own nation alone (§3.2)."""
    parts = [marking.level]
    if marking.compartments:
        parts.append("/".join(sorted(marking.compartments)))
    controls = sorted(marking.controls - {"NOFORN"})
    if controls:
        parts.append("/".join(controls))
    if marking.rel_to == {marking.originator_nation}:
        parts.append("NOFORN")
    else:
        parts.append(dissemination(marking.rel_to, node_nation))
    return "(" + "//".join(parts) + ")"
