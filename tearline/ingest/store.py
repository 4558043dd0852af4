"""Storing a batch of drafts: one transaction, every problem of every report, all or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.models import Principal
from tearline.errors import InvalidInput, Problem
from tearline.node import Node
from tearline.store.drafts import ReportDraft
from tearline.store.reports import foreign_origin_problems, new_report_problems, store_new_reports

Progress = Callable[[int, int], None]
STORE_BATCH = 200  # reports per bulk insert: few round trips, and a progress bar that still moves


@dataclass(frozen=True)
class IngestResult:
    """What one file or bundle added to the node."""

    reports: int
    portions: int
    objects: int
    elapsed: float
    report_ids: tuple[str, ...] = ()

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.elapsed if self.elapsed > 0 else float("inf")

    def summary(self) -> str:
        counts = (
            f"{_count(self.reports, 'report')}, {_count(self.portions, 'portion')} and {_count(self.objects, 'object')}"
        )
        return f"{counts} in {self.elapsed:.2f} s ({self.objects_per_second:,.0f} objects/s)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def store_drafts(
    node: Node, drafts: Sequence[ReportDraft], submitter: str, started: float, progress: Progress | None = None
) -> IngestResult:
    """Create every report inside ONE write transaction; any problem anywhere rolls back all of them."""
    total = sum(_size(d) for d in drafts)
    problems: list[Problem] = []
    ids: list[str] = []
    with node.db.write() as session:
        principal = principal_named(session, submitter, "submitter")
        registry = node.registry(session)
        markings: dict[str, int] = {}  # stored marking ids by digest, across the whole batch
        for draft, found in zip(drafts, new_report_problems(session, drafts, registry), strict=True):
            # every problem of every report, so that the producer sees them all at once
            found += foreign_origin_problems(draft, node.config.nation)
            problems += [_in_report(p, draft.stix_id or "report") for p in found]
        if problems:
            raise InvalidInput(problems)
        for start in range(0, len(drafts), STORE_BATCH):
            batch = drafts[start : start + STORE_BATCH]
            ids += [stix_id for _, stix_id in store_new_reports(session, batch, principal, node.identity, markings)]
            if progress is not None:
                progress(sum(_size(d) for d in batch), total)
        journal.record(session, node, principal, "ingest", ids)
    return IngestResult(
        reports=len(drafts),
        portions=sum(len(d.portions) for d in drafts),
        objects=sum(len(d.objects) for d in drafts),
        elapsed=time.perf_counter() - started,
        report_ids=tuple(ids),
    )


def principal_named(session: Session, username: str, field: str) -> Principal:
    principal = session.scalar(select(Principal).where(Principal.username == username))
    if principal is None or principal.disabled:
        raise InvalidInput(Problem(field, f"no active principal {username!r}"))
    return principal


def _size(draft: ReportDraft) -> int:
    return 1 + len(draft.portions) + len(draft.objects)


def _in_report(problem: Problem, report_id: str) -> Problem:
    """Name the report (or the object) in each problem; store problems name only `portion N`."""
    item = problem.item
    if item is None:
        return Problem(problem.field, problem.reason, report_id)
    if item.startswith("portion "):
        return Problem(f"{item}.{problem.field}", problem.reason, report_id)
    return problem
