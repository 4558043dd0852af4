"""Plain factories for the markings tests: a fictional registry, markings, viewers, tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from tearline.errors import MarkingError, Problem
from tearline.markings import (
    Agency,
    Agreement,
    Compartment,
    EquivalenceTable,
    Marking,
    Registry,
    Viewer,
)
from tearline.markings.scheme import TRILATERAL

# A fixed instant for every rule that reads the clock (use with tearline.clock.frozen_at).
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# Fictional agencies: one law-enforcement and one other agency per nation.
AGENCIES = {
    a.name: a
    for a in (
        Agency("US-DRUGS", "USA", law_enforcement=True),
        Agency("US-INTEL", "USA", law_enforcement=False),
        Agency("CA-POLICE", "CAN", law_enforcement=True),
        Agency("CA-INTEL", "CAN", law_enforcement=False),
        Agency("MX-FISCALIA", "MEX", law_enforcement=True),
        Agency("MX-INTEL", "MEX", law_enforcement=False),
    )
}

# A binational vetted unit, and a US-only source compartment.
COMPARTMENTS = {
    c.name: c
    for c in (
        Compartment("VU-NORTE", frozenset({"US-DRUGS", "MX-FISCALIA"})),
        Compartment("HALCON", frozenset({"US-DRUGS"})),
        Compartment("ALPHA", frozenset({"US-DRUGS"})),
    )
}

NATIONS = ("USA", "CAN", "MEX")


def registry(node: str = "USA", partners: Iterable[str] | None = None) -> Registry:
    """The registry of a node of nation `node`; by default the other two nations are partners."""
    chosen = frozenset(partners) if partners is not None else frozenset(NATIONS) - {node}
    return Registry(node_nation=node, partners=chosen, agencies=AGENCIES, compartments=COMPARTMENTS)


_AGENCY_OF = {"USA": "US-DRUGS", "CAN": "CA-POLICE", "MEX": "MX-FISCALIA"}


def marking(
    nation: str = "USA",
    level: str = "SECRET",
    rel_to: Iterable[str] = ("USA", "CAN", "MEX"),
    controls: Iterable[str] = (),
    compartments: Iterable[str] = (),
    agency: str | None = None,
    **extra: Any,
) -> Marking:
    """A Marking built directly (not validated)."""
    return Marking(
        originator_nation=nation,
        originator_agency=agency or _AGENCY_OF[nation],
        level=level,
        rel_to=frozenset(rel_to),
        controls=frozenset(controls),
        compartments=frozenset(compartments),
        **extra,
    )


def raw(**overrides: Any) -> dict[str, Any]:
    """A valid wire-form marking of the US drug agency; keyword arguments replace keys (None removes one)."""
    out: dict[str, Any] = {
        "originator": {"nation": "USA", "agency": "US-DRUGS"},
        "level": "SECRET",
        "rel_to": ["USA", "CAN", "MEX"],
        "controls": [],
        "compartments": [],
    }
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def mex_raw(**overrides: Any) -> dict[str, Any]:
    base = raw(originator={"nation": "MEX", "agency": "MX-FISCALIA"}, level="SECRETA", rel_to=["MEX", "USA"])
    base.update(overrides)
    return base


def viewer(
    nation: str = "USA",
    clearance: str = "TOP SECRET",
    agency: str | None = None,
    compartments: Iterable[str] = (),
    law_enforcement: bool | None = None,
) -> Viewer:
    chosen = agency or _AGENCY_OF[nation]
    le = AGENCIES[chosen].law_enforcement if law_enforcement is None else law_enforcement
    return Viewer(
        nation=nation,
        agency=chosen,
        clearance=clearance,
        compartments=frozenset(compartments),
        law_enforcement=le,
    )


def usa_mex_only_table(version: int = 7) -> EquivalenceTable:
    """A table with a single USA–MEX agreement: CAN has no agreement with anyone."""
    columns = {n: TRILATERAL.columns[n] for n in ("USA", "MEX")}
    return EquivalenceTable(
        version=version,
        agreements=(Agreement(name="usa-mex", nations=frozenset({"USA", "MEX"}), ceiling=2, columns=columns),),
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> list[Problem]:
    """Run `call`, expect a MarkingError (a 4xx), and return its problems."""
    with pytest.raises(MarkingError) as caught:
        call(*args, **kwargs)
    assert 400 <= caught.value.status < 500
    assert caught.value.problems
    return caught.value.problems


def assert_names(problems: list[Problem], field: str, *values: str) -> None:
    """Some problem is about `field` and its reason names every one of `values`."""
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem on {field!r}: {problems}"
    assert any(all(v in p.reason for v in values) for p in matching), f"{values} not named in {matching}"
