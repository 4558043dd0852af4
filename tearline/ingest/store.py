"""Storing a batch of drafts: one transaction, every problem of every report, all or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.models import Principal
from tearline.errors import Forbidden, InvalidInput, Problem, TearlineError
from tearline.markings.marking import Registry
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import Rule
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store.authorship import reach_problems, require_author
from tearline.store.drafts import ReportDraft
from tearline.store.reports import foreign_origin_problems, new_report_problems, store_new_reports

Progress = Callable[[int, int], None]
STORE_BATCH = 200  # reports per bulk insert: few round trips, and a progress bar that still moves
Read = TypeVar("Read")


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
    with node.db.write() as session:
        principal = principal_named(session, submitter, "submitter")
        actor = f"{principal.username}@{principal.agency}"
        refusal = submitter_refusal(principal, drafts, node.table(session))
        ids = [] if refusal is not None else _store_all(session, node, principal, drafts, progress)
    if refusal is not None:
        # Nothing was written: the refusal is the audit log's entry, as a refused `POST /api/reports` is.
        reports = [d.stix_id for d in drafts if d.stix_id is not None]
        journal.record_refusal(node, actor, "ingest", reports, _rule_of(refusal))
        raise refusal
    return IngestResult(
        reports=len(drafts),
        portions=sum(len(d.portions) for d in drafts),
        objects=sum(len(d.objects) for d in drafts),
        elapsed=time.perf_counter() - started,
        report_ids=tuple(ids),
    )


def read_as_submitter(node: Node, submitter: str, read: Callable[[Registry], Read]) -> Read:
    """Read a file's drafts against the registry as its submitter knows it.

    A person's file is read, as `POST /api/reports` reads an author's body, against only the
    compartments they hold: a compartment's name is itself compartmented (DESIGN §3.3), so one they
    do not hold is refused as "unknown compartment", exactly like one that does not exist. Such a
    refusal is logged as a denied ingest, as the API logs a refused write. The node's service
    account reads with the node's whole registry.
    """
    with node.db.read() as session:
        registry = node.registry(session)
        if submitter != SERVICE_ACCOUNT:
            principal = principal_named(session, submitter, "submitter")
            actor = f"{principal.username}@{principal.agency}"
            registry = registry.known_to(principal.compartments or [])
    if submitter == SERVICE_ACCOUNT:
        return read(registry)  # outside the session: a large file's reading holds no transaction open
    try:
        return read(registry)
    except InvalidInput as err:
        journal.record_refusal(node, actor, "ingest", [], err.code)
        raise


def submitter_refusal(
    principal: Principal, drafts: Sequence[ReportDraft], table: EquivalenceTable
) -> TearlineError | None:
    """The API's rules for an author, for a person who submits: the analyst role, and every item at
    most at their clearance and within their compartments. The originator may be another agency of
    this nation (ingest carries their reports). The node's service account is the node itself, and
    submits whatever the node may hold."""
    if principal.username == SERVICE_ACCOUNT:
        return None
    try:
        require_author(principal)
    except Forbidden as err:
        return Forbidden(f"submitter {principal.username!r}: {err.message}", rule=err.rule)
    problems = [_in_report(p, d.stix_id or "report") for d in drafts for p in reach_problems(d, principal, table)]
    if problems:
        return InvalidInput(problems)
    return None


def _rule_of(refusal: TearlineError) -> str:
    """The rule that refused: the analyst role, or rule 1 (clearance) and 3 (compartments) of DESIGN §3.3."""
    if isinstance(refusal, InvalidInput):
        fields = {p.field.rsplit(".", 1)[-1] for p in refusal.problems}
        return ",".join(rule for field, rule in _REACH_RULES if field in fields)
    return getattr(refusal, "rule", None) or refusal.code


_REACH_RULES = (("level", Rule.CLEARANCE.value), ("compartments", Rule.COMPARTMENT.value))


def _store_all(
    session: Session, node: Node, principal: Principal, drafts: Sequence[ReportDraft], progress: Progress | None
) -> list[str]:
    """Check every draft, then store them all and journal the ingest; InvalidInput names every problem."""
    total = sum(_size(d) for d in drafts)
    problems: list[Problem] = []
    ids: list[str] = []
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
    return ids


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
