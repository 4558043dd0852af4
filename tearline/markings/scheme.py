"""National classification schemes, the closed list of controls, and the equivalence table.

The equivalence table is data (DESIGN §3.1): versioned, one column per nation per agreement.
The shipped default is one trilateral agreement serving every pair, with a release ceiling of 3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

# Each nation ranks its own labels in the order listed (lowest first).
NATIONAL_LABELS: Mapping[str, tuple[str, ...]] = {
    "USA": ("UNCLASSIFIED", "CUI", "CONFIDENTIAL", "SECRET", "TOP SECRET"),
    "CAN": (
        "UNCLASSIFIED",
        "PROTECTED A",
        "PROTECTED B",
        "PROTECTED C",
        "CONFIDENTIAL",
        "SECRET",
        "TOP SECRET",
    ),
    "MEX": ("PÚBLICA", "RESERVADA", "CONFIDENCIAL", "SECRETA", "ULTRA SECRETA"),
}

# The closed, versioned list of controls and what each one does (DESIGN §3.2).
CONTROLS_VERSION = 1
CONTROLS: Mapping[str, str] = {
    "NOFORN": "releasable only to the originator's nation (rel_to = {originator nation})",
    "ORCON": "onward release needs the originator agency",
    "LES": "only principals of law-enforcement agencies",
    "DP": "personal data (datos personales)",
}

# TLP 2.0 adds controls; it never lowers a national marking. TLP 1.0 names are refused.
TLP2_CONTROLS: Mapping[str, frozenset[str]] = {
    "CLEAR": frozenset(),
    "GREEN": frozenset(),
    "AMBER": frozenset(),
    "AMBER+STRICT": frozenset({"ORCON"}),
    "RED": frozenset({"ORCON", "NOFORN"}),
}
TLP1_ONLY = frozenset({"WHITE"})

# Mexican transparency law: RESERVADA may be reserved for at most five years.
RESERVED_LABEL = ("MEX", "RESERVADA")
MAX_RESERVATION_YEARS = 5
MAX_RESERVATION_DAYS = 5 * 365 + 1  # kept for importers; the rule is MAX_RESERVATION_YEARS calendar years


def national_rank(nation: str, label: str) -> int | None:
    """Rank of a label within its own nation's scheme, or None if the label is not one of its."""
    labels = NATIONAL_LABELS.get(nation)
    if labels is None or label not in labels:
        return None
    return labels.index(label)


@dataclass(frozen=True)
class Agreement:
    """An equivalence agreement between nations: each nation's labels on a common scale."""

    name: str
    nations: frozenset[str]
    ceiling: int
    columns: Mapping[str, Mapping[str, int]]

    def common(self, nation: str, label: str) -> int | None:
        return self.columns.get(nation, {}).get(label)

    def highest_label(self, nation: str, common: int) -> str | None:
        """The nation's highest-ranked label at this common level (a banner never understates)."""
        at_level = [lbl for lbl, lvl in self.columns.get(nation, {}).items() if lvl == common]
        if not at_level:
            return None
        return max(at_level, key=lambda lbl: national_rank(nation, lbl) or 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "nations": sorted(self.nations),
            "ceiling": self.ceiling,
            "columns": {n: dict(c) for n, c in sorted(self.columns.items())},
        }


@dataclass(frozen=True)
class EquivalenceTable:
    """One version of the node's equivalence table; every decision logs `version`."""

    version: int
    agreements: tuple[Agreement, ...] = field(default_factory=tuple)

    def agreement(self, a: str, b: str) -> Agreement | None:
        """The agreement that serves the pair (a, b), or None: then every cross-nation check denies."""
        for agreement in self.agreements:
            if a in agreement.nations and b in agreement.nations:
                return agreement
        return None

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "agreements": [a.as_dict() for a in self.agreements]}

    def column_digest(self, nation: str) -> str:
        """Hash of one nation's columns, to tell whose column a new version changes."""
        cols = {a.name: dict(a.columns.get(nation, {})) for a in self.agreements}
        return hashlib.sha256(json.dumps(cols, sort_keys=True).encode()).hexdigest()

    @staticmethod
    def from_dict(data: Mapping[str, object]) -> EquivalenceTable:
        agreements = []
        for raw in data["agreements"]:  # type: ignore[attr-defined]
            agreements.append(
                Agreement(
                    name=str(raw["name"]),
                    nations=frozenset(raw["nations"]),
                    ceiling=int(raw["ceiling"]),
                    columns={n: {lbl: int(v) for lbl, v in col.items()} for n, col in raw["columns"].items()},
                )
            )
        return EquivalenceTable(version=int(data["version"]), agreements=tuple(agreements))  # type: ignore[call-overload]


TRILATERAL = Agreement(
    name="trilateral-demo",
    nations=frozenset({"USA", "CAN", "MEX"}),
    ceiling=3,
    columns={
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
    },
)

DEFAULT_TABLE = EquivalenceTable(version=1, agreements=(TRILATERAL,))
