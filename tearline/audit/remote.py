"""Check another node's log over its HTTP API, trusting nothing it says but its signature.

The checkpoint is opened with the verifier key the caller trusts (or, failing one, the key the node
serves, which only shows that the log agrees with itself). Every entry up to the checkpoint's size
is fetched (an auditor's token is needed for entries), rehashed and rebuilt into the tree, whose
root must be the signed one; the node's own consistency proof from a checkpoint kept earlier must
verify too. An entry whose bytes the node withholds from this auditor (`data`: null) goes into the
tree by its leaf hash (see `tearline.audit.verify`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from tearline.audit import log
from tearline.audit.checkpoint import Checkpoint, open_checkpoint, parse_decimal
from tearline.audit.errors import NoteError, ProofError
from tearline.audit.keys import parse_verifier_key
from tearline.audit.merkle import verify_append_only
from tearline.audit.note import parse_note
from tearline.audit.store import StoredLeaf
from tearline.audit.verify import VerifyReport, WithheldLeaf, verify_entries
from tearline.audit.witness import AddCheckpoint
from tearline.errors import InvalidInput, Problem, TearlineError

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
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        raise RemoteError(f"cannot reach {client.base_url}{path}: {err}") from err
    if response.status_code != 200:
        raise RemoteError(f"{client.base_url}{path} answered {response.status_code}: {response.text[:300]}")
    return response


def _not_ours(client: httpx.Client, path: str, what: str) -> RemoteError:
    """The answer is not what a tearline node serves: a wrong URL, or a broken or foreign server."""
    return RemoteError(
        f"{client.base_url} is not a tearline audit API (or it is broken): {path} answered {what}; "
        "check the URL (the node's base URL, without /api)"
    )


def _json(client: httpx.Client, path: str, **params: int) -> dict[str, Any]:
    response = _get(client, path, **params)
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise _not_ours(client, path, f"something that is not JSON ({kind}: {response.text[:80]!r})") from None
    if not isinstance(body, dict):
        raise _not_ours(client, path, "JSON that is not an object")
    return body


def _b64_field(entry: dict[str, Any], name: str) -> bytes:
    value = entry.get(name)
    if not isinstance(value, str):
        raise ValueError(f"an entry without `{name}`" if value is None else f"an entry whose `{name}` is not text")
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"an entry whose `{name}` is not base64") from None


def _leaf(entry: object) -> StoredLeaf | WithheldLeaf:
    if not isinstance(entry, dict):
        raise ValueError("an entry that is not a JSON object")
    index = entry.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError("an entry without a whole-number `index`")
    if "data" in entry and entry["data"] is None:  # withheld from this auditor: its hash is what we get
        why = entry.get("withheld")
        return WithheldLeaf(index, _b64_field(entry, "hash"), why if isinstance(why, str) else None)
    return StoredLeaf(index, _b64_field(entry, "data"), _b64_field(entry, "hash"))


def _pages(client: httpx.Client, size: int) -> Iterator[list[StoredLeaf | WithheldLeaf]]:
    path = "/api/audit/leaves"
    for start in range(0, size, PAGE):
        body = _json(client, path, start=start, limit=min(PAGE, size - start))
        entries = body.get("leaves")
        if not isinstance(entries, list):
            raise _not_ours(client, path, "JSON without a `leaves` list")
        try:
            leaves = [_leaf(entry) for entry in entries]
        except ValueError as err:
            raise _not_ours(client, f"{path}?start={start}", str(err)) from None
        yield leaves


def _hashes(client: httpx.Client, old: int, new: int) -> list[bytes]:
    path = "/api/audit/proof/consistency"
    hashes = _json(client, path, old=old, new=new).get("hashes")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise _not_ours(client, path, "JSON without a `hashes` list of base64 text")
    try:
        return [base64.b64decode(h, validate=True) for h in hashes]
    except (ValueError, binascii.Error):
        raise _not_ours(client, path, "a hash that is not base64") from None


class NotAppendOnly(RemoteError):
    """The log's latest checkpoint does not extend one it signed earlier: a fork, or a rewrite."""

    code = "not_append_only"

    def __init__(self, message: str, latest_note: str) -> None:
        super().__init__(message)
        self.latest_note = latest_note


def _check_previous(
    client: httpx.Client, previous: str, latest: Checkpoint, latest_note: str, vkey: str, previous_name: str
) -> None:
    """The node's consistency proof from a checkpoint we kept earlier to the latest must verify."""
    try:
        old, _ = open_checkpoint(previous, [vkey], latest.origin)
    except NoteError as err:
        raise RemoteError(f"{previous_name} does not verify with the key: {err.message}") from err

    def not_append_only(why: str) -> NotAppendOnly:
        return NotAppendOnly(
            f"the log at {client.base_url} is not append-only since the checkpoint in {previous_name} "
            f"(size {old.size}): {why}. Either it forked (it shows another history to others) or its history "
            f"was rewritten; keep both checkpoints, {previous_name} and the latest one (size {latest.size}, "
            "printed below), as evidence",
            latest_note,
        )

    if old.size > latest.size:
        raise not_append_only(f"it signed size {old.size} then and now signs the smaller size {latest.size}")
    proof = _hashes(client, old.size, latest.size)
    try:
        verify_append_only(old.size, latest.size, old.root_hash, latest.root_hash, proof)
    except ProofError as err:
        why = f"its proof from size {old.size} to {latest.size} does not verify ({err.message})"
        raise not_append_only(why) from err


def verify_remote(
    client: httpx.Client,
    vkey: str | None = None,
    previous: str | None = None,
    previous_name: str = "the earlier checkpoint",
) -> RemoteReport:
    """Verify the log of the node at `client.base_url` end to end (see the module docstring).

    `previous` is a checkpoint note kept earlier (`previous_name` says where it came from, for errors).
    """
    key_from_node = vkey is None
    if vkey is not None:
        try:
            parse_verifier_key(vkey)
        except NoteError as err:
            raise InvalidInput(Problem("--vkey", f"is not a verifier key ({err.message})")) from err
    trusted = vkey or _get(client, "/api/audit/vkey").text.strip()
    try:
        name = parse_verifier_key(trusted).name
    except NoteError as err:
        raise _not_ours(client, "/api/audit/vkey", f"something that is not a verifier key ({err.message})") from None
    note = _get(client, "/api/audit/checkpoint").text
    try:
        Checkpoint.parse(parse_note(note).text)
    except NoteError as err:
        what = f"something that is not a signed checkpoint ({err.message})"
        raise _not_ours(client, "/api/audit/checkpoint", what) from None
    try:
        checkpoint, _ = open_checkpoint(note, [trusted], name)
    except NoteError as err:
        raise RemoteError(f"the checkpoint of {client.base_url} does not verify with the key: {err.message}") from err
    report = verify_entries(_pages(client, checkpoint.size), checkpoint.size, [checkpoint])
    if previous is not None:
        _check_previous(client, previous, checkpoint, note, trusted, previous_name)
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
