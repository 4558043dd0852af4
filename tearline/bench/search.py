"""`tearline bench search`: full-text search against the LIKE scan it replaced, on one database.

Both sides run the same statement as `reads.search_portions` (the reader's visibility filter, a
total and the first page of 50); only the text condition differs: the FTS match, or the former
`lower(text) LIKE '%word%'`. The node is the visibility benchmark's (`bench.load`), whose
portions read `synthetic portion <n> of report--<uuid>`: a report's id segment is a rare word
(of a report the first sampled principal sees), `<n>` a word in one portion of ten, `synthetic`
a word in every portion.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tearline.bench.databases import bench_target, describe
from tearline.bench.load import Advance, BenchNode, LoadSpec, build_node
from tearline.bench.visibility import median_run, timed
from tearline.db.models import Portion, Report
from tearline.store.filters import Reader, portion_visible
from tearline.store.reads import portion_page, search_portions

PAGE = 50


@dataclass(frozen=True)
class SearchConfig:
    load: LoadSpec = field(default_factory=lambda: LoadSpec(portions=100_000, principals=20))
    samples: int = 5  # principals whose searches are timed
    repeats: int = 3  # timed runs of each search; the median is kept


@dataclass(frozen=True)
class SearchCase:
    """One search, as a full-text query and as the substring the LIKE scan looked for."""

    label: str
    query: str
    substring: str
    exact: bool = True  # False: a substring may also sit inside longer words, so LIKE finds at least as many


@dataclass
class CaseResult:
    case: SearchCase
    fts_seconds: list[float] = field(default_factory=list)
    like_seconds: list[float] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    agree: bool = True

    @property
    def fts(self) -> float:
        return statistics.median(self.fts_seconds)

    @property
    def like(self) -> float:
        return statistics.median(self.like_seconds)

    @property
    def ratio(self) -> float:
        return self.like / self.fts if self.fts else float("inf")


@dataclass
class SearchResult:
    label: str
    where: str
    portions: int
    load_seconds: float
    cases: list[CaseResult]

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.cases)


def like_search(session: Session, reader: Reader, substring: str, limit: int) -> tuple[int, list[int]]:
    """The search as it was before full-text search: a LIKE scan beside the same visibility filter."""
    query = (
        select(Portion.id)
        .join(Report, Report.id == Portion.report_id)
        .where(portion_visible(reader, searchable=True), func.lower(Portion.text).contains(substring.lower()))
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(Portion.id).limit(limit)))


def _cases(session: Session, reader: Reader, rng: random.Random) -> list[SearchCase]:
    # The rare word names a report the first sampled principal sees, so that it has hits to find.
    after = rng.randrange(session.scalar(select(func.max(Portion.id))) or 1)
    seen = portion_page(session, reader, 1, after) or portion_page(session, reader, 1, 0) or [1]
    stix_id = session.scalar(
        select(Report.stix_id).join(Portion, Portion.report_id == Report.id).where(Portion.id == seen[0])
    )
    assert stix_id is not None
    segment = stix_id.removeprefix("report--").split("-")[0]
    return [
        SearchCase("rare word (one report)", segment, segment),
        SearchCase("prefix (one report)", segment[:6] + "*", segment[:6], exact=False),
        SearchCase("word in one portion of ten", "7", " 7 "),
        SearchCase("word in every portion", "synthetic", "synthetic"),
    ]


def _measure_case(session: Session, reader: Reader, result: CaseResult, repeats: int) -> None:
    case = result.case
    fts, fts_time = median_run(lambda: search_portions(session, reader, case.query, PAGE, 0), repeats)
    (like_total, _), like_time = median_run(lambda: like_search(session, reader, case.substring, PAGE), repeats)
    result.fts_seconds.append(fts_time)
    result.like_seconds.append(like_time)
    result.hits.append(fts.total)
    same = fts.total == like_total if case.exact else fts.total <= like_total
    result.agree = result.agree and same


def measure(bench: BenchNode, config: SearchConfig, advance: Advance) -> list[CaseResult]:
    rng = random.Random(config.load.seed + 2)
    sample = rng.sample(bench.principals, min(config.samples, len(bench.principals)))
    with bench.node.db.read() as session:
        results = [CaseResult(case) for case in _cases(session, bench.node.reader(sample[0]), rng)]
    for i, principal in enumerate(sample):
        reader = bench.node.reader(principal)
        with bench.node.db.read() as session:
            for result in results:
                _measure_case(session, reader, result, config.repeats)
        advance("measure", i + 1, len(sample))
    return results


def run_search(url: str, config: SearchConfig, advance: Advance) -> SearchResult:
    """Build a node on `url` (`sqlite` or a PostgreSQL server), time the searches, tear it down."""
    with bench_target(url) as target:
        bench, load_seconds = timed(lambda: build_node(target, config.load, advance))
        try:
            cases = measure(bench, config, advance)
        finally:
            bench.node.close()
    return SearchResult(target.label, describe(url), bench.portions, load_seconds, cases)


def summary_rows(result: SearchResult) -> list[list[Any]]:
    """Rows for the report table: case, median hits, FTS ms, LIKE ms, ratio, same totals."""
    return [
        [c.case.label, int(statistics.median(c.hits)), c.fts * 1000, c.like * 1000, c.ratio, c.agree]
        for c in result.cases
    ]
