"""`tearline bench taxii`: objects served per second over TAXII pages, ours against medallion.

Our node serves a reader's holdings collection over real HTTP (uvicorn on loopback), with every
page filtered by the marking rules in SQL and audited. medallion 3.0.0 then serves the very
objects our node served, from its memory backend. The same client (ours, httpx) reads both, page
by page, following `next`.

medallion's memory backend sorts each first page against the manifest in a nested loop (quadratic
in the collection), so on a large collection it may not answer its first page at all; it gets a
time budget, and when the budget runs out the figure is a bound: at most what it served in it.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from tearline import clock
from tearline.bench.databases import bench_target, describe
from tearline.bench.medallion import medallion_serving, uvicorn_serving
from tearline.db.models import Portion, Principal, Report, ReportVersion, StixObject
from tearline.markings.marking import Marking, marking_from_dict
from tearline.node import SERVICE_ACCOUNT, Node, init_node
from tearline.store import registry as reg
from tearline.store.audience import intern_marking
from tearline.store.principals import add_principal, issue_token
from tearline.taxii.client import TaxiiClient, TaxiiClientError
from tearline.taxii.holdings import holdings_id
from tearline.web.app import create_app

Progress = Callable[[str], None]
NATION, AGENCY = "USA", "US-BENCH-NARC"
READER = "bench.taxii.reader"
HIDDEN_COMPARTMENT = "BENCH-TAXII-VU"
OBJECTS_PER_REPORT = 100
HIDDEN_PER_REPORT = 10  # objects in each report that the reader may not see (a compartment it lacks)
CHUNK = 100  # reports per insert


@dataclass(frozen=True)
class TaxiiBenchConfig:
    objects: int = 100_000
    page: int = 100
    medallion_budget: float = 600.0  # seconds medallion may take in all
    seed: int = 1


@dataclass
class Run:
    """One server read page by page: objects served, seconds, pages, and whether it finished."""

    served: int = 0
    seconds: float = 0.0
    pages: int = 0
    finished: bool = False
    note: str = ""

    @property
    def rate(self) -> float:
        return self.served / self.seconds if self.seconds else 0.0


@dataclass
class TaxiiBenchResult:
    label: str
    database: str
    stored: int
    page: int = 100
    ours: Run = field(default_factory=Run)
    medallion: Run = field(default_factory=Run)
    medallion_objects: int = 0

    def ratio(self) -> tuple[float | None, str]:
        """Ours over medallion, and how far to trust it: measured, partial (medallion stopped by the
        budget after some pages) or bound (not one page in the budget: at least this ratio)."""
        if self.medallion.finished:
            return (self.ours.rate / self.medallion.rate if self.medallion.rate else None), "measured"
        if self.medallion.served:
            return (self.ours.rate / self.medallion.rate if self.medallion.rate else None), "partial"
        # Not one page in the budget: it served fewer than a page's objects in that time.
        if not self.medallion.seconds:
            return None, "bound"
        return self.ours.rate * self.medallion.seconds / self.page, "bound"


def _markings() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Markings the reader may see (several, so that the audience join is real) and one it may not."""
    us = {"nation": NATION, "agency": AGENCY}
    visible = [
        {"originator": us, "level": "SECRET", "rel_to": ["USA", "MEX"], "controls": ["LES"]},
        {"originator": us, "level": "SECRET", "rel_to": ["USA", "CAN", "MEX"]},
        {"originator": us, "level": "CONFIDENTIAL", "rel_to": ["USA"], "controls": ["NOFORN"]},
        {"originator": us, "level": "CUI", "rel_to": ["USA", "CAN"], "tlp": "TLP:AMBER"},
        {"originator": us, "level": "SECRET", "rel_to": ["USA", "MEX"], "controls": ["ORCON", "DP"]},
    ]
    hidden = {"originator": us, "level": "SECRET", "rel_to": ["USA"], "compartments": [HIDDEN_COMPARTMENT]}
    return visible, hidden


