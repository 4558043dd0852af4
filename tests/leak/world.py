"""Random worlds for the leak harness: principals, markings, reports, grants, workspaces, host rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from tearline.markings.scheme import NATIONAL_LABELS

AGENCIES = [
    ("US-DEMO-NARC", "USA", True),
    ("US-DEMO-INTEL", "USA", False),
    ("MX-DEMO-FIA", "MEX", True),
    ("MX-DEMO-CNI", "MEX", False),
    ("CA-DEMO-BORDER", "CAN", True),
]
COMPARTMENTS = {"VU-HALCON": ["US-DEMO-NARC", "MX-DEMO-FIA"], "VU-NORTE": ["US-DEMO-INTEL"]}
# One accented word: full-text search must fold it the same way on both databases.
WORDS = ["alpha", "bravo", "cerro", "peña"]


@st.composite
def markings(draw: st.DrawFn, orig_agency: str | None = None) -> dict[str, Any]:
    agency, nation, _ = draw(st.sampled_from(AGENCIES)) if orig_agency is None else _agency(orig_agency)
    level = draw(st.sampled_from(NATIONAL_LABELS[nation]))
    others = draw(st.sets(st.sampled_from(sorted({"USA", "MEX", "CAN"} - {nation}))))
    controls = set(draw(st.sets(st.sampled_from(["ORCON", "LES", "DP"]))))
    if not others and draw(st.booleans()):
        controls.add("NOFORN")
    raw: dict[str, Any] = {
        "originator": {"nation": nation, "agency": agency},
        "level": level,
        "rel_to": sorted({nation} | others),
        "controls": sorted(controls),
        "compartments": [draw(st.sampled_from(sorted(COMPARTMENTS)))] if draw(st.integers(0, 3)) == 0 else [],
    }
    if (nation, level) == ("MEX", "RESERVADA"):
        raw["reserved_until"] = "2027-01-01T00:00:00Z"
    if draw(st.integers(0, 4)) == 0:
        raw["source_fields"] = ["text", "name"]
        raw["source_grade"] = "B2"
        if draw(st.booleans()):
            raw["source_compartment"] = draw(st.sampled_from(sorted(COMPARTMENTS)))
    return raw


def _agency(name: str) -> tuple[str, str, bool]:
    return next(a for a in AGENCIES if a[0] == name)


@dataclass
class PrincipalSpec:
    username: str
    agency: str
    nation: str
    clearance: str
    compartments: list[str]
    member: bool


@st.composite
def principals(draw: st.DrawFn, index: int) -> PrincipalSpec:
    agency, nation, _ = draw(st.sampled_from(AGENCIES))
    return PrincipalSpec(
        username=f"p{index}",
        agency=agency,
        nation=nation,
        clearance=draw(st.sampled_from(NATIONAL_LABELS[nation])),
        compartments=sorted(draw(st.sets(st.sampled_from(sorted(COMPARTMENTS))))),
        member=draw(st.integers(0, 3)) > 0,
    )


@dataclass
class ObjectSpec:
    key: str
    stix_type: str
    name: str
    marking: dict[str, Any]
    lat: float | None = None
    lon: float | None = None
    source: str | None = None
    target: str | None = None


@dataclass
class ReportSpec:
    title: tuple[str, dict[str, Any]]
    portions: list[tuple[str, dict[str, Any]]]
    objects: list[ObjectSpec]
    in_workspace: bool
    received: bool
    withdrawn: bool
    edited: bool


@st.composite
def texts(draw: st.DrawFn) -> str:
    return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))


@st.composite
def objects(draw: st.DrawFn) -> list[ObjectSpec]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["identity", "location"]))
        lat, lon = (draw(st.floats(20, 50)), draw(st.floats(-125, -95))) if kind == "location" else (None, None)
        out.append(ObjectSpec(f"o{i}", kind, draw(texts()), draw(markings()), lat, lon))
    if len(out) >= 2 and draw(st.booleans()):
        out.append(ObjectSpec("rel", "relationship", "related-to", draw(markings()), source="o0", target="o1"))
    return out


@st.composite
def reports(draw: st.DrawFn) -> ReportSpec:
    return ReportSpec(
        title=(draw(texts()), draw(markings())),
        portions=draw(st.lists(st.tuples(texts(), markings()), max_size=3)),
        objects=draw(objects()),
        in_workspace=draw(st.integers(0, 3)) > 0,
        received=draw(st.integers(0, 3)) == 0,
        withdrawn=draw(st.integers(0, 5)) == 0,
        edited=draw(st.integers(0, 3)) == 0,
    )


@dataclass
class GrantSpec:
    kind: str
    grantor_nation: str
    nation: str
    agency: str | None
    by_version: bool
    target: int  # index into the stored items, modulo their number
    expired: bool
    recalled: bool


grants = st.builds(
    GrantSpec,
    kind=st.sampled_from(["release", "consent", "delivery"]),
    grantor_nation=st.sampled_from(["USA", "MEX", "CAN"]),
    nation=st.sampled_from(["USA", "MEX", "CAN"]),
    agency=st.sampled_from([None] + [a[0] for a in AGENCIES]),
    by_version=st.booleans(),
    target=st.integers(0, 50),
    expired=st.booleans(),
    recalled=st.integers(0, 3).map(lambda v: v == 0),
)


@dataclass
class WorldSpec:
    principals: list[PrincipalSpec]
    reports: list[ReportSpec]
    grants: list[GrantSpec]
    forbidden_nation: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    count = draw(st.integers(2, 6))
    return WorldSpec(
        principals=[draw(principals(i)) for i in range(count)],
        reports=draw(st.lists(reports(), min_size=1, max_size=3)),
        grants=draw(st.lists(grants, max_size=8)),
        forbidden_nation=draw(st.sampled_from([None, "MEX", "CAN"])),
    )


def stix_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def later(days: int) -> timedelta:
    return timedelta(days=days)
