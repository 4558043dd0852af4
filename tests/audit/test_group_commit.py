"""The group committer: reads' entries share durable commits, and each caller is answered only after its own.

The commit of a group is held at a gate where a test needs a group to form, so that no test
depends on how fast threads run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

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
    """The node's database, with the first commit held at a gate and chosen commits failing."""

    def __init__(self, db: Database, failing: frozenset[int] = frozenset()) -> None:
        self.db = db
        self.failing = failing
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    @contextmanager
    def write(self) -> Iterator[Session]:
        call, self.calls = self.calls, self.calls + 1
        if call == 0:
            self.entered.set()
            self.gate.wait()
        with self.db.write() as session:
            yield session
            if call in self.failing:
                raise RuntimeError("the disk is full")  # after the append: the transaction rolls back


def _until(condition: Callable[[], bool]) -> None:
    """Wait for other threads to reach a point (synchronisation only; nothing is timed)."""
    done = threading.Event()
    while not condition():
        done.wait(0.005)


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


def _gated(node: Node, failing: frozenset[int] = frozenset()) -> tuple[GroupCommitter, GatedDatabase]:
    gated = GatedDatabase(node.db, failing)
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
    for thread in threads:
        thread.join()

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
    for caller in leader + followers:
        caller.join()

    assert leader[0].answer == start
    assert gated.calls == 2  # the leader's own commit, then one for all five that queued meanwhile
    got = {cast(int, c.answer): c.entry for c in followers}
    assert sorted(got) == list(range(start + 1, start + 6))
    with node.db.read() as session:
        for index, entry in got.items():
            assert log.read_leaf(session, index).data == entry.canonical()


def test_a_failed_commit_fails_every_caller_of_its_group_and_stores_none_of_it(node: Node) -> None:
    start = _size(node)
    committer, gated = _gated(node, failing=frozenset({1}))
    leader = _started(committer, 0, 1)
    gated.entered.wait()
    group = _started(committer, 1, 4)
    _until(lambda: committer.queued() == 4)
    gated.gate.set()
    for caller in leader + group:
        caller.join()

    assert leader[0].answer == start
    for caller in group:
        assert isinstance(caller.answer, AuditNotCommitted)
        assert isinstance(caller.answer.__cause__, RuntimeError)
    assert _size(node) == start + 1
    # The log goes on without a hole where the failed group would have been.
    assert committer.append(event(99)) == start + 1
    with node.db.read() as session:
        log.verify_log(session, log.verifier_key(node))


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
    closing.join()
    for caller in leader + queued:
        caller.join()

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
