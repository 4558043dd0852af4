"""The auditor's questions: who saw (or was refused) an object, and what a principal saw.

The search tables and columns only narrow the candidates: they are cut to index-friendly lengths,
they are not covered by the Merkle tree, and the newest entries are not in the tables yet (they
are written in batches; see `tearline.audit.store`), so those are read from the log itself. Each
answer is decoded from the entry's canonical bytes and re-checked against the question, so an
answer is always what the log itself says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tearline.audit.event import OUTCOMES, AuditEvent
from tearline.audit.store import ACTION_CUT, LogCorrupted, indexed_entries, search_key
from tearline.clock import as_utc
from tearline.db.audit_tables import AuditActor, AuditLeaf, AuditObject
from tearline.errors import InvalidInput, Problem

MAX_LIMIT = 500
# The rule under which reading or searching the log is allowed or refused.
AUDITOR_RULE = "audit.auditor-role"
# Audit indexes and sizes are bounded by what an entry can hold: the canonical JSON of an entry
# holds integers within ±(2**53 - 1), and a read's entry keeps the index it asked for.
AUDIT_MAX = 2**53 - 1


@dataclass(frozen=True)
class Query:
    """At least one of object_id and actor; the rest narrow. `after` pages: entries with a larger index.

    `since` (inclusive) and `until` (exclusive) without a time zone are UTC.
    """

    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = -1
    limit: int = 100

    def __post_init__(self) -> None:
        # A time without a zone (or a plain date, midnight) is taken as UTC, like the entries' times.
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None:
                try:
                    object.__setattr__(self, name, as_utc(moment))
                except (OverflowError, ValueError) as err:
                    raise InvalidInput(Problem(name, "is out of the range of times (in UTC)")) from err

    def check(self) -> None:
        if not self.object_id and not self.actor:
            raise InvalidInput(Problem("query", "give an object id (who saw it) or an actor (what they saw)"))
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(Problem("limit", f"must be between 1 and {MAX_LIMIT}"))
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise InvalidInput(Problem("outcome", f"must be one of {', '.join(OUTCOMES)} (or left out for both)"))
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInput(
                Problem("since", f"is after until ({self.since.isoformat()} > {self.until.isoformat()}): swap them")
            )
        for name in ("object_id", "actor", "action"):
            if not _is_utf8(getattr(self, name) or ""):
                raise InvalidInput(Problem(name, "is not Unicode text (it holds a lone surrogate)"))

    def matches(self, event: AuditEvent) -> bool:
        return (
            (self.object_id is None or self.object_id in event.objects)
            and (self.actor is None or event.actor == self.actor)
            and (self.action is None or event.action == self.action)
            and (self.outcome is None or event.outcome == self.outcome)
            and (self.since is None or event.time >= self.since)
            and (self.until is None or event.time < self.until)
        )


@dataclass(frozen=True)
class Hit:
    index: int
    event: AuditEvent
    data: bytes


@dataclass(frozen=True)
class Page:
    """The hits, and where to continue (`after=next_after`) when more entries may match."""

    hits: list[Hit]
    next_after: int | None


def _indexed(query: Query, indexed: int) -> Select[int, bytes]:
    """Candidates among the entries that the search tables cover: found through those tables."""
    stmt = select(AuditLeaf.idx, AuditLeaf.data).where(AuditLeaf.idx > query.after, AuditLeaf.idx < indexed)
    if query.object_id:
        stmt = stmt.join(AuditObject, AuditObject.idx == AuditLeaf.idx).where(
            AuditObject.object_id == search_key(query.object_id)
        )
    if query.actor:
        stmt = stmt.join(AuditActor, AuditActor.idx == AuditLeaf.idx).where(AuditActor.actor == search_key(query.actor))
    return _narrowed(stmt, query).order_by(AuditLeaf.idx)


def _recent(session: Session, query: Query, indexed: int) -> list[tuple[int, bytes]]:
    """Candidates among the newer entries, not in the search tables yet (fewer than INDEX_BATCH and a group).

    They are read from `audit_leaf`; an object id is looked for in the bytes as JSON spells it
    (the canonical bytes are that JSON), and `search` then decodes and re-checks each candidate.
    """
    stmt = select(AuditLeaf.idx, AuditLeaf.data).where(AuditLeaf.idx > max(query.after, indexed - 1))
    if query.actor:
        stmt = stmt.where(AuditLeaf.actor == search_key(query.actor))
    rows = [(index, bytes(data)) for index, data in session.execute(_narrowed(stmt, query).order_by(AuditLeaf.idx))]
    if not query.object_id:
        return rows
    spelt = orjson.dumps(query.object_id)
    return [(index, data) for index, data in rows if spelt in data]


def _narrowed(stmt: Select[int, bytes], query: Query) -> Select[int, bytes]:
    if query.action:
        stmt = stmt.where(AuditLeaf.action == search_key(query.action, ACTION_CUT))
    if query.outcome:
        stmt = stmt.where(AuditLeaf.outcome == query.outcome)
    if query.since:
        stmt = stmt.where(AuditLeaf.at_us >= _micros(query.since))
    if query.until:
        stmt = stmt.where(AuditLeaf.at_us < _micros(query.until))
    return stmt


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _micros(moment: datetime) -> int:
    return round(as_utc(moment).timestamp() * 1_000_000)


def _decode(index: int, data: bytes) -> AuditEvent:
    try:
        return AuditEvent.from_canonical(data)
    except InvalidInput as err:
        raise LogCorrupted(
            f"audit log entry {index} is not a canonical event ({err.message}): run `tearline audit verify`"
        ) from err


def search(session: Session, query: Query) -> Page:
    """Entries matching the query, in log order, at most `query.limit` of them."""
    query.check()
    indexed = indexed_entries(session)
    # Scan a few more candidates than asked: cut columns may admit entries that the bytes then reject.
    scan = query.limit * 2 + 10
    rows: list[tuple[int, bytes]] = [(i, bytes(d)) for i, d in session.execute(_indexed(query, indexed).limit(scan))]
    covered = len(rows) < scan  # every indexed candidate is in hand: the newer entries come next
    if covered:
        rows += _recent(session, query, indexed)
    hits: list[Hit] = []
    last = query.after
    for index, data in rows:
        last = index
        event = _decode(index, data)
        if query.matches(event):
            hits.append(Hit(index, event, data))
            if len(hits) == query.limit:
                break
    more = len(hits) == query.limit or not covered
    return Page(hits, last if more else None)
