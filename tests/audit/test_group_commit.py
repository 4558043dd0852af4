"""The group committer: reads' entries share durable commits, and each caller is answered only after its own.

The commit of a group is held at a gate where a test needs a group to form, so that no test
depends on how fast threads run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from tearline.audit import log
from tearline.audit.event import AuditEvent
from tearline.audit.group import AuditClosed, AuditNotCommitted, GroupCommitter
from tearline.db.engine import Database
from tearline.node import Node
from tests.audit.support import event

CALLERS = 8
EACH = 12


class GatedDatabase:
    """The node's database, with one commit held at a gate and chosen transactions failing.

    By default the first transaction is held after its group's append, before it commits (the
    leader has taken its group); `gate_before` holds it before it begins instead (the leader
    waits for the database with its group not yet taken).
    """

    def __init__(
        self,
        db: Database,
        failing: frozenset[int] = frozenset(),
        failing_to_begin: frozenset[int] = frozenset(),
        gate_before: bool = False,
    ) -> None:
        self.db = db
        self.failing, self.failing_to_begin, self.gate_before = failing, failing_to_begin, gate_before
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    def _held(self, call: int) -> None:
        if call == 0:
            self.entered.set()
            self.gate.wait()

    @contextmanager
    def write(self) -> Iterator[Session]:
        call, self.calls = self.calls, self.calls + 1
        if self.gate_before:
            self._held(call)
        if call in self.failing_to_begin:
            raise RuntimeError("the database is unreachable")  # before the leader takes its group
        with self.db.write() as session:
            yield session
            if not self.gate_before:
                self._held(call)
            if call in self.failing:
                raise RuntimeError("the disk is full")  # after the append: the transaction rolls back


# A point the threads never reach fails the test after this long, instead of hanging the suite.
STUCK_SECONDS = 60


def _until(condition: Callable[[], bool]) -> None:
    """Wait for other threads to reach a point (synchronisation only; nothing is timed)."""
    done = threading.Event()
    deadline = time.monotonic() + STUCK_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the threads never reached the point this test waits for"
        done.wait(0.005)


def _joined(threads: Sequence[threading.Thread]) -> None:
    """Wait for every thread to finish; one still running after STUCK_SECONDS fails the test."""
    for thread in threads:
        thread.join(STUCK_SECONDS)
        assert not thread.is_alive(), "a caller was never answered"


def _size(node: Node) -> int:
    with node.db.read() as session:
        return log.log_size(session)


class Caller(threading.Thread):
    """A reader that appends one event and keeps what it was answered."""

    def __init__(self, committer: GroupCommitter, entry: AuditEvent) -> None:
        super().__init__()
        self.committer, self.entry = committer, entry
        self.answer: int | BaseException | None = None

    def run(self) -> None:
        try:
            self.answer = self.committer.append(self.entry)
        except BaseException as err:  # kept for the test to look at
            self.answer = err


def _gated(node: Node, **gating: Any) -> tuple[GroupCommitter, GatedDatabase]:
    gated = GatedDatabase(node.db, **gating)
    return GroupCommitter(cast(Database, gated), node.config.name), gated


def _started(committer: GroupCommitter, first: int, count: int) -> list[Caller]:
    callers = [Caller(committer, event(first + i)) for i in range(count)]
    for caller in callers:
        caller.start()
    return callers


def test_every_caller_gets_its_own_index_in_its_own_order(node: Node) -> None:
    start = _size(node)
    answers: dict[int, list[int]] = {}

    def reader(who: int) -> None:
        answers[who] = [node.audit_group.append(event(who * EACH + i)) for i in range(EACH)]

    threads = [threading.Thread(target=reader, args=(who,)) for who in range(CALLERS)]
    for thread in threads:
        thread.start()
    _joined(threads)

    indexes = [index for who in range(CALLERS) for index in answers[who]]
    assert sorted(indexes) == list(range(start, start + CALLERS * EACH))  # no hole, no index twice
    for who in range(CALLERS):
        assert answers[who] == sorted(answers[who])  # one caller's entries keep its order
    with node.db.read() as session:
        for who in range(CALLERS):
            for i, index in enumerate(answers[who]):
                assert log.read_leaf(session, index).data == event(who * EACH + i).canonical()
        log.verify_log(session, log.verifier_key(node))


def test_a_group_shares_one_commit_and_keeps_its_queue_order(node: Node) -> None:
    start = _size(node)
    committer, gated = _gated(node)
    leader = _started(committer, 0, 1)
    gated.entered.wait()
    followers = _started(committer, 1, 5)
    _until(lambda: committer.queued() == 5)
    gated.gate.set()
    _joined(leader + followers)

    assert leader[0].answer == start
    assert gated.calls == 2  # the leader's own commit, then one for all five that queued meanwhile
    got = {cast(int, c.answer): c.entry for c in followers}
    assert sorted(got) == list(range(start + 1, start + 6))
    with node.db.read() as session:
        for index, entry in got.items():
            assert log.read_leaf(session, index).data == entry.canonical()


@pytest.mark.parametrize(
    "gating",
    [{"failing": frozenset({1})}, {"failing_to_begin": frozenset({1})}],
    ids=["the commit fails", "the transaction fails to begin, before the group is taken"],
)
def test_a_failed_group_fails_every_caller_of_it_and_stores_none_of_it(node: Node, gating: dict[str, Any]) -> None:
    start = _size(node)
    committer, gated = _gated(node, **gating)
    leader = _started(committer, 0, 1)
    gated.entered.wait()
    group = _started(committer, 1, 4)
    _until(lambda: committer.queued() == 4)
    gated.gate.set()
    _joined(leader + group)

    assert leader[0].answer == start
    for caller in group:
        assert isinstance(caller.answer, AuditNotCommitted)
        assert isinstance(caller.answer.__cause__, RuntimeError)
    assert committer.queued() == 0
    assert _size(node) == start + 1
    # The log goes on without a hole where the failed group would have been.
    assert committer.append(event(99)) == start + 1
    with node.db.read() as session:
        log.verify_log(session, log.verifier_key(node))


def test_callers_who_queue_while_the_leader_waits_for_the_database_join_its_group(node: Node) -> None:
    start = _size(node)
    committer, gated = _gated(node, gate_before=True)
    leader = _started(committer, 0, 1)
    gated.entered.wait()
    followers = _started(committer, 1, 5)
    _until(lambda: committer.queued() == 6)  # the leader's own entry is not taken yet either
    gated.gate.set()
    _joined(leader + followers)

    assert gated.calls == 1  # one commit for all six
    assert leader[0].answer == start
    got = {cast(int, c.answer): c.entry for c in followers}
    assert sorted(got) == list(range(start + 1, start + 6))
    with node.db.read() as session:
        for index, entry in got.items():
            assert log.read_leaf(session, index).data == entry.canonical()


def test_close_commits_what_is_queued_and_refuses_what_comes_after(node: Node) -> None:
    start = _size(node)
    committer, gated = _gated(node)
    leader = _started(committer, 0, 1)
    gated.entered.wait()
    queued = _started(committer, 1, 3)
    _until(lambda: committer.queued() == 3)
    closing = threading.Thread(target=committer.close)
    closing.start()
    _until(lambda: committer.closed)
    with pytest.raises(AuditClosed):
        committer.append(event(50))
    assert closing.is_alive()  # it waits for the queue
    gated.gate.set()
    _joined([closing])
    _joined(leader + queued)

    answers = sorted(cast(int, c.answer) for c in leader + queued)
    assert answers == list(range(start, start + 4))
    assert _size(node) == start + 4


def test_a_bad_event_fails_only_its_own_caller(node: Node) -> None:
    class Unencodable(AuditEvent):
        def canonical(self) -> bytes:
            raise ValueError("not encodable")

    fields = {name: value for name, value in event(0).__dict__.items() if not name.startswith("_")}
    bad = Unencodable(**fields)
    with pytest.raises(ValueError):
        node.audit_group.append(bad)
    assert node.audit_group.append(event(1)) == _size(node) - 1
