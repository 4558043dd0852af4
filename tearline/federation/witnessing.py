"""Partners witness each other's logs, and the courier carries the cosignatures.

Registering a peer makes this node a witness of the peer's log (its verifier key is the log's
key). On every pull round the courier asks each partner's witness to cosign our latest
checkpoint, with a consistency proof from the size it cosigned last (C2SP tlog-witness), over a
request signed with our node key, and keeps the cosignature on our checkpoint. The partner's
witness key is learnt at the first round and must never change afterwards: a different key is
refused, as a fork of trust would be.
"""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from tearline.audit import log
from tearline.audit.remote import RemoteError, request_cosignature
from tearline.db.federation_tables import Peer
from tearline.db.models import Setting
from tearline.errors import Forbidden, TearlineError
from tearline.federation.auth import NodeAuth
from tearline.federation.peers import all_peers
from tearline.node import Node


def _key_setting(nation: str) -> str:
    return f"witness-vkey:{nation}"


def witness_key(session: Session, peer: Peer, served: str) -> str:
    """The partner's witness key: the one first learnt, or `served` the first time."""
    row = session.get(Setting, _key_setting(peer.nation))
    if row is None:
        session.add(Setting(key=_key_setting(peer.nation), value=served))
        return served
    if row.value != served:
        raise Forbidden(f"{peer.nation}'s witness now serves another key than the one it had", rule="witness-key")
    return row.value


def cosign_with(node: Node, peer: Peer) -> int:
    """Have `peer` witness our log now; returns the size it cosigned."""
    auth = NodeAuth(node.config.nation, node.signing_key())
    with httpx.Client(base_url=peer.url, auth=auth, timeout=10.0) as client:
        try:
            answer = client.get("/api/audit/witness/vkey")
            answer.raise_for_status()
        except httpx.HTTPError as err:
            raise RemoteError(f"cannot read {peer.nation}'s witness key at {peer.url}: {err}") from err
        with node.db.write() as session:
            key = witness_key(session, peer, answer.text.strip())
        return request_cosignature(node, client, key)


def cosign_all(node: Node) -> tuple[dict[str, int], list[str]]:
    """Ask every partner's witness to cosign; returns the sizes cosigned and what went wrong."""
    with node.db.read() as session:
        peers = all_peers(session)
        for peer in peers:
            session.expunge(peer)
    sizes, errors = {}, []
    for peer in peers:
        try:
            sizes[peer.nation] = cosign_with(node, peer)
        except TearlineError as err:
            errors.append(f"cosignature from {peer.nation}: {err.message}")
    return sizes, errors


def cosigned_by(node: Node) -> list[str]:
    """The witnesses whose cosignatures our latest stored checkpoint carries (their key names)."""
    with node.db.write() as session:
        signed = log.latest_checkpoint(session, log.node_log_signer(node))
    ours = log.log_origin(node.config.nation, node.config.agency)
    names = [line.split(" ", 2)[1] for line in signed.note.splitlines() if line.startswith("\u2014 ")]
    return [name for name in names if name != ours]
