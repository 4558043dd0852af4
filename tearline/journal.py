"""Every decision of every layer goes into the node's audit log, in the caller's transaction.

An action that writes records its entry in its own write transaction (`record`); one that writes
nothing (a read, a refusal) hands its entry to the node's group committer and waits until it is
durable (`record_read`, `record_refusal`). This is the one place the other layers call;
`tearline.audit.log` keeps the Merkle tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.event import AuditEvent
from tearline.audit.log import record as append
from tearline.db.models import Principal
from tearline.node import Node
from tearline.store.registry import current_table

# The actor of a change made at the node's own command line (by whoever holds its data directory).
NODE_ADMIN = "node-admin"


def event_of(
    session: Session,
    node: Node,
    actor: Principal | str,
    action: str,
    objects: Sequence[str],
    *,
    marking: str | None = None,
    rule: str | None = None,
    outcome: str = "allowed",
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """The event of this action now, under the policy version that `session` sees."""
    name = actor if isinstance(actor, str) else f"{actor.username}@{actor.agency}"
    return AuditEvent(
        actor=name,
        action=action,
        objects=list(objects),
        marking=marking,
        policy_version=f"equivalence-v{current_table(session).version}",
        rule=rule,
        outcome=outcome,
        time=clock.now(),
        node=f"{node.config.nation}/{node.config.agency}",
        detail=detail,
    )


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
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one event for this action in its write transaction; returns its index in the log."""
    event = event_of(session, node, actor, action, objects, marking=marking, rule=rule, outcome=outcome, detail=detail)
    index: int = append(session, event, node.config.name)
    return index


def record_read(node: Node, event: AuditEvent) -> int:
    """Append the event of an action that wrote nothing; returns its index once it is durable.

    It goes in a commit shared with other readers' entries (`tearline.audit.group`). Call it after
    the read's transaction ended, and never inside a write transaction, and answer only once it returned.
    """
    return node.audit_group.append(event)


def record_refusal(node: Node, actor: Principal | str, action: str, objects: Sequence[str], rule: str) -> int:
    """Append a refused access (nothing was done, so nothing else is written); returns once it is durable."""
    with node.db.read() as session:
        event = event_of(session, node, actor, action, objects, rule=rule, outcome="denied")
    return record_read(node, event)
