"""`tearline bench visibility`: the SQL visibility filter against per-item Cedar, on one database.

For a sample of principals it times the filtered page of 50 (`portion_page`) and the filtered
count (`portion_count`) as each principal's reader, computes the same page and count by per-item
Cedar decisions over the same rows, and checks that both give the same ids and the same count.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.orm import Session

from tearline.bench.cedar_baseline import CedarBaseline
from tearline.bench.databases import bench_target, describe
from tearline.bench.load import Advance, BenchNode, LoadSpec, build_node
from tearline.db.models import Principal
from tearline.node import Node
from tearline.policy.cedar_rules import CedarPrincipal
from tearline.store.filters import Reader
from tearline.store.reads import portion_count, portion_page

T = TypeVar("T")


@dataclass(frozen=True)
class VisibilityConfig:
    load: LoadSpec = field(default_factory=LoadSpec)
    samples: int = 10  # principals measured
    pages: int = 5  # page positions per principal (the first page and random ones)
    repeats: int = 3  # timed runs of each SQL query; the median is kept
    cedar_counts: int = 2  # principals whose count is also computed by Cedar (about a minute each at 1M)
    page_size: int = 50


@dataclass
class PrincipalResult:
    username: str
    nation: str
    clearance: str
    visible: int
    sql_count: float
    sql_pages: list[float]
    cedar_pages: list[float]
    pages_equal: bool
    cedar_count: float | None = None
    count_equal: bool | None = None
    first_pages: list[float] = field(default_factory=list)  # the principal's first uses, before warm-up


@dataclass
class DatabaseResult:
    label: str
    where: str
    portions: int
    markings: int
    load_seconds: float
    principals: list[PrincipalResult]
    cedar_decisions_per_second: float = 0.0
    ingest: object | None = None  # an IngestResult, or a note saying why it did not run

    @property
    def sql_page(self) -> float:
        return statistics.median(t for p in self.principals for t in p.sql_pages)

    @property
    def first_page(self) -> float:
        return statistics.median(t for p in self.principals for t in p.first_pages)

    @property
    def cedar_page(self) -> float:
        return statistics.median(t for p in self.principals for t in p.cedar_pages)

    @property
    def sql_count(self) -> float:
        return statistics.median(p.sql_count for p in self.principals)

    @property
    def cedar_counted(self) -> list[PrincipalResult]:
        return [p for p in self.principals if p.cedar_count is not None]

    @property
    def cedar_count(self) -> float | None:
        times = [p.cedar_count for p in self.cedar_counted if p.cedar_count is not None]
        return statistics.median(times) if times else None

    @property
    def count_ratio(self) -> float | None:
        """Cedar count over SQL count, for the same principals."""
        cedar = self.cedar_count
        if cedar is None:
            return None
        return cedar / statistics.median(p.sql_count for p in self.cedar_counted)

    @property
    def page_ratio(self) -> float:
        return self.cedar_page / self.sql_page

    @property
    def agree(self) -> bool:
        return all(p.pages_equal and p.count_equal is not False for p in self.principals)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def median_run(call: Callable[[], T], repeats: int) -> tuple[T, float]:
    """Run once to warm caches, then `repeats` timed runs; the last value and the median time."""
    value = call()
    times = []
    for _ in range(repeats):
        value, seconds = timed(call)
        times.append(seconds)
    return value, statistics.median(times)


# A principal's page statement is its own text (its audience is written in). PostgreSQL plans its first
# five runs on a connection afresh and keeps a generic plan from the sixth on; SQLite prepares it
# once. So each principal's first uses (one at each page position) are timed apart, then this many
# more runs warm it, and the timed pages are the steady state.
WARM_UP = 6


@dataclass(frozen=True)
class _Subject:
    """One principal as both sides see it: its SQL reader and its Cedar entity handle."""

    reader: Reader
    cedar: CedarPrincipal


def _page_pair(
    session: Session, subject: _Subject, baseline: CedarBaseline, after: int, config: VisibilityConfig
) -> tuple[float, float, bool]:
    """The page after `after`, by SQL (median) and by Cedar: both times, and whether the ids agree."""
    size = config.page_size
    sql_ids, sql_seconds = median_run(lambda: portion_page(session, subject.reader, size, after), config.repeats)
    cedar_ids, cedar_seconds = timed(lambda: baseline.page(session, subject.cedar, size, after))
    return sql_seconds, cedar_seconds, sql_ids == cedar_ids


def _first_use(session: Session, reader: Reader, size: int, after: int) -> float:
    return timed(lambda: portion_page(session, reader, size, after))[1]


def _measure_principal(
    node: Node, baseline: CedarBaseline, principal: Principal, positions: list[int], config: VisibilityConfig,
    with_cedar_count: bool,
) -> PrincipalResult:  # fmt: skip
    reader = node.reader(principal)
    subject = _Subject(reader, baseline.principal(principal.username, reader.viewer))
    with node.db.read() as session:
        first = [_first_use(session, reader, config.page_size, after) for after in positions]
        for _ in range(WARM_UP):
            portion_page(session, reader, config.page_size, 0)
        visible, sql_count = median_run(lambda: portion_count(session, reader), config.repeats)
        pages = [_page_pair(session, subject, baseline, after, config) for after in positions]
        result = PrincipalResult(
            principal.username, reader.viewer.nation, reader.viewer.clearance, visible, sql_count,
            [sql for sql, _, _ in pages], [cedar for _, cedar, _ in pages], all(same for _, _, same in pages),
            first_pages=first,
        )  # fmt: skip
        if with_cedar_count:
            cedar_visible, result.cedar_count = timed(lambda: baseline.count(session, subject.cedar))
            result.count_equal = cedar_visible == visible
    return result


def measure(bench: BenchNode, config: VisibilityConfig, advance: Advance) -> tuple[list[PrincipalResult], float]:
    """Measure a sample of principals; also the Cedar decisions per second seen over the run."""
    rng = random.Random(config.load.seed + 1)
    sample = rng.sample(bench.principals, min(config.samples, len(bench.principals)))
    with bench.node.db.read() as session:
        table = bench.node.table(session)
    baseline = CedarBaseline(bench.node.config.nation, table, bench.markings)
    results = []
    cedar_seconds = 0.0
    for i, principal in enumerate(sample):
        positions = [0] + [rng.randrange(bench.portions) for _ in range(config.pages - 1)]
        result = _measure_principal(bench.node, baseline, principal, positions, config, i < config.cedar_counts)
        results.append(result)
        cedar_seconds += sum(result.cedar_pages) + (result.cedar_count or 0.0)
        advance("measure", i + 1, len(sample))
    rate = baseline.decisions / cedar_seconds if cedar_seconds else 0.0
    return results, rate


def run_visibility(
    url: str, config: VisibilityConfig, advance: Advance, then: Callable[[Node], object] | None = None
) -> DatabaseResult:
    """Build a node on `url` (`sqlite` or a PostgreSQL server), measure it, run `then` on it, tear it down."""
    with bench_target(url) as target:
        bench, load_seconds = timed(lambda: build_node(target, config.load, advance))
        try:
            principals, rate = measure(bench, config, advance)
            result = DatabaseResult(
                target.label, describe(url), bench.portions, len(bench.markings), load_seconds, principals, rate
            )
            if then is not None:
                result.ingest = then(bench.node)
        finally:
            bench.node.close()
    return result
