"""Check another node's log over its HTTP API, trusting nothing it says but its signature.

The checkpoint is opened with the verifier key the caller trusts (or, failing one, the key the node
serves, which only shows that the log agrees with itself). Every entry up to the checkpoint's size
is fetched (an auditor's token is needed for entries), rehashed and rebuilt into the tree, whose
root must be the signed one; the node's own consistency proof from a checkpoint kept earlier must
verify too.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from tearline.audit import log
from tearline.audit.checkpoint import Checkpoint, open_checkpoint, parse_decimal
from tearline.audit.errors import NoteError
from tearline.audit.keys import parse_verifier_key
from tearline.audit.merkle import verify_append_only
from tearline.audit.store import StoredLeaf
from tearline.audit.verify import VerifyReport, verify_entries
from tearline.audit.witness import AddCheckpoint
from tearline.errors import TearlineError

if TYPE_CHECKING:
    from tearline.node import Node

PAGE = 1_000


class RemoteError(TearlineError):
    status = 502
    code = "remote"


@dataclass(frozen=True)
class RemoteReport:
    report: VerifyReport
    checkpoint: Checkpoint
    vkey: str
    key_from_node: bool


def _get(client: httpx.Client, path: str, **params: int) -> httpx.Response:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as err:
        raise RemoteError(f"cannot reach {client.base_url}{path}: {err}") from err
    if response.status_code != 200:
        raise RemoteError(f"{client.base_url}{path} answered {response.status_code}: {response.text[:300]}")
    return response


def _pages(client: httpx.Client, size: int) -> Iterator[list[StoredLeaf]]:
    for start in range(0, size, PAGE):
        body = _get(client, "/api/audit/leaves", start=start, limit=min(PAGE, size - start)).json()
        yield [StoredLeaf(e["index"], base64.b64decode(e["data"]), base64.b64decode(e["hash"])) for e in body["leaves"]]


def _check_previous(client: httpx.Client, previous: str, latest: Checkpoint, vkey: str) -> None:
    """The node's consistency proof from a checkpoint we kept earlier to the latest must verify."""
    try:
        old, _ = open_checkpoint(previous, [vkey], latest.origin)
    except NoteError as err:
        raise RemoteError(f"the earlier checkpoint does not verify with the key: {err.message}") from err
    if old.size > latest.size:
        raise RemoteError(f"the log shrank: it signed size {old.size} before and now signs {latest.size}")
    body = _get(client, "/api/audit/proof/consistency", old=old.size, new=latest.size).json()
    proof = [base64.b64decode(h) for h in body["hashes"]]
    verify_append_only(old.size, latest.size, old.root_hash, latest.root_hash, proof)


def verify_remote(client: httpx.Client, vkey: str | None = None, previous: str | None = None) -> RemoteReport:
    """Verify the log of the node at `client.base_url` end to end (see the module docstring)."""
    key_from_node = vkey is None
    trusted = vkey or _get(client, "/api/audit/vkey").text.strip()
    note = _get(client, "/api/audit/checkpoint").text
    checkpoint, _ = open_checkpoint(note, [trusted], parse_verifier_key(trusted).name)
    report = verify_entries(_pages(client, checkpoint.size), checkpoint.size, [checkpoint])
    if previous is not None:
        _check_previous(client, previous, checkpoint, trusted)
    return RemoteReport(report, checkpoint, trusted, key_from_node)


def client_for(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60)


def request_cosignature(node: Node, client: httpx.Client, witness_vkey: str) -> int:
    """Ask a partner's witness (tlog-witness, at `client.base_url`) to cosign our latest checkpoint.

    Starts from old size 0; a 409 answer names the size the witness last cosigned, and the request
    is made again with the consistency proof from there. The cosignature is verified and kept on
    our stored checkpoint, which `tearline audit checkpoint` then serves. Returns the size cosigned.
    """
    signer = log.node_log_signer(node)
    log.witness_cosignature_key(witness_vkey, signer.name, "--witness-vkey")  # before anything is asked
    with node.db.write() as session:
        signed = log.latest_checkpoint(session, signer)
    old_size = 0
    for _ in range(2):
        with node.db.read() as session:
            proof = log.prove_consistency(session, old_size, signed.checkpoint.size)
        body = AddCheckpoint(old_size, proof, signed.note).to_text()
        try:
            answer = client.post("/api/audit/witness/add-checkpoint", content=body.encode())
        except httpx.HTTPError as err:
            raise RemoteError(f"cannot reach the witness at {client.base_url}: {err}") from err
        if answer.status_code == 409 and answer.headers.get("content-type") == "text/x.tlog.size":
            old_size = _cosigned_size(answer.text, signed.checkpoint.size)
            continue
        if answer.status_code != 200:
            raise RemoteError(f"the witness answered {answer.status_code}: {answer.text[:300]}")
        with node.db.write() as session:
            return log.add_cosignature(session, signed.note + answer.text, witness_vkey, log.verifier_key(node))
    raise RemoteError("the witness keeps answering 409: its state changes under us")


def _cosigned_size(text: str, ours: int) -> int:
    try:
        size = parse_decimal(text.removesuffix("\n"), "witness size")
    except NoteError as err:
        raise RemoteError(f"the witness's 409 answer is not a size: {err.message}") from err
    if size > ours:
        raise RemoteError(f"the witness cosigned size {size} of our log, which only has {ours}: a fork, or a rollback")
    return size
