"""Build the benchmark node: registry, principals, interned markings, then portions in bulk.

Loading is set-up, not what is measured, so reports, versions and portions go in with bulk
Core inserts. Markings go through `intern_marking` and audiences through `Node.reader`, so the
filter under test reads real precomputed audiences.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from tearline import clock
from tearline.bench.databases import Target
from tearline.bench.population import AGENCIES, COMPARTMENTS, NODE_AGENCY, NODE_NATION, marking_pool, random_principal
from tearline.db.models import Portion, Principal, Report, ReportVersion
from tearline.markings.marking import Marking
from tearline.node import SERVICE_ACCOUNT, Node, init_node
from tearline.policy.host import add_member, add_workspace
from tearline.store import registry as reg
from tearline.store.audience import intern_marking
from tearline.store.principals import add_principal

# advance(task name, steps done, total steps)
Advance = Callable[[str, int, int], None]
REPORTS_PER_CHUNK = 2_000
BENCH_WORKSPACE = "bench-fusion-centre"


@dataclass(frozen=True)
class LoadSpec:
    portions: int = 1_000_000
    principals: int = 50
    markings: int = 2_000
    per_report: int = 10
    seed: int = 1


@dataclass
class BenchNode:
    """The loaded node, its principals and their readers, and the markings by stored id."""

    node: Node
    principals: list[Principal]
    markings: dict[int, Marking]
    portions: int = 0


def add_bench_registry(session: Session) -> None:
    """The benchmark's fictional agencies and compartments (the node's own agency exists already)."""
    for name, nation, law_enforcement in AGENCIES:
        if name != NODE_AGENCY:
            reg.add_agency(session, name, nation, law_enforcement)
    for name, owners in COMPARTMENTS:
        reg.add_compartment(session, name, list(owners))


def _registry_and_people(node: Node, spec: LoadSpec, rng: random.Random) -> list[Principal]:
    with node.db.write() as session:
        add_bench_registry(session)
        # Every report is in one fusion centre that every principal belongs to, so that rule 7
        # passes for foreign principals and both sides of the comparison decide rules 1-4 and 6.
        workspace = add_workspace(session, BENCH_WORKSPACE, "Benchmark fusion centre", NODE_NATION)
        people = []
        for number in range(1, spec.principals + 1):
            p = random_principal(rng, number)
            principal = add_principal(
                session, p.username, p.nation, p.agency, p.clearance, list(p.compartments), roles=["analyst"]
            )
            add_member(session, workspace, principal)
            people.append(principal)
        return people


def _intern_markings(node: Node, spec: LoadSpec, rng: random.Random, advance: Advance) -> dict[int, Marking]:
    with node.db.write() as session:
        pool = marking_pool(rng, node.registry(session), clock.now(), spec.markings)
        cache: dict[str, int] = {}
        stored: dict[int, Marking] = {}
        for i, marking in enumerate(pool, start=1):
            stored[intern_marking(session, marking, node.identity, cache)] = marking
            if i % 100 == 0 or i == len(pool):
                advance("markings", i, len(pool))
        return stored


def _ids(session: Session) -> tuple[int, int]:
    submitter = session.scalar(select(Principal.id).where(Principal.username == SERVICE_ACCOUNT))
    workspace = session.scalar(text("SELECT id FROM workspace WHERE slug = :slug"), {"slug": BENCH_WORKSPACE})
    assert submitter is not None and workspace is not None
    return submitter, workspace


def _chunk_rows(
    first_report: int, reports: int, spec: LoadSpec, marking_ids: list[int], rng: random.Random, ids: tuple[int, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    submitter, workspace = ids
    now = clock.now()
    report_rows, version_rows, portion_rows = [], [], []
    for report_id in range(first_report, first_report + reports):
        stix_id = f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        report_rows.append(
            {"id": report_id, "stix_id": stix_id, "submitter_id": submitter, "workspace_id": workspace,
             "current_version": 1, "received": False, "created_at": now}
        )  # fmt: skip
        version_rows.append(
            {"id": report_id, "report_id": report_id, "number": 1, "created_by": submitter, "created_at": now,
             "predicate": "benchmark: synthetic data", "need_to_know": "", "review_due": now + timedelta(days=365)}
        )  # fmt: skip
        for position in range(spec.per_report):
            portion_id = (report_id - 1) * spec.per_report + position + 1
            if portion_id > spec.portions:
                break
            portion_rows.append(
                {"id": portion_id, "version_id": report_id,
                 "report_id": report_id, "position": position, "is_title": position == 0,
                 "text": f"synthetic portion {position} of {stix_id}", "marking_id": rng.choice(marking_ids),
                 "hash": hashlib.sha256(f"{stix_id}/1/portion-{position}".encode()).hexdigest(),
                 "is_current": True, "withdrawn": False, "received": False, "workspace_id": workspace}
            )  # fmt: skip
    return report_rows, version_rows, portion_rows


def _load_portions(node: Node, spec: LoadSpec, marking_ids: list[int], rng: random.Random, advance: Advance) -> int:
    total_reports = -(-spec.portions // spec.per_report)
    with node.db.read() as session:
        ids = _ids(session)
    for first in range(1, total_reports + 1, REPORTS_PER_CHUNK):
        count = min(REPORTS_PER_CHUNK, total_reports - first + 1)
        reports, versions, portions = _chunk_rows(first, count, spec, marking_ids, rng, ids)
        with node.db.write() as session:
            session.execute(insert(Report), reports)
            session.execute(insert(ReportVersion), versions)
            session.execute(insert(Portion), portions)
        advance("portions", min((first + count - 1) * spec.per_report, spec.portions), spec.portions)
    return spec.portions


def _finish(node: Node) -> None:
    """Give PostgreSQL's sequences the explicit ids, and let both planners see the data's statistics."""
    engine = node.db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if node.db.dialect == "postgresql":
            for table in ("report", "report_version", "portion"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))


def build_node(target: Target, spec: LoadSpec, advance: Advance) -> BenchNode:
    """A new node at `target` holding `spec.portions` portions with random markings."""
    rng = random.Random(spec.seed)
    node = init_node(target.data_dir, NODE_NATION, NODE_AGENCY, database=target.database_url, law_enforcement=True)
    principals = _registry_and_people(node, spec, rng)
    markings = _intern_markings(node, spec, rng, advance)
    for i, principal in enumerate(principals, start=1):
        node.reader(principal)  # computes the principal's audience
        advance("audiences", i, len(principals))
    loaded = _load_portions(node, spec, sorted(markings), rng, advance)
    advance("analyze", 0, 1)
    _finish(node)
    advance("analyze", 1, 1)
    return BenchNode(node, principals, markings, loaded)
