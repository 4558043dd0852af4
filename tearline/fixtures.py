"""The fictional demo scenario of DESIGN §5, shared by the demo, the tests and the browser tests.

Every organisation, person, phone, plate and event here is invented; only the geography is real.
Agencies carry a DEMO suffix so that nobody mistakes them for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tearline import clock
from tearline.clock import stix_timestamp
from tearline.db.models import Principal
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.node import Node
from tearline.policy.host import add_member, add_workspace
from tearline.store import registry as reg
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report

# (name, nation, law enforcement)
AGENCIES = [
    ("US-DEMO-NARC", "USA", True),
    ("US-DEMO-INTEL", "USA", False),
    ("MX-DEMO-FIA", "MEX", True),
    ("MX-DEMO-CNI", "MEX", False),
    ("MX-DEMO-UIS", "MEX", True),
    ("CA-DEMO-BORDER", "CAN", True),
]
VETTED_UNIT = "VU-HALCON"
WORKSPACE = "fc-paso-del-norte"

# username: (nation, agency, clearance, compartments, roles, password)
CAST: dict[str, tuple[str, str, str, list[str], list[str], str]] = {
    "ana.analyst": ("USA", "US-DEMO-NARC", "SECRET", [VETTED_UNIT], ["analyst"], "demo-ana-2026"),
    "dan.disclosure": ("USA", "US-DEMO-NARC", "SECRET", [], ["disclosure_officer"], "demo-dan-2026"),
    "dora.disclosure": ("USA", "US-DEMO-NARC", "TOP SECRET", [], ["disclosure_officer"], "demo-dora-2026"),
    "ian.intel": ("USA", "US-DEMO-INTEL", "SECRET", [], ["analyst"], "demo-ian-2026"),
    "carla.auditor": ("USA", "US-DEMO-NARC", "SECRET", [], ["auditor"], "demo-carla-2026"),
    "adam.admin": ("USA", "US-DEMO-NARC", "CUI", [], ["admin"], "demo-adam-2026"),
    "mateo.enlace": ("MEX", "MX-DEMO-FIA", "SECRETA", [], ["analyst"], "demo-mateo-2026"),
    "chloe.liaison": ("CAN", "CA-DEMO-BORDER", "SECRET", [], ["analyst"], "demo-chloe-2026"),
}
WORKSPACE_MEMBERS = ["ana.analyst", "mateo.enlace", "chloe.liaison"]


@dataclass
class Demo:
    """What the scenario built: principals by username and report ids by short name."""

    principals: dict[str, Principal] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    release_request: int | None = None

    @staticmethod
    def passwords() -> dict[str, str]:
        return {name: spec[5] for name, spec in CAST.items()}


def us_marking(registry: Registry, rel_to: list[str], **extra: Any) -> Marking:
    raw = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": rel_to}
    raw.update(extra)
    return marking_from_dict(raw, registry)


def build_registry(session: Session) -> None:
    for name, nation, law_enforcement in AGENCIES:
        reg.add_agency(session, name, nation, law_enforcement)
    # The binational vetted unit: our agency and a Mexican sensitive-investigations unit own it.
    reg.add_compartment(session, VETTED_UNIT, ["US-DEMO-NARC", "MX-DEMO-UIS"])


def build_cast(session: Session, demo: Demo) -> None:
    for username, (nation, agency, clearance, compartments, roles, password) in CAST.items():
        demo.principals[username] = add_principal(
            session, username, nation, agency, clearance, compartments, roles, password
        )
    workspace = add_workspace(session, WORKSPACE, "Paso del Norte joint intelligence centre (demo)", "USA")
    for username in WORKSPACE_MEMBERS:
        add_member(session, workspace, demo.principals[username])


def convoy_report(registry: Registry, start: datetime) -> ReportDraft:
    """Report 1 of DESIGN §5: a front company's convoy moving north from Torreón toward Ciudad Juárez."""
    us_mx = us_marking(registry, ["USA", "MEX"])
    us_mx_les = us_marking(registry, ["USA", "MEX"], controls=["LES"])
    all_three = us_marking(registry, ["USA", "CAN", "MEX"])
    source = us_marking(registry, ["USA"], controls=["NOFORN"], source_fields=["text"], source_grade="B2")
    vetted = us_marking(registry, ["USA", "MEX"], compartments=[VETTED_UNIT])
    return ReportDraft(
        stix_id="report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01",
        title=PortionDraft("Transportes Cerro Pardo convoy, Torreón to Ciudad Juárez", us_mx),
        portions=(
            PortionDraft(
                "Three tractor-trailers of Transportes Cerro Pardo, a front company, left Torreón northbound "
                "on Highway 49 toward Ciudad Juárez, with a planned stop at Jiménez, Chihuahua.",
                us_mx_les,
            ),
            PortionDraft(
                "The network's buyer meets a contact at the port of Vancouver to arrange onward shipment "
                "of precursor chemicals.",
                all_three,
            ),
            PortionDraft(
                "Reporting comes from a person inside the company's dispatch office with direct access.", source
            ),
            PortionDraft(
                "The binational vetted unit plans to observe the Jiménez stop before any interdiction.", vetted
            ),
        ),
        objects=_convoy_objects(us_mx, all_three, start),
        predicate="Reasonable suspicion of conspiracy to import controlled substances (fictional demo case).",
        need_to_know="Counter-narcotics analysts of the partner agencies working the Highway 49 corridor.",
        review_due=start + timedelta(days=365),
        workspace=WORKSPACE,
    )


