"""DESIGN §3.3 rules 1-4 and 6 as one Cedar `permit`, and per-item decisions with cedarpy.

This is the per-item form of the marking rules, kept as the baseline that the bulk SQL filter is
measured against (`tearline bench visibility`). A differential test holds it to
`tearline.markings.visibility.decide` for a live, uncovered, non-received item on a single node.

Cedar records cannot be indexed by a value, so the markings engine's data are precomputed into
entity attributes with fixed names:
- a principal's `clearance_vs.<O>`: its clearance as compared with items originated in nation O
  (its national rank when O is its own nation, else the common level under the O agreement);
- an item's `level_for.<V>`: its level as a viewer of nation V compares it (the national rank for
  the originator's own nation, else the common level under the agreement with V).
An absent attribute means no agreement (or an unknown label): the clearance clause then fails.
Release and consent cover (rules 4 and 6), liveness (5) and workspaces (7) are item facts outside
this policy; an item that needs cover is denied here, as an uncovered item is by `decide`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cedarpy

from tearline.markings.marking import Marking
from tearline.markings.scheme import NATIONAL_LABELS, EquivalenceTable, national_rank
from tearline.markings.visibility import Viewer

POLICY_ID = "visibility-rules-1-4-6"
ACTION: dict[str, str] = {"type": "Action", "id": "read"}
PRINCIPAL_TYPE = "Principal"
ITEM_TYPE = "Item"


def _clearance_clause(viewer_nation: str, origin_nation: str) -> str:
    return (
        f'(principal.nation == "{viewer_nation}" && resource.originator_nation == "{origin_nation}"'
        f" && principal.clearance_vs has {origin_nation} && resource.level_for has {viewer_nation}"
        f" && principal.clearance_vs.{origin_nation} >= resource.level_for.{viewer_nation})"
    )


def visibility_policy(node_nation: str, nations: Iterable[str] = NATIONAL_LABELS) -> str:
    """The Cedar text of rules 1-4 and 6 for a node of `node_nation`."""
    known = sorted(nations)
    clearance = "\n     || ".join(_clearance_clause(v, o) for v in known for o in known)
    return f"""@id("{POLICY_ID}")
permit(principal, action == Action::"read", resource)
when {{
  // 1. clearance: national ranks within a nation, the common scale of the agreement across nations
  (    {clearance})
  // 2. rel_to
  && resource.rel_to.contains(principal.nation)
  // 3. every compartment of the item
  && principal.compartments.containsAll(resource.compartments)
  // 4. ORCON: the originator agency (cover is an item fact, outside this policy); LES: law enforcement
  && (!resource.controls.contains("ORCON") || principal.agency == resource.originator_agency)
  && (!resource.controls.contains("LES") || principal.law_enforcement)
  // 6. third-party rule on a node of {node_nation} (consent is an item fact, outside this policy)
  && (resource.originator_nation == "{node_nation}" || principal.nation == "{node_nation}"
      || principal.nation == resource.originator_nation)
}};
"""


def _compared_level(table: EquivalenceTable, own: str, other: str, label: str) -> int | None:
    """`label` (of nation `own`) as compared against nation `other`: national rank or common level."""
    if own == other:
        return national_rank(own, label)
    agreement = table.agreement(own, other)
    return None if agreement is None else agreement.common(own, label)


def _levels(table: EquivalenceTable, own: str, label: str, nations: Iterable[str]) -> dict[str, int]:
    found = {other: _compared_level(table, own, other, label) for other in nations}
    return {other: level for other, level in found.items() if level is not None}


def principal_attrs(
    viewer: Viewer, table: EquivalenceTable, nations: Iterable[str] = NATIONAL_LABELS
) -> dict[str, Any]:
    """Cedar attributes of a principal, precomputed from the equivalence table."""
    return {
        "nation": viewer.nation,
        "agency": viewer.agency,
        "law_enforcement": viewer.law_enforcement,
        "compartments": sorted(viewer.compartments),
        "clearance_vs": _levels(table, viewer.nation, viewer.clearance, nations),
    }


def item_attrs(marking: Marking, table: EquivalenceTable, nations: Iterable[str] = NATIONAL_LABELS) -> dict[str, Any]:
    """Cedar attributes of an item with this marking, precomputed from the equivalence table."""
    return {
        "originator_nation": marking.originator_nation,
        "originator_agency": marking.originator_agency,
        "rel_to": sorted(marking.rel_to),
        "controls": sorted(marking.controls),
        "compartments": sorted(marking.compartments),
        "level_for": _levels(table, marking.originator_nation, marking.level, nations),
    }


def entity_json(entity_type: str, uid: str, attrs_json: str) -> str:
    """One entity in Cedar's JSON form, from attributes already serialised (they are cached per marking)."""
    return f'{{"uid":{{"type":"{entity_type}","id":{json.dumps(uid)}}},"attrs":{attrs_json},"parents":[]}}'


@dataclass(frozen=True)
class CedarPrincipal:
    """A principal's parsed entity handle, reused for every decision about that principal."""

    uid: str
    entities: cedarpy.Entities

    @property
    def ref(self) -> dict[str, str]:
        return {"type": PRINCIPAL_TYPE, "id": self.uid}


class CedarVisibility:
    """Per-item decisions for one node, with the parsed policy set and entity handles reused."""

    def __init__(self, node_nation: str, table: EquivalenceTable, nations: Iterable[str] = NATIONAL_LABELS) -> None:
        self.node_nation = node_nation
        self.table = table
        self.nations = tuple(sorted(nations))
        self.policies = cedarpy.PolicySet.from_str(visibility_policy(node_nation, self.nations))

    def principal(self, uid: str, viewer: Viewer) -> CedarPrincipal:
        attrs = json.dumps(principal_attrs(viewer, self.table, self.nations))
        return CedarPrincipal(uid, cedarpy.Entities.from_json_str(f"[{entity_json(PRINCIPAL_TYPE, uid, attrs)}]"))

    def item_attrs_json(self, marking: Marking) -> str:
        return json.dumps(item_attrs(marking, self.table, self.nations))

    def decide_batch(self, principal: CedarPrincipal, items: Sequence[tuple[str, str]]) -> list[bool]:
        """One Cedar decision per item; `items` are (item uid, item attributes as JSON)."""
        if not items:
            return []
        delta = "[" + ",".join(entity_json(ITEM_TYPE, uid, attrs) for uid, attrs in items) + "]"
        entities = principal.entities.with_added_json_str(delta)
        ref = principal.ref
        requests = [
            {"principal": ref, "action": ACTION, "resource": {"type": ITEM_TYPE, "id": uid}} for uid, _ in items
        ]
        return [result.allowed for result in cedarpy.is_authorized_batch(requests, self.policies, entities)]

    def decide(self, viewer: Viewer, marking: Marking) -> bool:
        """A single decision (tests and spot checks; use `decide_batch` in bulk)."""
        principal = self.principal("viewer", viewer)
        return self.decide_batch(principal, [("item", self.item_attrs_json(marking))])[0]
