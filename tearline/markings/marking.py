"""A marking, the registry it is checked against, and its validation (DESIGN §3.2).

Invalid markings are refused with the field and the reason; they are never normalised.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from tearline import clock
from tearline.errors import MarkingError, Problem
from tearline.markings.scheme import (
    CONTROLS,
    MAX_RESERVATION_YEARS,
    RESERVED_LABEL,
    TLP1_ONLY,
    TLP2_CONTROLS,
    national_rank,
)

ADMIRALTY = re.compile(r"^[A-F][1-6]$")

# The fields of a marking (DESIGN §3.2) and of its originator, in the order they are documented.
MARKING_FIELDS = (
    "originator",
    "level",
    "rel_to",
    "controls",
    "compartments",
    "source_fields",
    "source_grade",
    "source_compartment",
    "reserved_until",
    "tlp",
)
ORIGINATOR_FIELDS = ("nation", "agency")

_Bad = Callable[[str, str], None]


@dataclass(frozen=True)
class Agency:
    name: str
    nation: str
    law_enforcement: bool


@dataclass(frozen=True)
class Compartment:
    """A compartment such as a binational vetted unit, owned by one or more agencies."""

    name: str
    owners: frozenset[str]


@dataclass(frozen=True)
class Registry:
    """What a marking is validated against: partner nations, known agencies and compartments."""

    node_nation: str
    partners: frozenset[str]
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    compartments: Mapping[str, Compartment] = field(default_factory=dict)

    @property
    def nations(self) -> frozenset[str]:
        return self.partners | {self.node_nation}

    def is_law_enforcement(self, agency: str) -> bool:
        found = self.agencies.get(agency)
        return bool(found and found.law_enforcement)

    def known_to(self, held: Iterable[str]) -> Registry:
        """The registry as an author knows it: only the compartments the author holds.

        A compartment's name is itself compartmented knowledge (DESIGN §3.3, nothing hidden shows),
        so one the author does not hold is refused exactly like one that does not exist.
        """
        mine = set(held)
        return replace(self, compartments={n: c for n, c in self.compartments.items() if n in mine})


@dataclass(frozen=True)
class Marking:
    """The marking of one portion, object or relationship."""

    originator_nation: str
    originator_agency: str
    level: str
    rel_to: frozenset[str]
    controls: frozenset[str] = frozenset()
    compartments: frozenset[str] = frozenset()
    source_fields: tuple[str, ...] = ()
    source_grade: str | None = None
    source_compartment: str | None = None
    reserved_until: datetime | None = None
    tlp: str | None = None

    @property
    def originator(self) -> tuple[str, str]:
        return (self.originator_nation, self.originator_agency)

    def as_dict(self) -> dict[str, object]:
        """Canonical plain form: sorted sets, ISO times; the wire and storage form."""
        out: dict[str, object] = {
            "originator": {"nation": self.originator_nation, "agency": self.originator_agency},
            "level": self.level,
            "rel_to": sorted(self.rel_to),
            "controls": sorted(self.controls),
            "compartments": sorted(self.compartments),
        }
        if self.source_fields:
            out["source_fields"] = list(self.source_fields)
        if self.source_grade:
            out["source_grade"] = self.source_grade
        if self.source_compartment:
            out["source_compartment"] = self.source_compartment
        if self.reserved_until:
            out["reserved_until"] = clock.as_utc(self.reserved_until).isoformat()
        if self.tlp:
            out["tlp"] = self.tlp
        return out

    def canonical(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @cached_property
    def _digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def digest(self) -> str:
        """Identity of the marking; equal markings share one stored row and one audience."""
        return self._digest


def marking_from_dict(raw: Mapping[str, object], registry: Registry, where: str = "marking") -> Marking:
    """Parse and validate a marking; raise MarkingError naming every bad field."""
    problems: list[Problem] = []

    def bad(name: str, reason: str) -> None:
        problems.append(Problem(field=f"{where}.{name}", reason=reason))

    if not isinstance(raw, Mapping):
        raise MarkingError(Problem(field=where, reason="must be an object"))
    problems.extend(unknown_field_problems(raw, where))
    origin = raw.get("originator")
    nation = agency = ""
    if isinstance(origin, Mapping):
        nation, agency = str(origin.get("nation", "")), str(origin.get("agency", ""))
    else:
        bad("originator", "required: an object with 'nation' and 'agency'")
    rel_to = _string_set(raw.get("rel_to"), "rel_to", bad)
    controls = _string_set(raw.get("controls", []), "controls", bad)
    compartments = _string_set(raw.get("compartments", []), "compartments", bad)
    source_fields = tuple(_string_set(raw.get("source_fields", []), "source_fields", bad))
    reserved = _parse_time(raw.get("reserved_until"), "reserved_until", bad)
    tlp = raw.get("tlp")
    marking = Marking(
        originator_nation=nation,
        originator_agency=agency,
        level=str(raw.get("level", "")),
        rel_to=frozenset(rel_to),
        controls=frozenset(controls) | TLP2_CONTROLS.get(_tlp_name(tlp), frozenset()),
        compartments=frozenset(compartments),
        source_fields=tuple(sorted(source_fields)),
        source_grade=_opt_str(raw.get("source_grade")),
        source_compartment=_opt_str(raw.get("source_compartment")),
        reserved_until=reserved,
        tlp=str(tlp).upper() if tlp else None,
    )
    problems.extend(marking_problems(marking, registry, where))
    if problems:
        raise MarkingError(problems)
    return marking


def unknown_field_problems(raw: Mapping[str, object], where: str = "marking") -> list[Problem]:
    """A key the marking (or its originator) does not have, refused and never dropped: `control`
    for `controls` would otherwise drop NOFORN and widen the audience. Needs no registry."""
    out = [
        Problem(f"{where}.{key}", f"not a marking field; the fields are {', '.join(MARKING_FIELDS)}")
        for key in sorted(set(raw) - set(MARKING_FIELDS), key=str)
    ]
    origin = raw.get("originator")
    if isinstance(origin, Mapping):
        reason = f"not a field of the originator; its fields are {', '.join(ORIGINATOR_FIELDS)}"
        out += [
            Problem(f"{where}.originator.{key}", reason)
            for key in sorted(set(origin) - set(ORIGINATOR_FIELDS), key=str)
        ]
    return out


def validate_marking(marking: Marking, registry: Registry, where: str = "marking") -> Marking:
    """Raise MarkingError unless the marking obeys DESIGN §3.2."""
    problems = marking_problems(marking, registry, where)
    if problems:
        raise MarkingError(problems)
    return marking


def marking_problems(m: Marking, registry: Registry, where: str = "marking") -> list[Problem]:
    """Every reason this marking must be refused (empty when it is valid)."""
    out: list[Problem] = []

    def bad(name: str, reason: str) -> None:
        out.append(Problem(field=f"{where}.{name}", reason=reason))

    _check_originator(m, registry, bad)
    if national_rank(m.originator_nation, m.level) is None:
        bad("level", f"unknown label {m.level!r} for nation {m.originator_nation!r}")
    _check_rel_to(m, registry, bad)
    for control in sorted(m.controls - set(CONTROLS)):
        bad("controls", f"unknown control {control!r}")
    for name in sorted(m.compartments - set(registry.compartments)):
        bad("compartments", f"unknown compartment {name!r}")
    _check_source(m, registry, bad)
    _check_reservation(m, bad)
    _check_tlp(m, bad)
    return out


def _check_originator(m: Marking, registry: Registry, bad: _Bad) -> None:
    if m.originator_nation not in registry.nations:
        bad("originator.nation", f"nation {m.originator_nation!r} is not a configured partner")
    known = registry.agencies.get(m.originator_agency)
    if known is None:
        bad("originator.agency", f"unknown agency {m.originator_agency!r}")
    elif known.nation != m.originator_nation:
        bad("originator.agency", f"agency {known.name!r} belongs to {known.nation}, not {m.originator_nation}")


def _check_rel_to(m: Marking, registry: Registry, bad: _Bad) -> None:
    if not m.rel_to:
        bad("rel_to", "must not be empty")
        return
    for nation in sorted(m.rel_to - registry.nations):
        bad("rel_to", f"nation {nation!r} is not a configured partner")
    if m.originator_nation not in m.rel_to:
        bad("rel_to", f"must include the originator's nation {m.originator_nation!r}")
    if "NOFORN" in m.controls and m.rel_to != {m.originator_nation}:
        others = ", ".join(sorted(m.rel_to - {m.originator_nation}))
        bad("controls", f"NOFORN cannot be combined with other nations in rel_to ({others})")


def _check_source(m: Marking, registry: Registry, bad: _Bad) -> None:
    if m.source_grade is not None and not ADMIRALTY.fullmatch(m.source_grade):
        bad("source_grade", f"{m.source_grade!r} is not an Admiralty code such as 'B2'")
    if m.source_compartment is not None and m.source_compartment not in registry.compartments:
        bad("source_compartment", f"unknown compartment {m.source_compartment!r}")


def _check_reservation(m: Marking, bad: _Bad) -> None:
    reserved = (m.originator_nation, m.level) == RESERVED_LABEL
    if reserved and m.reserved_until is None:
        bad("reserved_until", "required for MEX RESERVADA (at most 5 years)")
    if m.reserved_until is not None:
        if not reserved:
            bad("reserved_until", "only a MEX RESERVADA item carries reserved_until")
        elif clock.as_utc(m.reserved_until) > _years_after(clock.now(), MAX_RESERVATION_YEARS):
            bad("reserved_until", "more than 5 years out (Mexican transparency law)")


def _years_after(moment: datetime, years: int) -> datetime:
    """The same instant `years` calendar years later; 29 February falls back to 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _tlp_name(tlp: object) -> str:
    return "" if tlp is None else str(tlp).upper().removeprefix("TLP:")


def _check_tlp(m: Marking, bad: _Bad) -> None:
    """TLP 1.0 is refused; a TLP 2.0 label must come with the controls it implies (never added silently)."""
    if m.tlp is None or m.tlp == "":
        return
    name = _tlp_name(m.tlp)
    if name in TLP1_ONLY:
        bad("tlp", f"TLP 1.0 label {m.tlp!r} is not accepted; use TLP 2.0 (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)")
    elif name not in TLP2_CONTROLS:
        bad("tlp", f"unknown TLP 2.0 label {m.tlp!r}")
    elif not TLP2_CONTROLS[name] <= m.controls:
        missing = ", ".join(sorted(TLP2_CONTROLS[name] - m.controls))
        bad("controls", f"TLP:{name} requires {missing}")


def _string_set(value: object, name: str, bad: _Bad) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        bad(name, "must be a list of strings")
        return []
    items = [str(v) for v in value]
    return items


def _opt_str(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _parse_time(value: object, name: str, bad: _Bad) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return clock.as_utc(value)
    try:
        return clock.parse_timestamp(str(value))
    except ValueError:
        bad(name, f"{value!r} is not an RFC 3339 timestamp")
        return None
