"""Delivery: push every outbox message to its partner, and pull from partners as a fallback.

Push POSTs each message's sealed unit to the partner's inbox collection, in outbox order per
partner (a recall never overtakes its release). A message is marked delivered only after the
partner's status resource says the unit was taken (applied now, or already before), so a crash
or an outage at any point means the unit is sent again later and applied once. Failures back
off exponentially per message. Pull reads our feed on the partner with `added_after` and
applies whole units, for when the partner cannot reach us or we missed a push.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.background import Worker
from tearline.db.federation_tables import Peer, Received
from tearline.db.release_tables import OutboxMessage
from tearline.errors import TearlineError
from tearline.federation import receive
from tearline.federation.auth import NodeAuth
from tearline.federation.collections import feed_id, inbox_id
from tearline.federation.feed import unit_for
from tearline.federation.peers import all_peers
from tearline.federation.seal import SEAL_TYPE, Unit, digest, digests_named, seal_definition, version_of
from tearline.federation.witnessing import cosign_all
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store.federation import due
from tearline.taxii.client import TaxiiClient

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 0.25

ClientFor = Callable[[Node, Peer], TaxiiClient]


def api_root(peer: Peer) -> str:
    return f"{peer.url}/taxii2/tearline/"


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every partner client: loading the CA store costs ~0.1 s each time."""
    return ssl.create_default_context()


def signed_client(node: Node, peer: Peer) -> TaxiiClient:
    auth = NodeAuth(node.config.nation, node.signing_key())
    transport = httpx.HTTPTransport(verify=_tls())
    return TaxiiClient(f"{peer.url}/taxii2/", auth=auth, timeout=10.0, transport=transport)


@dataclass
class Delivery:
    pushed: int = 0
    refused: int = 0
    failed: int = 0
    pulled: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)))


# --- push --------------------------------------------------------------------------------------


def push_pending(node: Node, client_for: ClientFor = signed_client) -> Delivery:
    """Push what is due, partner by partner; stop at a partner's first failure to keep its order."""
    done = Delivery()
    with node.db.read() as session:
        peers = {p.nation: p for p in all_peers(session)}
        for p in peers.values():
            session.expunge(p)
    for nation, peer in peers.items():
        with client_for(node, peer) as client:
            for message_id in _due(node, nation):
                if not _push_one(node, peer, client, message_id, done):
                    break
    return done


def _due(node: Node, destination: str) -> list[int]:
    with node.db.read() as session:
        return due(session, destination, clock.now())


def _push_one(node: Node, peer: Peer, client: TaxiiClient, message_id: int, done: Delivery) -> bool:
    with node.db.read() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        unit = unit_for(node, message)
    # Each envelope defines the seal type it carries, as the feed does (STIX 2.1 §7.3).
    envelope = {"objects": [seal_definition(), *unit.objects, unit.seal]}
    try:
        status = client.add_and_wait(api_root(peer), inbox_id(peer.nation, peer.agency), envelope, timeout=10.0)
    except (TearlineError, httpx.HTTPError) as err:
        _failed(node, message_id, str(err))
        done.failed += 1
        done.errors.append(f"{peer.nation}: {err}")
        return False
    refused = [f for f in status.get("failures", []) if f.get("id") == unit.seal["id"]]
    if status.get("status") != "complete":
        _failed(node, message_id, f"the partner's status is still {status.get('status')!r}")
        done.failed += 1
        return False
    _delivered(node, message_id, peer.nation, refused[0].get("message") if refused else None)
    if refused:
        done.refused += 1
    else:
        done.pushed += 1
    return True


def _failed(node: Node, message_id: int, error: str) -> None:
    with node.db.write() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        message.attempts += 1
        message.next_attempt_at = clock.now() + backoff(message.attempts)
        message.last_error = error[:2000]


def _delivered(node: Node, message_id: int, nation: str, refusal: str | None) -> None:
    with node.db.write() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        message.attempts += 1
        message.delivered_at = clock.now()
        message.last_error = f"refused by {nation}: {refusal}" if refusal else None
        journal.record(
            session,
            node,
            f"{SERVICE_ACCOUNT}@{node.config.agency}",
            f"federation.push.{message.kind}",
            [_subject(message), nation],
            rule=f"refused: {refusal}"[:500] if refusal else None,
            outcome="denied" if refusal else "allowed",
        )


