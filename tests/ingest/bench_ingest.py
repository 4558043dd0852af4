"""Ingest speed: a 5,000-object bundle, as is and gated object by object by stix2-validator.

Run: `.venv/bin/python -m tests.ingest.bench_ingest` (prints objects/s for both and the ratio).
Not a test: timings depend on the machine, so no test asserts them.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stix2validator import ValidationOptions, validate_instance

from tearline import clock
from tearline.ingest import ingest_bundle
from tearline.markings.marking import Marking
from tearline.stix import bundle_for, bundle_to_drafts
from tearline.store.reads import ObjectView, PortionView, ReportView
from tests.stix.factories import NOW, make_node, registry

REPORTS, PER_REPORT = 100, 50
MARKINGS = [
    Marking("USA", "DEA-DEMO", "SECRET", frozenset({"USA", "MEX"})),
    Marking("USA", "DEA-DEMO", "SECRET", frozenset({"USA", "MEX", "CAN"}), tlp="AMBER"),
    Marking("USA", "DEA-DEMO", "CONFIDENTIAL", frozenset({"USA"}), frozenset({"NOFORN"})),
]


def _id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def _objects(n: int) -> list[ObjectView]:
    """A report's worth of fictional persons, phones, vehicles, places, sightings and relationships."""
    out: list[ObjectView] = []
    for i in range(n // 10):
        m = MARKINGS[i % len(MARKINGS)]
        person, phone, truck, place = (
            _id("identity"),
            _id("x-tearline-phone"),
            _id("x-tearline-vehicle"),
            _id("location"),
        )
        bodies: list[tuple[str, str, dict[str, Any]]] = [
            (person, "identity", {"name": f"Persona Ficticia {i}", "identity_class": "individual"}),
            (phone, "x-tearline-phone", {"number": f"+5255555{i:05d}"}),
            (truck, "x-tearline-vehicle", {"plate": f"FIC-{i:03d}-A", "make": "Kenworth"}),
            (place, "location", {"latitude": 25.5 + i / 100, "longitude": -103.4, "name": f"Km {i}"}),
            (
                _id("sighting"),
                "sighting",
                {"sighting_of_ref": truck, "where_sighted_refs": [place], "first_seen": "2026-02-18T05:40:00.000Z"},
            ),
            (
                _id("relationship"),
                "relationship",
                {"relationship_type": "uses", "source_ref": person, "target_ref": phone},
            ),
            (
                _id("relationship"),
                "relationship",
                {"relationship_type": "drives", "source_ref": person, "target_ref": truck},
            ),
            (_id("identity"), "identity", {"name": f"Fletes Ficticios {i}", "identity_class": "organization"}),
            (_id("x-tearline-phone"), "x-tearline-phone", {"number": f"+5287155{i:05d}"}),
            (_id("location"), "location", {"latitude": 31.69, "longitude": -106.42 + i / 100}),
        ]
        out += [ObjectView(k, t, "", b, m, "", "0" * 64) for k, t, b in bodies]
    return out


def sample(reports: int = REPORTS, per_report: int = PER_REPORT) -> dict[str, Any]:
    views = [
        ReportView(
            stix_id=_id("report"),
            version=1,
            versions=1,
            title=f"Informe ficticio {r}",
            title_marking=MARKINGS[0],
            banner="",
            portions=[PortionView(i + 1, f"Párrafo {i} del informe {r}.", MARKINGS[i % 3], "0" * 64) for i in range(3)],
            objects=_objects(per_report),
            predicate="Reasonable suspicion (benchmark data).",
            review_due=datetime(2027, 12, 31, tzinfo=UTC),
            created_at=NOW,
        )
        for r in range(reports)
    ]
    return bundle_for(views, "USA", "DEA-DEMO")


def _ingest(bundle: dict[str, Any], gate: bool) -> float:
    """Seconds to ingest into a fresh node, optionally validating each object with stix2-validator first."""
    with tempfile.TemporaryDirectory() as tmp:
        node = make_node(Path(tmp) / "bench")
        started = time.perf_counter()
        if gate:
            options = ValidationOptions(version="2.1")
            for obj in bundle["objects"]:
                assert validate_instance(obj, options).is_valid
        ingest_bundle(node, bundle, "ana")
        elapsed = time.perf_counter() - started
        node.close()
    return elapsed


def _check_only(bundle: dict[str, Any]) -> float:
    started = time.perf_counter()
    bundle_to_drafts(bundle, registry())
    return time.perf_counter() - started


def main() -> None:
    objects = REPORTS * PER_REPORT
    with clock.frozen_at(NOW):
        bundle = sample()
        # Best of three for the fast paths: the machine is shared and a single run is noisy.
        check = min(_check_only(bundle) for _ in range(3))
        fast = min(_ingest(bundle, gate=False) for _ in range(3))
        gated = _ingest(bundle, gate=True)
    print(f"{objects} objects in {REPORTS} reports ({len(bundle['objects'])} STIX objects in the bundle)")
    print(f"structural check only:                 {check:6.2f} s  {objects / check:8,.0f} objects/s")
    print(f"ingest (check + store):                {fast:6.2f} s  {objects / fast:8,.0f} objects/s")
    print(f"stix2-validator per object, then ingest: {gated:6.2f} s  {objects / gated:8,.0f} objects/s")
    print(f"ratio (ingest vs validator-gated ingest): {gated / fast:.1f}x")


if __name__ == "__main__":
    main()
