"""Group commit of audit entries: many callers' entries in one durable transaction, each acknowledged after it.

A read (a report read, a search, an export, a TAXII page, a stream batch, a refused log-in) writes
nothing of its own, so its entry has no transaction to ride in. One write transaction per entry
costs one durable commit per entry: an fsync of SQLite's WAL, or a commit round trip and a WAL
flush on PostgreSQL, which caps a node at a few thousand reads a second whatever the code does.

So, as a database groups its own commits (PostgreSQL's commit_delay, InnoDB's group commit), the
callers queue their encoded entries and wait. One of them, the leader, opens a `Database.write()`
transaction and locks the log's head, then takes every queued entry (so callers who queue while it
waits for the database join its group), appends them all with `log.append_entries` (the path of
`record_many`) in that transaction, and commits it durably (SQLite `synchronous=FULL`; PostgreSQL with `fsync` on). Only
then is each caller of the group woken with its own index. If anything fails before the commit
returns, every caller of the group (all those queued, if it failed before the group was taken)
gets `AuditNotCommitted` and none of its entries is stored:
nothing is acknowledged that did not commit. Entries queued while a group commits form the next
group, led by the first of them, so no caller waits on more than one commit after its own group's.
A leader first waits, at most GATHER_SECONDS, for as many callers as its last group had (see
`_gather`): fewer, larger commits, as PostgreSQL's commit_delay gives.

The leader is a caller, never a thread of ours, so there is nothing to start or to leak; `close`
refuses new entries and waits until every queued one is committed or failed.

An action that writes keeps appending inside its own transaction (`log.record`): its entry must
commit with it. Never call `append` inside a write transaction: on SQLite the group's transaction
would wait for the caller's write lock, which waits for the group.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field

from tearline.audit.event import AuditEvent
from tearline.audit.log import Entry, append_entries, encode, take_head
from tearline.db.engine import Database
from tearline.errors import TearlineError

# Large enough that a busy node's queue goes in one commit; small enough to bound one transaction.
MAX_GROUP = 2_000
# How long a leader waits for its group to gather (PostgreSQL's commit_delay, for the same reason).
# A durable commit costs 1-3 ms. The last group's callers are woken one after another and queue
# again as they go: with 64 callers that takes longer than 1 ms. Waiting 1 ms, groups averaged
# 43-50 of the 64 callers; waiting 2 ms, 62. In alternating rounds of 64 callers, 2 ms gave SQLite 12-15%
# more appends a second than 1 ms, PostgreSQL 2%, and 3 or 5 ms nothing more on either. A lone
# caller never waits (see `_gather`).
GATHER_SECONDS = 0.002


class AuditNotCommitted(TearlineError):
    """The group commit that held this entry failed: the entry is not in the log, and nothing was answered."""

    status = 503
    code = "audit_not_committed"


class AuditClosed(AuditNotCommitted):
    """The node is closing: its log takes no more entries from reads."""

    code = "audit_closed"


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class _Ticket:
    """One caller's entry and what it is woken with: its index, the group's failure, or the lead.

    `woken` is a lock taken at birth: the caller waits by taking it again, and is woken by its
    release, the cheapest wake-up Python has (an Event costs a Condition and a second lock).
    """

    entry: Entry
    woken: threading.Lock = field(default_factory=_held)
    index: int | None = None
    failure: BaseException | None = None
    leads: bool = False
    then: _Ticket | None = None  # the next caller of its group, woken by this one


class GroupCommitter:
    """Appends entries of concurrent callers in shared durable commits; see the module's docstring."""

    def __init__(self, db: Database, node_name: str, max_group: int = MAX_GROUP) -> None:
        self._db = db
        self._node_name = node_name
        self._max_group = max_group
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._gathered = threading.Condition(self._lock)
        self._queue: deque[_Ticket] = deque()
        self._leading = False
        self._closed = False
        self._last_group = 0
        self._gather_to = 0  # while a leader gathers: the queue length it waits for, else 0

    def append(self, event: AuditEvent) -> int:
        """Append the event; returns its index once its group's commit has returned.

        Raises `AuditNotCommitted` (its cause is the database's error) when that commit failed.
        """
        # Encoded here, so that a bad event fails its own caller and never its group.
        ticket = _Ticket(encode(event, self._node_name))
        with self._lock:
            if self._closed:
                raise AuditClosed("the node is closing: the read's audit entry was not appended")
            self._queue.append(ticket)
            leads = not self._leading
            self._leading = True
            if self._gather_to and len(self._queue) >= self._gather_to:
                self._gathered.notify()
        if not leads:
            ticket.woken.acquire()  # woken with the answer, or to lead the next group
            if ticket.then is not None:
                ticket.then.woken.release()
            leads = ticket.leads
        if leads:
            self._lead()
        if ticket.index is None:
            raise AuditNotCommitted("the audit log could not commit this entry; nothing was answered") from (
                ticket.failure
            )
        return ticket.index

    def queued(self) -> int:
        """Entries waiting for a group's commit to take them (not those of the group committing now)."""
        with self._lock:
            return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Take no more entries, and return once every queued entry is committed or failed."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: not self._leading)

    def _lead(self) -> None:
        """Commit the queue's head group, answer its callers, then hand the lead to the next waiting one.

        The transaction begins and locks the log's head before the group is taken: those round trips
        (on PostgreSQL a pool pre-ping, BEGIN and SELECT ... FOR UPDATE) leave the interpreter to the
        callers still queuing, so they overlap the gathering instead of adding to it. The price: the
        head (on SQLite, the write lock) is held while the group gathers, at most GATHER_SECONDS
        longer, and a writing action's own append may wait that much more under load.
        """
        group: list[_Ticket] = []
        indexes: list[int] | None = None
        failure: BaseException | None = None
        try:
            with self._db.write() as session:
                head = take_head(session)
                group = self._take()
                appended = append_entries(session, [ticket.entry for ticket in group], head)
            indexes = appended  # only now: the commit, at the end of the block, has returned
        except BaseException as err:
            failure = err
            if not isinstance(err, Exception):
                raise  # an interrupt: the group's callers are still answered, by the finally below
        finally:
            if not group:  # failed before the group was taken: the queued callers get the failure
                group = self._take(gather=False)
            self._answer(group, indexes, failure)
            self._hand_on()
            self._wake(group[1:])  # the leader's own ticket is the group's first

    def _take(self, gather: bool = True) -> list[_Ticket]:
        """The group to commit: the queue's head, up to `max_group`, once it has gathered."""
        with self._lock:
            if gather:
                self._gather()
            group = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_group))]
            self._last_group = len(group)
        return group

    def _gather(self) -> None:
        """Under the lock: wait (at most GATHER_SECONDS) until as many callers queue as the last group had.

        The callers of the last group are woken one after another and queue again one after
        another, so a leader that took the queue at once would commit half of them and leave the
        rest to one more durable commit. With no group before, or a group of one, nobody waits.
        """
        wanted = min(self._last_group, self._max_group)
        if wanted > 1 and len(self._queue) < wanted:
            self._gather_to = wanted
            try:
                self._gathered.wait(GATHER_SECONDS)
            finally:
                self._gather_to = 0

    @staticmethod
    def _answer(group: list[_Ticket], indexes: list[int] | None, failure: BaseException | None) -> None:
        """Give every caller of the group its index if the commit returned, else the failure."""
        for offset, ticket in enumerate(group):
            if indexes is not None and failure is None:
                ticket.index = indexes[offset]
            else:
                ticket.failure = failure

    @staticmethod
    def _wake(waiting: list[_Ticket]) -> None:
        """Wake the callers one after another, each by the one before it, rather than all at once.

        Woken all at once, they would all want the interpreter lock, and the next group's leader,
        back from each database round trip, would wait for most of them before it could go on.
        """
        for ticket, after in itertools.pairwise(waiting):
            ticket.then = after
        if waiting:
            waiting[0].woken.release()

    def _hand_on(self) -> None:
        """The first caller still queued leads the next group; with none, the committer is idle."""
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
                self._idle.notify_all()
                return
            successor.leads = True
        successor.woken.release()