def _subject(message: OutboxMessage) -> str:
    """What the message is about, for the log: the release, the consent request, or the message."""
    subject = message.payload.get("release") or message.payload.get("request") or message.payload.get("id")
    if isinstance(subject, dict):
        subject = subject.get("id")
    return str(subject or f"outbox:{message.id}")


# --- pull --------------------------------------------------------------------------------------


def pull_all(node: Node, client_for: ClientFor = signed_client) -> Delivery:
    done = Delivery()
    with node.db.read() as session:
        peers = all_peers(session)
        for p in peers:
            session.expunge(p)
    for peer in peers:
        try:
            with client_for(node, peer) as client:
                done.pulled += pull_from(node, peer, client)
        except (TearlineError, httpx.HTTPError) as err:
            done.failed += 1
            done.errors.append(f"pull from {peer.nation}: {err}")
    return done


def pull_from(node: Node, peer: Peer, client: TaxiiClient) -> int:
    """Apply every unit of our feed on `peer` added since the last pull; returns units applied.

    The feed lists a unit's objects before its seal, and an object several units share only
    once: objects seen earlier in this pull serve later units, and any other is fetched by id.
    """
    collection = feed_id(peer.nation, peer.agency, node.config.nation)
    applied, seen = 0, dict[tuple[str, str], dict[str, Any]]()
    for page in client.objects(api_root(peer), collection, added_after=peer.pulled_until, limit=500):
        seals = [o for o in page.items if o.get("type") == SEAL_TYPE]
        seen.update({(str(o.get("id")), digest(o)): o for o in page.items if o.get("type") != SEAL_TYPE})
        for seal in seals:
            applied += _apply_pulled(node, peer, client, collection, seal, seen)
        if page.date_added_last:
            _advance(node, peer, page.date_added_last)
    return applied


def _apply_pulled(
    node: Node, peer: Peer, client: TaxiiClient, collection: str, seal: dict[str, Any], seen: dict[Any, Any]
) -> int:
    with node.db.read() as session:
        if session.get(Received, (str(seal.get("id")), version_of(seal))) is not None:
            return 0  # applied before (pushed, or pulled earlier): nothing to fetch or check
    wanted = digests_named(seal)
    for stix_id, sha in wanted:
        if (stix_id, sha) not in seen:
            for obj in client.object(api_root(peer), collection, stix_id, version="all").items:
                seen[(str(obj["id"]), digest(obj))] = obj
    unit = Unit(seal, [seen[w] for w in wanted if w in seen])
    try:
        with node.db.write() as session:
            outcome = receive.receive_unit(session, node, _attached(session, peer), unit)
    except TearlineError as err:
        with node.db.write() as session:
            receive.refuse(session, node, peer.nation, str(seal.get("id")), err)
        return 0
    return 1 if outcome.applied else 0


def _attached(session: Session, peer: Peer) -> Peer:
    found = session.get(Peer, peer.nation)
    assert found is not None
    return found


def _advance(node: Node, peer: Peer, stamp: str) -> None:
    moment = clock.parse_timestamp(stamp)
    with node.db.write() as session:
        row = session.get(Peer, peer.nation)
        if row is not None and (row.pulled_until is None or clock.as_utc(row.pulled_until) < moment):
            row.pulled_until = moment
    peer.pulled_until = moment


# --- the background courier --------------------------------------------------------------------


class Courier(Worker):
    """A thread that pushes as soon as it is nudged (after a release commits), retries what is
    due, and pulls from every partner every `pull_every` seconds."""

    def __init__(self, node: Node, pull_every: float = 5.0, tick: float = 0.25) -> None:
        super().__init__(f"courier-{node.config.nation}", every=tick, stop_wait=10)
        self.node = node
        self.pull_every = pull_every
        self._last_pull: datetime | None = None

    def round(self) -> None:
        push_pending(self.node)
        now = clock.now()
        if self._last_pull is None or (now - self._last_pull).total_seconds() >= self.pull_every:
            self._last_pull = now
            pull_all(self.node)
            cosign_all(self.node)  # partners witness our log as it grows
