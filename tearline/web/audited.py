"""Every request that reads or decides goes into the audit log, and is answered only once it is there.

A request that writes (`audited`) appends its entry in its own transaction, and the response is
sent only after that transaction commits. A request that only reads (`audited_read`) runs in a
read transaction, and its entry then goes to the node's group committer, which appends the
entries of many concurrent reads in one durable commit; the response is sent only after that
commit. Either way nothing is acknowledged that the log does not hold. A refusal is logged too
(after the refused work rolled back), naming its rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.models import Principal
from tearline.errors import TearlineError
from tearline.node import Node
from tearline.store.filters import Reader


@dataclass
class Trail:
    """What the entry will say: the objects touched, the banner shown, the rule that decided."""

    objects: list[str] = field(default_factory=list)
    marking: str | None = None
    rule: str | None = None


@contextmanager
def audited(
    node: Node, principal: Principal | str, action: str, objects: Sequence[str] = (), *, journaled: bool = False
) -> Iterator[tuple[Session, Reader | None, Trail]]:
    """A write transaction with the caller's reader; its audit entry commits with it.

    `journaled=True` when the work inside writes its own entries (the release workflow does);
    then only a refusal is added here.
    """
    trail = Trail(list(objects))
    try:
        with node.db.write() as session:
            reader = node.reader(principal, session) if isinstance(principal, Principal) else None
            yield session, reader, trail
            if not journaled:
                journal.record(session, node, principal, action, trail.objects, marking=trail.marking, rule=trail.rule)
    except TearlineError as err:
        # The refused work rolled back, so the refusal's entry is all there is to write.
        journal.record_refusal(node, principal, action, trail.objects, _rule_of(err))
        raise


@contextmanager
def audited_read(
    node: Node, principal: Principal | str, action: str, objects: Sequence[str] = ()
) -> Iterator[tuple[Session, Reader | None, Trail]]:
    """A read transaction with the caller's reader; its audit entry is durable before the block's exit returns.

    Only for work that writes nothing: the session is a read session, and the entry is appended
    after it ended, in a commit shared with other reads' entries (`journal.record_read`).
    """
    trail = Trail(list(objects))
    try:
        reader = node.reader(principal) if isinstance(principal, Principal) else None
        with node.db.read() as session:
            yield session, reader, trail
            event = journal.event_of(
                session, node, principal, action, trail.objects, marking=trail.marking, rule=trail.rule
            )
    except TearlineError as err:
        journal.record_refusal(node, principal, action, trail.objects, _rule_of(err))
        raise
    journal.record_read(node, event)


def _rule_of(err: TearlineError) -> str:
    rule: str | None = getattr(err, "rule", None)
    return rule or err.code


def reader_of(reader: Reader | None) -> Reader:
    assert reader is not None, "a principal's request always has a reader"
    return reader
