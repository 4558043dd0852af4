"""`tearline bench federation`: approval to searchable at the partner, over real HTTP on loopback.

Two nodes (a US sender and a Mexican receiver) run in this process, each served by uvicorn with
its courier, each on its own database (two SQLite files, or two fresh PostgreSQL databases). For
every release the clock starts when the approval commits and stops when a Mexican analyst's
portion search finds the released text on the Mexican node. Releases go one after another, so
each figure is a latency, not a queue.

The comparison is what a partner gets without push: a TAXII 2.1 consumer polling our feed every
`poll_seconds` with `added_after` (what a taxii2-client or MISP-style sync does, on a short timer),
measured on the same nodes in the same run.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tearline import clock
from tearline.audit import log
from tearline.bench.databases import SQLITE, fresh_postgres
from tearline.bench.medallion import uvicorn_serving
from tearline.db.models import Principal
from tearline.federation import courier
from tearline.federation.peers import add_peer
from tearline.fixtures import build_registry
from tearline.markings.marking import marking_from_dict
from tearline.markings.release import Recipient
from tearline.node import Node, init_node
from tearline.release import workflow
from tearline.release.rules import set_two_person_levels
from tearline.store import reads
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report
from tearline.web.app import create_app

Progress = Callable[[str], None]
MEXICO = Recipient("MEX", "MX-DEMO-FIA")


@dataclass(frozen=True)
class FederationBenchConfig:
    releases: int = 1000
    poll_releases: int = 30  # the polling baseline is slow by design: fewer releases suffice
    poll_seconds: float = 1.0
    timeout: float = 30.0


@dataclass
class LatencyResult:
    label: str
    push: list[float] = field(default_factory=list)
    poll: list[float] = field(default_factory=list)
    lost: int = 0

    @staticmethod
    def quantile(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def ratio(self) -> float | None:
        """Polling's median over push's median: how much sooner push makes it searchable."""
        if not self.push or not self.poll:
            return None
        return statistics.median(self.poll) / statistics.median(self.push)


@dataclass
class _Pair:
    us: Node
    mex: Node
    us_app: Any
    reports: list[str]
    analyst: Principal
    officer: Principal
    reader: Principal


def _cast(node: Node, people: list[tuple[str, str, str, str, list[str]]]) -> dict[str, Principal]:
    with node.db.write() as session:
        build_registry(session)
        made = {u: add_principal(session, u, n, a, c, [], roles) for u, n, a, c, roles in people}
        for principal in made.values():
            session.flush()
            session.expunge(principal)
    return made


def _reports(node: Node, analyst: Principal, count: int) -> list[str]:
    """`count` one-portion reports at CUI (one approver, once the admins set it so), each with a unique search token."""
    ids = []
    with node.db.write() as session:
        registry = node.registry(session)
        marking = marking_from_dict(
            {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "CUI", "rel_to": ["USA", "MEX"]},
            registry,
        )
        author = session.get(Principal, analyst.id)
        assert author is not None
        cache: dict[str, int] = {}
        for i in range(count):
            draft = ReportDraft(
                title=PortionDraft(f"Bench release {i}", marking),
                portions=(PortionDraft(f"Convoy sighting benchtoken{i:06d} on Highway 45.", marking),),
                predicate="Benchmark record (fictional).",
                review_due=clock.now() + timedelta(days=90),
            )
            ids.append(create_report(session, draft, author, node.identity, registry, cache).stix_id)
    return ids


def _release(pair: _Pair, report: str) -> float:
    """Request and approve; returns the moment the approval committed."""
    request = workflow.RequestIn(report, MEXICO, "Benchmark", "Benchmark readers", clock.now() + timedelta(days=30))
    with pair.us.db.write() as session:
        request_id = workflow.request_release(session, pair.us, pair.analyst, request).id
    with pair.us.db.write() as session:
        released = workflow.approve(session, pair.us, pair.officer, request_id, "Benchmark determination.")
        assert released is not None
    return time.perf_counter()


def _searchable(pair: _Pair, token: str, started: float, timeout: float) -> float | None:
    reader = pair.mex.reader(pair.reader)
    while time.perf_counter() - started < timeout:
        with pair.mex.db.read() as session:
            if reads.search_portions(session, reader, token, 1, 0).total:
                return time.perf_counter() - started
        time.sleep(0.002)
        reader = pair.mex.reader(pair.reader)
    return None


def _measure(
    pair: _Pair, reports: list[str], offset: int, nudge: bool, timeout: float, progress: Progress
) -> tuple[list[float], int]:
    latencies, lost = [], 0
    for n, report in enumerate(reports):
        started = _release(pair, report)
        if nudge:
            pair.us_app.state.courier.nudge()  # what the API's middleware does after a change commits
        took = _searchable(pair, f"benchtoken{offset + n:06d}", started, timeout)
        if took is None:
            lost += 1
        else:
            latencies.append(took)
        if n % 100 == 99:
            progress(f"{n + 1} of {len(reports)} releases")
    return latencies, lost


@contextmanager
def _nodes(url: str) -> Iterator[tuple[Node, Node]]:
    with tempfile.TemporaryDirectory(prefix="tl-bench-fed-") as tmp:
        if url == SQLITE:
            us = init_node(Path(tmp) / "usa", "USA", "US-DEMO-NARC")
            mex = init_node(Path(tmp) / "mex", "MEX", "MX-DEMO-FIA")
            yield us, mex
        else:
            with fresh_postgres(url) as us_db, fresh_postgres(url) as mex_db:
                us = init_node(Path(tmp) / "usa", "USA", "US-DEMO-NARC", us_db)
                mex = init_node(Path(tmp) / "mex", "MEX", "MX-DEMO-FIA", mex_db)
                yield us, mex
        us.close()
        mex.close()


def run_latency(url: str, label: str, config: FederationBenchConfig, progress: Progress) -> LatencyResult:
    result = LatencyResult(label)
    with _nodes(url) as (us, mex):
        us_people = _cast(
            us,
            [
                ("ana", "USA", "US-DEMO-NARC", "SECRET", ["analyst"]),
                ("dan", "USA", "US-DEMO-NARC", "SECRET", ["disclosure_officer"]),
                ("adam", "USA", "US-DEMO-NARC", "SECRET", ["admin"]),
                ("ada", "USA", "US-DEMO-NARC", "SECRET", ["admin"]),
            ],
        )
        with us.db.write() as session:  # two admins take CUI out of the two-person rule: one approver each
            admins = [session.get(Principal, us_people[name].id) for name in ("adam", "ada")]
            assert admins[0] is not None and admins[1] is not None
            set_two_person_levels(session, [2, 3, 4], admins[0], admins[1], "USA")
        mex_people = _cast(mex, [("mateo", "MEX", "MX-DEMO-FIA", "SECRETA", ["analyst"])])
        total = config.releases + config.poll_releases
        progress(f"{label}: {total} reports to release")
        reports = _reports(us, us_people["ana"], total)
        us_app, mex_app = create_app(us, deliver=True), create_app(mex, deliver=False)
        with uvicorn_serving(us_app) as us_url, uvicorn_serving(mex_app) as mex_url:
            with us.db.write() as session:
                add_peer(session, us, "MEX", "MX-DEMO-FIA", mex_url, log.verifier_key(mex))
            with mex.db.write() as session:
                add_peer(session, mex, "USA", "US-DEMO-NARC", us_url, log.verifier_key(us))
            pair = _Pair(us, mex, us_app, reports, us_people["ana"], us_people["dan"], mex_people["mateo"])
            progress(f"{label}: push")
            result.push, result.lost = _measure(pair, reports[: config.releases], 0, True, config.timeout, progress)
            progress(f"{label}: polling every {config.poll_seconds} s")
            result.poll = _poll_baseline(pair, reports[config.releases :], config, progress)
    return result


def _poll_baseline(pair: _Pair, reports: list[str], config: FederationBenchConfig, progress: Progress) -> list[float]:
    """The same releases with push held back: the partner polls our feed every `poll_seconds`."""
    pair.us_app.state.courier.stop()
    courier.pull_all(pair.mex)  # a poller that has been polling all along is caught up (not timed)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(config.poll_seconds):
            courier.pull_all(pair.mex)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        latencies, _ = _measure(pair, reports, config.releases, False, config.timeout, progress)
    finally:
        stop.set()
        poller.join(timeout=10)
    return latencies
