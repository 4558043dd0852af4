"""The auditor's questions: who saw (or was refused) an object, and what a principal saw.

The search tables and columns only narrow the candidates: they are cut to index-friendly lengths,
they are not covered by the Merkle tree, and the newest entries are not in the tables yet (they
are written in batches; see `tearline.audit.store`), so those are read from the log itself. Each
answer is decoded from the entry's canonical bytes and re-checked against the question, so an
answer is always what the log itself says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from tearline.audit.event import OUTCOMES, AuditEvent
from tearline.audit.store import ACTION_CUT, LogCorrupted, StoredLeaf, indexed_entries, search_key
from tearline.audit.verify import WITHHELD_HIDDEN, WITHHELD_NOT_CANONICAL
from tearline.clock import as_utc
from tearline.db.audit_tables import AuditActor, AuditLeaf, AuditObject
from tearline.db.federation_tables import ReceivedRelease
from tearline.db.models import Portion, Report, StixObject
from tearline.db.release_tables import Consent, ConsentRequest, Release, ReleaseRequest
from tearline.errors import InvalidInput, Problem
from tearline.markings.marking import Marking
from tearline.store.filters import Item, Reader, audience_clause
from tearline.store.reads import markings_by_id

T = TypeVar("T", int, str)

MAX_LIMIT = 500
# How many candidate entries one search with a searcher's sight examines at most before it
# answers the page it has, with where to go on (hidden entries are skipped, not counted as hits).
SIGHT_SCAN = 10_000
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
    """One entry found. `data` (its bytes) is None when its banner was withheld from the searcher."""

    index: int
    event: AuditEvent
    data: bytes | None


# An object id that can name something stored: no NUL (PostgreSQL text cannot hold it) and no longer
# than any stored id; an entry can name anything, so the rest are names of nothing stored.
_MAX_ID = 128
_REQUEST = re.compile(r"release-request:([1-9][0-9]{0,8})")  # within any database's integer


class EntrySight:
    """What one searcher may be shown of audit entries, under DESIGN §3.3 ("nothing hidden shows").

    Whether a portion or object is visible is asked of the store's read-path filters (its
    audience, `audience_clause`, the same SQL as `GET /api/reports/{id}` and every other read),
    never decided here; only liveness is not asked (see `_audited`). An entry that names a stored
    report, portion or object hidden from the searcher (or a release, release request or consent
    of one) is left out; an entry's banner is shown only when the searcher sees every item, in
    every version, of each report the entry concerns, since a banner rolls up items the entry need
    not name (a title, a tearline's portions).
    """

    def __init__(self, session: Session, reader: Reader) -> None:
        self.session = session
        self.reader = reader
        self.bannered: set[int] = set()  # the reports behind the banners shown so far

    def banner_markings(self) -> list[Marking]:
        """The markings behind every banner shown so far, for a page's own banner to roll up."""
        p, o = Portion, StixObject
        ids = set(self.session.scalars(select(p.marking_id).where(p.report_id.in_(self.bannered))))
        ids |= set(self.session.scalars(select(o.marking_id).where(o.report_id.in_(self.bannered))))
        return list(markings_by_id(self.session, ids).values())

    def entries(self, events: list[AuditEvent]) -> list[AuditEvent | None]:
        """Each event as the searcher may see it: None if left out, without its banner if withheld."""
        named = {o for event in events for o in event.objects if _may_be_stored(o)}
        referents = self._referents(named)
        concerns, hidden = self._items({*named, *(r for refs in referents.values() for r in refs)})
        whole = self._whole({r for reports in concerns.values() for r in reports})
        shown: list[AuditEvent | None] = []
        for event in events:
            ids = {o for o in event.objects if o in named}
            ids |= {r for o in ids for r in referents.get(o, ())}
            if ids & hidden:
                shown.append(None)
                continue
            reports = {r for o in ids for r in concerns.get(o, ())}
            if event.marking is not None and not (reports and reports <= whole):
                event = replace(event, marking=None)
            elif event.marking is not None:
                self.bannered |= reports  # the searcher sees every item of these, in every version
            shown.append(event)
        return shown

    def _referents(self, ids: set[str]) -> dict[str, set[str]]:
        """What releases, release requests and consents named here are about: a report, or item hashes."""
        about: dict[str, set[str]] = {}
        numbers = {int(m.group(1)): o for o in ids if (m := _REQUEST.fullmatch(o))}
        for numbered in _chunks(numbers):
            requests = select(ReleaseRequest.id, ReleaseRequest.report_stix_id).where(ReleaseRequest.id.in_(numbered))
            for number, report in self.session.execute(requests):
                about[numbers[number]] = {report}
        received = ReceivedRelease
        for part in _chunks(ids):
            releases = (  # ours, and a partner's we received
                select(Release.id, Release.report_stix_id).where(Release.id.in_(part)),
                select(received.release_id, received.report_stix_id).where(received.release_id.in_(part)),
            )
            for statement in releases:
                for release, report in self.session.execute(statement):
                    about[release] = {report}
            for table in (Consent, ConsentRequest):
                consents = select(table.id, table.item_hashes).where(table.id.in_(part))
                for consent, hashes in self.session.execute(consents):
                    about[consent] = {h for h in hashes if isinstance(h, str) and _may_be_stored(h)}
        return about

    def _items(self, ids: set[str]) -> tuple[dict[str, set[int]], set[str]]:
        """The reports each stored id concerns, and the ids that name stored things hidden from the reader."""
        concerns: dict[str, set[int]] = {}
        seen: set[str] = set()
        reader, session = self.reader, self.session
        p, o = Portion, StixObject
        for part in _chunks(ids):
            reports = select(Report.stix_id, Report.id).where(Report.stix_id.in_(part))
            for stix_id, report_id in session.execute(reports):
                concerns.setdefault(stix_id, set()).add(report_id)
            audited = select(Report.stix_id).where(Report.stix_id.in_(part), _report_audited(reader))
            seen |= set(session.scalars(audited))
            for column, table, visible in (
                (p.hash, p, _audited(reader, p)),
                (o.hash, o, _object_audited(reader, o)),
                (o.stix_id, o, _object_audited(reader, o)),
            ):
                for item_id, report_id in session.execute(select(column, table.report_id).where(column.in_(part))):
                    concerns.setdefault(item_id, set()).add(report_id)
                seen |= set(session.scalars(select(column).where(column.in_(part), visible)))
        return concerns, set(concerns) - seen

    def _whole(self, report_ids: set[int]) -> set[int]:
        """The reports of which the reader sees every item of every version."""
        p, o = Portion, StixObject
        # A visibility condition may be NULL (a workspace test on an item outside every workspace):
        # NULL is "not visible" here, as in a WHERE clause, and NOT NULL would be NULL again.
        portion_seen = func.coalesce(_audited(self.reader, p), false())
        object_seen = func.coalesce(_object_audited(self.reader, o), false())
        hidden_portion = select(p.id).where(p.report_id == Report.id, ~portion_seen)
        hidden_object = select(o.id).where(o.report_id == Report.id, ~object_seen)
        whole = select(Report.id).where(Report.id.in_(report_ids), ~hidden_portion.exists(), ~hidden_object.exists())
        return set(self.session.scalars(whole))


def _audited(reader: Reader, item: Item) -> ColumnElement[bool]:
    """DESIGN §3.3 for one portion or object row of any version, but for liveness (rule 5).

    A recall, an expiry or a withdrawal ends what anyone reads of an item, not the history of
    it: who read it, who released or received it, and when, is what an auditor looks for after
    a recall. So an item counts as seen here when the reader would see it were it still live:
    its audience (rules 1-4 and 6, as `tearline.store.filters.item_visible` asks it) and, for a
    foreign reader, the workspaces (rule 7). The markings never give way.
    """
    clauses = [audience_clause(reader, item)]
    if reader.foreign:
        allowed = sorted(reader.allowed_workspaces)
        clauses.append(item.workspace_id.in_(allowed) if allowed else false())
    return and_(*clauses)


def _object_audited(reader: Reader, obj: Item) -> ColumnElement[bool]:
    """`_audited`, and rule 8: a relationship or sighting counts as seen iff both its ends do."""

    def end_audited(ref: Any) -> ColumnElement[bool]:
        end = aliased(StixObject)
        same_version = and_(end.version_id == obj.version_id, end.stix_id == ref, _audited(reader, end))
        return or_(ref.is_(None), select(end.id).where(same_version).correlate_except(end).exists())

    return and_(_audited(reader, obj), end_audited(obj.source_ref), end_audited(obj.target_ref))


def _report_audited(reader: Reader) -> ColumnElement[bool]:
    """A report counts as seen iff one of its current items does (as `reads.report_visible`, without liveness)."""
    p, o = Portion, StixObject
    return or_(
        select(p.id).where(p.report_id == Report.id, p.is_current, _audited(reader, p)).exists(),
        select(o.id).where(o.report_id == Report.id, o.is_current, _object_audited(reader, o)).exists(),
    )


# Ids per IN list: one entry may name tens of thousands (an ingest names every object), and a
# statement takes at most 32,766 parameters on SQLite and 65,535 on PostgreSQL.
_CHUNK = 5_000


def _chunks(ids: Iterable[T]) -> Iterator[list[T]]:
    items = sorted(ids)  # sorted, so that the same ids make the same statements
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _may_be_stored(object_id: str) -> bool:
    return 0 < len(object_id) <= _MAX_ID and "\x00" not in object_id and _is_utf8(object_id)


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


def search(session: Session, query: Query, sight: EntrySight | None = None) -> Page:
    """Entries matching the query, in log order, at most `query.limit` of them.

    With a searcher's `sight`, entries about anything the searcher may not see are left out (and
    the scan goes on past them), and a banner is kept only where the searcher sees all it covers:
    a hidden report's history then answers exactly like that of a report that never existed.
    """
    query.check()
    indexed = indexed_entries(session)
    hits: list[Hit] = []
    after = query.after
    examined = 0
    while True:
        rows, covered = _candidates(session, replace(query, after=after), indexed)
        examined += len(rows)
        matching = [Hit(index, event, data) for index, data in rows if query.matches(event := _decode(index, data))]
        for hit in _seen(matching, sight):
            hits.append(hit)
            if len(hits) == query.limit:
                return Page(hits, hit.index)
        if covered:
            return Page(hits, None)
        after = rows[-1][0]
        if sight is None or examined >= SIGHT_SCAN:
            return Page(hits, after)
        # With a sight the scan goes on until the page is full, so that hidden entries neither
        # shorten a page nor leave a trace in where the next one starts; but not without end: a
        # page short of its limit, with where to go on, is what a search answers anyway when the
        # index admits entries that the entries' own bytes then reject.


def _candidates(session: Session, query: Query, indexed: int) -> tuple[list[tuple[int, bytes]], bool]:
    """A batch of candidates after `query.after`, and whether it reaches the end of the log."""
    # Scan a few more candidates than asked: cut columns may admit entries that the bytes then reject.
    scan = query.limit * 2 + 10
    rows: list[tuple[int, bytes]] = [(i, bytes(d)) for i, d in session.execute(_indexed(query, indexed).limit(scan))]
    covered = len(rows) < scan  # every indexed candidate is in hand: the newer entries come next
    if covered:
        rows += _recent(session, query, indexed)
    return rows, covered


def withheld(sight: EntrySight, leaves: Sequence[StoredLeaf]) -> list[str | None]:
    """Why each entry's bytes are withheld from the searcher (`tearline.audit.verify`), or None.

    An entry's bytes say all it says, its banner too, so they are shown exactly where a search
    shows them (`_seen`): not for an entry left out, nor for one whose banner is withheld. Bytes
    that are not an audit event cannot be judged, so they are withheld too (a verifier counts
    that as tampering).
    """
    events: dict[int, AuditEvent] = {}
    for position, leaf in enumerate(leaves):
        try:
            events[position] = _decode(leaf.index, leaf.data)
        except LogCorrupted:
            continue
    shown = dict(zip(events, sight.entries(list(events.values())), strict=True))
    why: list[str | None] = []
    for position in range(len(leaves)):
        if position not in events:
            why.append(WITHHELD_NOT_CANONICAL)
        else:
            why.append(None if shown[position] is events[position] else WITHHELD_HIDDEN)
    return why


def _seen(hits: list[Hit], sight: EntrySight | None) -> Iterable[Hit]:
    if sight is None:
        yield from hits
        return
    shown = sight.entries([hit.event for hit in hits])
    for hit, event in zip(hits, shown, strict=True):
        if event is not None:
            # Without its banner the entry is no longer its bytes, which would show the banner.
            yield Hit(hit.index, event, hit.data if event is hit.event else None)
