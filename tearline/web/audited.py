"""Every request that reads or decides goes into the audit log, in the same transaction.

The response is sent only after that transaction commits, so nothing is acknowledged that the
log does not hold. A refusal is logged too (after the refused work rolled back), naming its rule.
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
        with node.db.write() as session:
            rule = getattr(err, "rule", None) or err.code
            journal.record(session, node, principal, action, trail.objects, rule=rule, outcome="denied")
        raise


def reader_of(reader: Reader | None) -> Reader:
    assert reader is not None, "a principal's request always has a reader"
    return reader