def _convoy_objects(us_mx: Marking, all_three: Marking, start: datetime) -> tuple[ObjectDraft, ...]:
    company = "identity--0d9b1c7e-2f4a-4b8e-9a61-5c3e2f1a7b01"
    driver = "identity--3a7e5b2c-8d1f-4e6a-b9c2-7f4d1e8a2c02"
    buyer = "identity--9c2d4e6f-1a3b-4c5d-8e7f-0a1b2c3d4e03"
    phone = "x-tearline-phone--5b8e2a1c-3d4f-4a6b-9c7d-1e2f3a4b5c04"
    truck = "x-tearline-vehicle--7d1e3f5a-2b4c-4d6e-8f9a-0b1c2d3e4f05"
    route = [
        ("Torreón, Coahuila", 25.5428, -103.4068, 0),
        ("Jiménez, Chihuahua", 27.1316, -104.9158, 9),
        ("Ciudad Juárez, Chihuahua", 31.6904, -106.4245, 20),
    ]
    objects = [
        ObjectDraft(
            company,
            "identity",
            {"name": "Transportes Cerro Pardo S.A. de C.V.", "identity_class": "organization"},
            us_mx,
            name="Transportes Cerro Pardo S.A. de C.V.",
        ),
        ObjectDraft(
            driver,
            "identity",
            {"name": "Aurelio Quintanar Bastida", "identity_class": "individual"},
            us_mx,
            name="Aurelio Quintanar Bastida",
        ),
        ObjectDraft(
            buyer,
            "identity",
            {"name": "Rubén Esquivel Otálora", "identity_class": "individual"},
            all_three,
            name="Rubén Esquivel Otálora",
        ),
        ObjectDraft(phone, "x-tearline-phone", {"number": "+528715550142"}, us_mx, name="+528715550142"),
        ObjectDraft(
            truck,
            "x-tearline-vehicle",
            {"plate": "FTX-4821", "make": "Freightliner", "country": "MEX"},
            us_mx,
            name="FTX-4821",
        ),
        ObjectDraft(
            "relationship--1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a06",
            "relationship",
            {"relationship_type": "employed-by", "source_ref": driver, "target_ref": company},
            us_mx,
            name="employed-by",
            source_ref=driver,
            target_ref=company,
        ),
        ObjectDraft(
            "relationship--2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c07",
            "relationship",
            {"relationship_type": "uses", "source_ref": driver, "target_ref": phone},
            us_mx,
            name="uses",
            source_ref=driver,
            target_ref=phone,
        ),
    ]
    for i, (place, lat, lon, hours) in enumerate(route):
        location = f"location--4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e{i:02d}"
        objects.append(
            ObjectDraft(
                location,
                "location",
                {"name": place, "latitude": lat, "longitude": lon},
                us_mx,
                name=place,
                latitude=lat,
                longitude=lon,
            )
        )
        objects.append(
            ObjectDraft(
                f"sighting--8e9f0a1b-2c3d-4e4f-9a6b-7c8d9e0f1a{i:02d}",
                "sighting",
                {
                    "sighting_of_ref": truck,
                    "where_sighted_refs": [location],
                    "first_seen": stix_timestamp(start + timedelta(hours=hours)),
                },
                us_mx,
                name=f"FTX-4821 at {place}",
                observed_at=start + timedelta(hours=hours),
                latitude=lat,
                longitude=lon,
                source_ref=truck,
                target_ref=location,
            )
        )
    vancouver = "location--4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e90"
    objects.append(
        ObjectDraft(
            vancouver,
            "location",
            {"name": "Port of Vancouver, British Columbia", "latitude": 49.2888, "longitude": -123.1111},
            all_three,
            name="Port of Vancouver",
            latitude=49.2888,
            longitude=-123.1111,
        )
    )
    return tuple(objects)


