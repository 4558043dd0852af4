"""Helpers shared by the audit-log tests: events, filling a node's log, giving a node its own identity."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from tearline.audit import log
from tearline.audit.event import AuditEvent
from tearline.config import KEY_FILE, NodeConfig
from tearline.node import Node

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def event(i: int, **overrides: Any) -> AuditEvent:
    """A plausible, distinct event: reader u<i % 5> reads report <i % 11>."""
    fields: dict[str, Any] = {
        "actor": f"analyst{i % 5}@US-DEMO-NARC",
        "action": "report.read",
        "objects": [f"report--{i % 11:04d}"],
        "marking": "SECRET//REL TO USA, MEX",
        "policy_version": "equivalence-v1",
        "rule": None,
        "outcome": "allowed",
        "time": T0 + timedelta(seconds=i),
        "node": "USA/US-DEMO-NARC",
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def fill(node: Node, count: int, start: int = 0, batch: int = 50) -> list[bytes]:
    """Append `count` events in batches; returns their canonical bytes."""
    events = [event(i) for i in range(start, start + count)]
    for first in range(0, count, batch):
        with node.db.write() as session:
            log.record_many(session, events[first : first + batch], node.config.name)
    return [e.canonical() for e in events]


def checkpoint(node: Node) -> log.SignedCheckpoint:
    with node.db.write() as session:
        return log.latest_checkpoint(session, log.node_log_signer(node))


def rekey(node: Node, nation: str, agency: str) -> Node:
    """The same database under another identity and key: a partner node, for witness tests."""
    node.close()
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (node.data_dir / KEY_FILE).write_bytes(pem)
    fields = asdict(node.config) | {"nation": nation, "agency": agency, "name": f"{agency} ({nation})"}
    NodeConfig(**fields).save(node.data_dir)
    return Node.open(node.data_dir)


def sql(node: Node, statement: str, **params: Any) -> None:
    """Run raw SQL as an insider with database access would."""
    sql_many(node, [(statement, params)])


def sql_many(node: Node, statements: list[tuple[str, dict[str, Any]]]) -> None:
    with node.db.engine.begin() as conn:
        for statement, params in statements:
            conn.execute(text(statement), params)


def data_dir(node: Node) -> Path:
    return node.data_dir