def _set_up(node: Node) -> tuple[list[int], int, str]:
    """Registry, the reader and its token, and the interned markings (visible ids, hidden id)."""
    with node.db.write() as session:
        reg.add_compartment(session, HIDDEN_COMPARTMENT, [AGENCY])
        reader = add_principal(session, READER, NATION, AGENCY, "SECRET", roles=["analyst"])
        token = issue_token(session, reader)
        registry = node.registry(session)
        visible, hidden = _markings()
        cache: dict[str, int] = {}

        def intern(body: dict[str, Any]) -> int:
            marking: Marking = marking_from_dict(body, registry)
            return intern_marking(session, marking, node.identity, cache)

        ids = [intern(m) for m in visible]
        hidden_id = intern(hidden)
    return ids, hidden_id, token


def _object(rng: random.Random, n: int) -> tuple[str, str, dict[str, Any]]:
    """A fictional person or place: (type, name, body)."""
    if n % 3 == 2:
        lat, lon = round(rng.uniform(25.0, 32.0), 4), round(rng.uniform(-112.0, -97.0), 4)
        name = f"waypoint {n}"
        return "location", name, {"name": name, "latitude": lat, "longitude": lon}
    name = f"Persona Ficticia {n}"
    return "identity", name, {"name": name, "identity_class": "individual"}


def _load(node: Node, config: TaxiiBenchConfig, markings: tuple[list[int], int], progress: Progress) -> int:
    """Reports of 100 visible and 10 hidden objects each, in bulk; returns the rows stored."""
    rng = random.Random(config.seed)
    visible, hidden = markings
    with node.db.read() as session:
        submitter = session.scalar(select(Principal.id).where(Principal.username == SERVICE_ACCOUNT))
    reports = -(-config.objects // OBJECTS_PER_REPORT)
    start = clock.now() - timedelta(days=1)
    stored = 0
    for first in range(1, reports + 1, CHUNK):
        rows: dict[type, list[dict[str, Any]]] = {Report: [], ReportVersion: [], Portion: [], StixObject: []}
        for rid in range(first, min(first + CHUNK, reports + 1)):
            created = start + timedelta(milliseconds=rid)
            stix_id = f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            rows[Report].append(
                {"id": rid, "stix_id": stix_id, "submitter_id": submitter, "workspace_id": None,
                 "current_version": 1, "received": False, "created_at": created}
            )  # fmt: skip
            due = created + timedelta(days=365)
            rows[ReportVersion].append(
                {"id": rid, "report_id": rid, "number": 1, "created_by": submitter, "created_at": created,
                 "predicate": "benchmark: synthetic data", "need_to_know": "", "review_due": due}
            )  # fmt: skip
            rows[Portion].append(_row(rid, 0, f"Synthetic report {rid}", rng.choice(visible), stix_id, title=True))
            count = min(OBJECTS_PER_REPORT, config.objects - (rid - 1) * OBJECTS_PER_REPORT)
            for k in range(count + HIDDEN_PER_REPORT):
                kind, name, body = _object(rng, (rid - 1) * OBJECTS_PER_REPORT + k)
                marking = rng.choice(visible) if k < count else hidden
                object_id = f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                rows[StixObject].append(
                    {"version_id": rid, "report_id": rid, "stix_id": object_id,
                     "stix_type": kind, "name": name, "body": body, "marking_id": marking,
                     "hash": hashlib.sha256(f"{stix_id}/{k}".encode()).hexdigest(), "is_current": True,
                     "withdrawn": False, "received": False, "workspace_id": None,
                     "latitude": body.get("latitude"), "longitude": body.get("longitude")}
                )  # fmt: skip
        with node.db.write() as session:
            for model, values in rows.items():
                session.execute(insert(model), values)
        stored += len(rows[StixObject])
        progress(f"loaded {stored:,} objects")
    _analyze(node)
    return stored


def _row(rid: int, position: int, words: str, marking: int, stix_id: str, *, title: bool) -> dict[str, Any]:
    return {"version_id": rid, "report_id": rid, "position": position, "is_title": title, "text": words,
            "marking_id": marking, "hash": hashlib.sha256(f"{stix_id}/title".encode()).hexdigest(),
            "is_current": True, "withdrawn": False, "received": False, "workspace_id": None}  # fmt: skip


def _analyze(node: Node) -> None:
    engine = node.db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if node.db.dialect == "postgresql":
            for table in ("report", "report_version"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))