def precursor_report(registry: Registry, start: datetime) -> ReportDraft:
    """A lower-level report that every partner may read, outside any workspace."""
    cui = marking_from_dict(
        {"originator": {"nation": "USA", "agency": "US-DEMO-INTEL"}, "level": "CUI", "rel_to": ["USA", "CAN", "MEX"]},
        registry,
    )
    return ReportDraft(
        stix_id="report--0b7a6c1d-9e2f-4a3b-8c4d-5e6f7a8b9c10",
        title=PortionDraft("Precursor chemical consignments through Manzanillo", cui),
        portions=(PortionDraft("Mislabelled precursor drums were declared as industrial solvents.", cui),),
        predicate="Reasonable suspicion of precursor diversion (fictional demo case).",
        review_due=start + timedelta(days=180),
    )


def build_demo(node: Node, start: datetime | None = None, pending_release: bool = False) -> Demo:
    """Build the US node's part of the scenario in a freshly initialised node.

    `pending_release` also opens step 2 of the storyline: ana's request to release the convoy
    report to Mexico's FIA, waiting for two disclosure officers.
    """
    start = start or clock.now()
    demo = Demo()
    with node.db.write() as session:
        build_registry(session)
        build_cast(session, demo)
        registry = node.registry(session)
        submitter = demo.principals["ana.analyst"]
        for short, draft in (
            ("convoy", convoy_report(registry, start)),
            ("precursor", precursor_report(registry, start)),
        ):
            demo.reports[short] = create_report(session, draft, submitter, node.identity, registry).stix_id
    if pending_release:
        demo.release_request = _request_convoy_release(node, demo, start)
    return demo


def _request_convoy_release(node: Node, demo: Demo, start: datetime) -> int:
    from tearline.markings.release import Recipient
    from tearline.release.workflow import RequestIn, request_release

    request = RequestIn(
        report=demo.reports["convoy"],
        recipient=Recipient("MEX", "MX-DEMO-FIA"),
        purpose="Interdiction of the convoy at the Jiménez stop (fictional demo case).",
        need_to_know="FIA analysts working the Highway 49 corridor.",
        expires_at=start + timedelta(days=30),
    )
    with node.db.write() as session:
        requester = session.get(Principal, demo.principals["ana.analyst"].id)
        assert requester is not None
        return request_release(session, node, requester, request).id
