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
        # Text and name hidden, or only the coordinates (a search by place must still find what shows).
        hidden = [["text", "name"], ["latitude", "longitude"], ["name", "latitude"]]
        raw["source_fields"] = draw(st.sampled_from(hidden))
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
    portions = draw(st.lists(st.tuples(texts(), markings()), max_size=3))
    received = draw(st.integers(0, 3)) == 0
    if received and draw(st.booleans()):
        # ORCON released to this nation: who sees it turns on the delivery's agency (rule 4).
        portions.append((draw(texts()), _orcon_for_usa(draw(markings()))))
    return ReportSpec(
        title=(draw(texts()), draw(markings())),
        portions=portions,
        objects=draw(objects()),
        in_workspace=draw(st.integers(0, 3)) > 0,
        received=received,
        withdrawn=draw(st.integers(0, 5)) == 0,
        edited=draw(st.integers(0, 3)) == 0,
    )


def _orcon_for_usa(raw: dict[str, Any]) -> dict[str, Any]:
    rel_to = sorted({*raw["rel_to"], "USA"})
    controls = {*raw["controls"], "ORCON"} - ({"NOFORN"} if len(rel_to) > 1 else set())
    return {**raw, "rel_to": rel_to, "controls": sorted(controls)}


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
class DeliverySpec:
    """A release as this (USA) node stores it on receipt: a delivery of one received item, naming
    this nation and the recipient agency, if the release named one. Random grants rarely hit a
    received item with the node's own nation, so ORCON cover by delivery (rule 4) is drawn apart."""

    agency: str | None
    by_version: bool
    target: int  # index into the stored received items, modulo their number
    expired: bool
    recalled: bool


def deliveries(agencies: list[str]) -> st.SearchStrategy[DeliverySpec]:
    """Deliveries naming one of `agencies` (the world's own US principals'), or this nation alone."""
    return st.builds(
        DeliverySpec,
        agency=st.sampled_from([None, *agencies]),
        by_version=st.booleans(),
        target=st.integers(0, 50),
        expired=st.integers(0, 3).map(lambda v: v == 0),
        recalled=st.integers(0, 3).map(lambda v: v == 0),
    )


@dataclass
class WorldSpec:
    principals: list[PrincipalSpec]
    reports: list[ReportSpec]
    grants: list[GrantSpec]
    forbidden_nation: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    deliveries: list[DeliverySpec] = field(default_factory=list)


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    count = draw(st.integers(2, 6))
    people = [draw(principals(i)) for i in range(count)]
    local = sorted({p.agency for p in people if p.nation == "USA"}) or [a[0] for a in AGENCIES if a[1] == "USA"]
    return WorldSpec(
        principals=people,
        reports=draw(st.lists(reports(), min_size=1, max_size=3)),
        grants=draw(st.lists(grants, max_size=8)),
        forbidden_nation=draw(st.sampled_from([None, "MEX", "CAN"])),
        deliveries=draw(st.lists(deliveries(local), max_size=4)),
    )


def stix_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def later(days: int) -> timedelta:
    return timedelta(days=days)


def _mexican(*controls: str) -> dict[str, Any]:
    return {
        "originator": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "level": "SECRETA",
        "rel_to": ["MEX", "USA"],
        "controls": sorted(controls),
        "compartments": [],
    }


def _us_principal(username: str, agency: str) -> PrincipalSpec:
    return PrincipalSpec(username, agency, "USA", "TOP SECRET", [], member=True)


# Always run, beside the random worlds: an ORCON portion received under a release to one US agency
# (stored as its delivery). The named agency sees it; the other US agency sees only the title.
ORCON_DELIVERED = WorldSpec(
    principals=[_us_principal("p0", "US-DEMO-INTEL"), _us_principal("p1", "US-DEMO-NARC")],
    reports=[
        ReportSpec(
            title=("alpha", _mexican()),
            portions=[("bravo", _mexican("ORCON"))],
            objects=[],
            in_workspace=False,
            received=True,
            withdrawn=False,
            edited=False,
        )
    ],
    grants=[],
    forbidden_nation=None,
    deliveries=[DeliverySpec("US-DEMO-INTEL", by_version=True, target=0, expired=False, recalled=False)],
)
