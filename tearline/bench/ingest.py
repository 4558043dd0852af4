"""Ingest speed: `ingest_bundle` alone, and with each object first gated by stix2-validator.

Two bundles of the same shape are made by tearline's own encoder from reports stored in a
scratch producer node (so they are what partners send), then ingested into the benchmark node.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from tearline import clock
from tearline.bench.load import Advance, add_bench_registry
from tearline.bench.population import COMPARTMENTS, NODE_AGENCY, NODE_NATION, random_marking
from tearline.markings.marking import Marking, Registry
from tearline.node import SERVICE_ACCOUNT, Node, init_node
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report

OBJECTS_PER_REPORT = 11  # the report itself and ten structured objects
EXPORTER = "bench-exporter"


@dataclass(frozen=True)
class IngestFigures:
    """Two bundles of the same shape: one ingested as is, one gated object by object first."""

    plain_objects: int
    plain_seconds: float
    gated_objects: int
    gated_seconds: float
    validator_seconds: float
    rejected: int

    @property
    def plain_rate(self) -> float:
        return self.plain_objects / self.plain_seconds

    @property
    def gated_rate(self) -> float:
        return self.gated_objects / self.gated_seconds

    @property
    def ratio(self) -> float:
        """How many times faster ingest is without the per-object validator gate."""
        return self.plain_rate / self.gated_rate


def _uid(rng: random.Random, kind: str) -> str:
    # Random ids, not seeded ones: a seeded stream could repeat the benchmark node's report ids.
    return f"{kind}--{uuid.uuid4()}"


def _objects(rng: random.Random, marking: Marking) -> tuple[ObjectDraft, ...]:
    """Two persons, a phone, a vehicle, two places, two sightings and two relationships."""
    now = clock.stix_timestamp(clock.now())
    people = [_uid(rng, "identity") for _ in range(2)]
    phone, truck = _uid(rng, "x-tearline-phone"), _uid(rng, "x-tearline-vehicle")
    places = [_uid(rng, "location") for _ in range(2)]
    number, plate = f"+52871555{rng.randrange(10_000):04d}", f"BEN-{rng.randrange(10_000):04d}"
    out = [
        ObjectDraft(pid, "identity", {"name": f"Persona {pid[-6:]}", "identity_class": "individual"}, marking)
        for pid in people
    ]
    out.append(ObjectDraft(phone, "x-tearline-phone", {"number": number}, marking, name=number))
    out.append(ObjectDraft(truck, "x-tearline-vehicle", {"plate": plate, "country": "MEX"}, marking, name=plate))
    for place in places:
        lat, lon = 25 + rng.random() * 6, -108 + rng.random() * 6
        body = {"name": f"Lugar {place[-6:]}", "latitude": lat, "longitude": lon}
        out.append(ObjectDraft(place, "location", body, marking, latitude=lat, longitude=lon))
        seen = {"sighting_of_ref": truck, "where_sighted_refs": [place], "first_seen": now}
        out.append(ObjectDraft(_uid(rng, "sighting"), "sighting", seen, marking, source_ref=truck, target_ref=place))
    for kind, source, target in (("uses", people[0], phone), ("associated-with", people[0], people[1])):
        body = {"relationship_type": kind, "source_ref": source, "target_ref": target}
        rid = _uid(rng, "relationship")
        out.append(ObjectDraft(rid, "relationship", body, marking, name=kind, source_ref=source, target_ref=target))
    return tuple(out)


def _draft(rng: random.Random, registry: Registry) -> ReportDraft:
    # The exporter must see everything it exports: its own agency's markings only.
    marking = random_marking(rng, registry, clock.now())
    while marking.originator_agency != NODE_AGENCY:
        marking = random_marking(rng, registry, clock.now())
    return ReportDraft(
        title=PortionDraft(f"Synthetic report {rng.randrange(10**6)}", marking),
        portions=(PortionDraft("Synthetic portion one.", marking), PortionDraft("Synthetic portion two.", marking)),
        predicate="benchmark: synthetic data",
        review_due=clock.now() + timedelta(days=365),
        objects=_objects(rng, marking),
        stix_id=_uid(rng, "report"),
    )


def make_bundles(objects: int, seed: int, copies: int = 2) -> list[dict[str, Any]]:
    """`copies` bundles of about `objects` STIX objects each, encoded by `tearline.stix.encode.bundle_for`."""
    from tearline.stix.encode import bundle_for
    from tearline.store.reader_versions import report_view

    rng = random.Random(seed)
    reports = max(1, objects // OBJECTS_PER_REPORT)
    with tempfile.TemporaryDirectory(prefix="tl-bench-producer-") as tmp:
        producer = init_node(Path(tmp) / "node", NODE_NATION, NODE_AGENCY)
        try:
            with producer.db.write() as session:
                add_bench_registry(session)
                everything = [name for name, _ in COMPARTMENTS]
                exporter = add_principal(session, EXPORTER, NODE_NATION, NODE_AGENCY, "TOP SECRET", everything)
                registry = producer.registry(session)
                made = [
                    [create_report(session, _draft(rng, registry), exporter, producer.identity, registry).stix_id
                     for _ in range(reports)]
                    for _ in range(copies)
                ]  # fmt: skip
            reader = producer.reader(exporter)
            with producer.db.read() as session:
                table = producer.table(session)
                return [
                    bundle_for([report_view(session, reader, table, sid) for sid in ids], NODE_NATION, NODE_AGENCY)
                    for ids in made
                ]
        finally:
            producer.close()


def _validator_gate(bundle: dict[str, Any]) -> int:
    """Validate every object as a gate would; the number the validator flags as invalid."""
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1")
    return sum(0 if validate_instance(obj, options).is_valid else 1 for obj in bundle["objects"])


def measure_ingest(node: Node, objects: int, seed: int, advance: Advance) -> IngestFigures:
    """Objects per second of `ingest_bundle`, alone and behind the stix2-validator gate."""
    from tearline.ingest.bundle import ingest_bundle

    plain, gated = make_bundles(objects, seed)
    advance("ingest", 0, 3)
    start = time.perf_counter()
    ingest_bundle(node, plain, SERVICE_ACCOUNT)
    plain_seconds = time.perf_counter() - start
    advance("ingest", 1, 3)
    start = time.perf_counter()
    rejected = _validator_gate(gated)
    validator_seconds = time.perf_counter() - start
    advance("ingest", 2, 3)
    ingest_bundle(node, gated, SERVICE_ACCOUNT)
    gated_seconds = time.perf_counter() - start
    advance("ingest", 3, 3)
    return IngestFigures(
        len(plain["objects"]), plain_seconds, len(gated["objects"]), gated_seconds, validator_seconds, rejected
    )


def ingest_unavailable() -> str | None:
    """Why the ingest comparison cannot run here, or None when it can."""
    try:
        import stix2validator  # noqa: F401

        from tearline.ingest.bundle import ingest_bundle  # noqa: F401
        from tearline.stix.encode import bundle_for  # noqa: F401
    except ImportError as err:
        return f"skipped: {err}"
    return None