def _read(client: TaxiiClient, root: str, collection: str, page: int, budget: float | None) -> tuple[Run, list[Any]]:
    """Every page of the collection, timed; stops (unfinished) when the budget runs out."""
    run, objects = Run(), []
    started = time.perf_counter()
    try:
        for envelope in client.objects(root, collection, limit=page):
            objects += envelope.items
            run.pages += 1
            if budget is not None and time.perf_counter() - started > budget:
                run.note = f"stopped after {budget:.0f} s"
                break
        else:
            run.finished = True
    except TaxiiClientError as err:
        run.note = str(err)
    run.seconds = time.perf_counter() - started
    run.served = len(objects)
    return run, objects


def _manifest_times(client: TaxiiClient, root: str, collection: str) -> dict[tuple[str, str], datetime]:
    out = {}
    for envelope in client.manifest(root, collection, limit=1000):
        for record in envelope.items:
            out[(record["id"], record["version"])] = clock.parse_timestamp(record["date_added"])
    return out


def measure(node: Node, token: str, config: TaxiiBenchConfig, result: TaxiiBenchResult, progress: Progress) -> None:
    collection = holdings_id(node.config.nation, node.config.agency)
    with uvicorn_serving(create_app(node)) as url, TaxiiClient(f"{url}/taxii2/", token=token) as client:
        root = client.discovery()["default"]
        client.objects_page(root, collection, limit=config.page)  # warm: connections, statement caches
        progress(f"{result.label}: reading our TAXII server")
        result.ours, served = _read(client, root, collection, config.page, None)
        times = _manifest_times(client, root, collection)
    # medallion 3.0.0 reads an extension-definition's own `version` property as a TAXII version
    # timestamp and fails on it; it gets every other object we served.
    theirs = [o for o in served if o["type"] != "extension-definition"]
    added = [times[(o["id"], o.get("modified", o.get("created")))] for o in theirs]
    result.medallion_objects = len(theirs)
    progress(f"{result.label}: starting medallion with {len(theirs):,} objects")
    with (
        tempfile.TemporaryDirectory(prefix="tl-medallion-") as tmp,
        medallion_serving(Path(tmp), theirs, added, max_page=config.page) as medallion,
        TaxiiClient(medallion.discovery, auth=medallion.user, timeout=config.medallion_budget) as client,
    ):
        progress(f"{result.label}: reading medallion (budget {config.medallion_budget:.0f} s)")
        budget = config.medallion_budget
        result.medallion, _ = _read(client, medallion.api_root, medallion.collection_id, config.page, budget)


def taxii_throughput(url: str, config: TaxiiBenchConfig, progress: Progress = lambda _: None) -> TaxiiBenchResult:
    """Objects per second over TAXII pages on one database (`sqlite` or a PostgreSQL URL), ours and medallion's."""
    with bench_target(url) as target:
        node = init_node(target.data_dir, NATION, AGENCY, target.database_url)
        try:
            visible, hidden, token = _set_up(node)
            stored = _load(node, config, (visible, hidden), lambda m: progress(f"{target.label}: {m}"))
            result = TaxiiBenchResult(target.label, describe(url), stored, config.page)
            measure(node, token, config, result, progress)
            return result
        finally:
            node.close()


def run_taxii_bench(urls: list[str], config: TaxiiBenchConfig, progress: Progress) -> Iterator[TaxiiBenchResult]:
    for url in urls:
        yield taxii_throughput(url, config, progress)
