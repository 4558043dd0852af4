"""Every decision of every layer goes into the node's audit log, in the caller's transaction.

This is the one place the other layers call; `tearline.audit.log` keeps the Merkle tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.event import AuditEvent
from tearline.audit.log import record as append
from tearline.db.models import Principal
from tearline.node import Node
from tearline.store.registry import current_table


def record(
    session: Session,
    node: Node,
    actor: Principal | str,
    action: str,
    objects: Sequence[str],
    *,
    marking: str | None = None,
    rule: str | None = None,
    outcome: str = "allowed",
) -> int:
    """Append one event for this action; returns its index in the log."""
    name = actor if isinstance(actor, str) else f"{actor.username}@{actor.agency}"
    event = AuditEvent(
        actor=name,
        action=action,
        objects=list(objects),
        marking=marking,
        policy_version=f"equivalence-v{current_table(session).version}",
        rule=rule,
        outcome=outcome,
        time=clock.now(),
        node=f"{node.config.nation}/{node.config.agency}",
    )
    index: int = append(session, event, node.config.name)
    return index
