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
from tearline.store.reports import create_report

Progress = Callable[[int, int], None]


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
        markings: dict[str, int] = {}
        for draft in drafts:
            try:
                ids.append(create_report(session, draft, principal, node.identity, registry, markings).stix_id)
            except InvalidInput as err:  # keep going, so the producer sees every problem at once
                problems += [_in_report(p, draft.stix_id or "report") for p in err.problems]
            if progress is not None:
                progress(_size(draft), total)
        if problems:
            raise InvalidInput(problems)
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
