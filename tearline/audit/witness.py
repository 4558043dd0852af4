"""Witnessing a partner node's log, after C2SP tlog-witness (https://c2sp.org/tlog-witness).

A node keeps, for each partner log it witnesses, the log's verifier key and the latest checkpoint
it cosigned. It cosigns a new checkpoint only when the request's old size is that checkpoint's
size and the consistency proof from it verifies; so whatever it cosigned, it has seen to be an
append-only extension of everything it cosigned before. Two checkpoints of one log that cannot
both be true (same size, different roots; or no valid proof between them) are a fork: the witness
refuses, keeps the evidence in `audit_fork`, and records the refusal in its own audit log.

Request body (`add-checkpoint`): `old <size>`, zero or more base64 proof hashes, an empty line, the
signed checkpoint. Errors carry the status the spec gives: 400 malformed, 403 not signed by the
log's key, 404 unknown log, 409 stale old size (body: the cosigned size), 422 bad proof or fork.

The witness key is a type 0x04 (tlog-cosignature v1) key named `tearline.<nation>.<agency>/witness`,
derived from the node's key with HKDF-SHA256, so that the node keeps one secret yet never signs two
kinds of statement with one key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.audit.checkpoint import Checkpoint, cosign_checkpoint, open_checkpoint, parse_decimal
from tearline.audit.errors import NoteError, ProofError
from tearline.audit.keys import CosignatureSigner, CosignatureVerifier, Ed25519Verifier, parse_verifier_key
from tearline.audit.log import log_origin
from tearline.audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_append_only, verify_consistency
from tearline.audit.note import parse_note, verify_note
from tearline.db.audit_tables import AuditFork, AuditWitnessedLog
from tearline.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem

if TYPE_CHECKING:
    from tearline.node import Node

_KEY_INFO = b"tearline audit witness key v1"
MAX_PROOF_LINES = 63
CONSISTENCY_RULE = "tlog-witness: consistent with the last cosigned checkpoint"


class StaleOldSize(Conflict):
    """409: the request's old size is not the size this witness last cosigned (`latest_size`)."""

    def __init__(self, origin: str, old_size: int, latest_size: int) -> None:
        super().__init__(f"{origin}: old size {old_size} is not the cosigned size {latest_size}")
        self.latest_size = latest_size


class ForkDetected(ProofError):
    """Two checkpoints of one log that cannot both be honest; the evidence travels with the error."""

    code = "fork_detected"

    def __init__(self, origin: str, reason: str, cosigned: str | None, offered: str, proof: list[bytes]) -> None:
        super().__init__(f"fork detected in the log {origin}: {reason}")
        self.origin, self.reason, self.cosigned, self.offered, self.proof = origin, reason, cosigned, offered, proof


def witness_name(nation: str, agency: str) -> str:
    return log_origin(nation, agency).removesuffix("/log") + "/witness"


def witness_signer(node: Node) -> CosignatureSigner:
    seed = node.signing_key().private_bytes_raw()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(seed)
    return CosignatureSigner(witness_name(node.config.nation, node.config.agency), derived)


def witness_verifier_key(node: Node) -> str:
    return str(witness_signer(node).verifier)


@dataclass(frozen=True)
class AddCheckpoint:
    """A tlog-witness add-checkpoint request."""

    old_size: int
    proof: list[bytes]
    checkpoint: str

    def to_text(self) -> str:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def parse(cls, body: str | bytes) -> AddCheckpoint:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError as exc:
            raise _bad("the request is not UTF-8") from exc
        head, separator, checkpoint = text.partition("\n\n")
        lines = head.split("\n")
        if not separator or not lines[0].startswith("old "):
            raise _bad("the request is `old <size>`, proof lines, an empty line and the checkpoint")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise _bad(f"at most {MAX_PROOF_LINES} proof lines")
        try:
            old = parse_decimal(lines[0][4:], "old size")
        except NoteError as exc:
            raise _bad(exc.message) from exc
        return cls(old, [_proof_hash(line) for line in lines[1:]], checkpoint)


def _bad(reason: str) -> InvalidInput:
    err = InvalidInput(Problem("add-checkpoint", reason))
    err.status = 400
    return err


def _proof_hash(line: str) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise _bad(f"proof line {line!r} is not base64") from exc
    if len(raw) != HASH_SIZE or base64.b64encode(raw).decode() != line:
        raise _bad(f"proof line {line!r} is not the canonical base64 of a {HASH_SIZE}-byte hash")
    return raw


@dataclass(frozen=True)
class Trusted:
    """What `trust_log_key` did: the log's origin, the key it had before (None: a new log) and its key now."""

    origin: str
    previous_vkey: str | None
    vkey: str

    @property
    def changed(self) -> bool:
        return self.previous_vkey != self.vkey


def trust_log(session: Session, vkey: str) -> str:
    """Start witnessing the log whose checkpoints `vkey` signs (its key name is its origin); returns it.

    This replaces the key of a log already witnessed (as `tearline peer add` has always done);
    `tearline audit trust-log` refuses that without --replace, through `trust_log_key`.
    """
    return trust_log_key(session, vkey, replace=True).origin


def trust_log_key(session: Session, vkey: str, replace: bool = False) -> Trusted:
    """Start witnessing the log whose checkpoints `vkey` signs (its key name is its origin).

    Another key for a log already witnessed is refused unless `replace`: a key swapped in would let
    whoever holds it have checkpoints cosigned. A replaced key keeps the cosigned state (size and
    root): rotation must not reset fork detection.
    """
    key = parse_verifier_key(vkey)
    if isinstance(key, CosignatureVerifier) or not isinstance(key, Ed25519Verifier):
        raise InvalidInput(
            Problem("vkey", "is not a log's checkpoint key (type 0x01): ask the partner for `tearline audit vkey`")
        )
    row = session.get(AuditWitnessedLog, key.name, with_for_update=True)
    if row is None:
        session.add(AuditWitnessedLog(origin=key.name, vkey=vkey, size=0, root=EMPTY_ROOT, updated_at=clock.now()))
        return Trusted(key.name, None, vkey)
    previous = row.vkey
    if previous != vkey and not replace:
        raise Conflict(
            f"this node already witnesses {key.name} with another key ({previous}, cosigned up to size {row.size}); "
            "to replace it (once the partner has confirmed that it rotated its key), run "
            "`tearline audit trust-log VKEY --replace`"
        )
    row.vkey, row.updated_at = vkey, clock.now()
    return Trusted(key.name, previous, vkey)


@dataclass(frozen=True)
class Cosigned:
    checkpoint: Checkpoint
    line: str  # the cosignature line, as tlog-witness returns it
    note: str  # the checkpoint with the cosignature appended


def _open(session: Session, request: AddCheckpoint) -> tuple[AuditWitnessedLog, Checkpoint]:
    try:
        origin = Checkpoint.parse(parse_note(request.checkpoint).text).origin
    except NoteError as exc:
        raise _bad(f"not a signed checkpoint: {exc.message}") from exc
    row = session.get(AuditWitnessedLog, origin, with_for_update=True)
    if row is None:
        raise NotFound(f"this node does not witness the log {origin!r}")
    try:
        checkpoint, _ = open_checkpoint(request.checkpoint, [row.vkey], origin)
    except NoteError as exc:
        raise Forbidden(f"the checkpoint is not signed by the key of {origin}: {exc.message}", "tlog-witness") from exc
    return row, checkpoint


def _check_extends(row: AuditWitnessedLog, checkpoint: Checkpoint, request: AddCheckpoint) -> None:
    old, new, proof = row.size, checkpoint.size, request.proof

    def fork(reason: str) -> ForkDetected:
        return ForkDetected(row.origin, reason, row.checkpoint, request.checkpoint, proof)

    if old == new and bytes(row.root) != checkpoint.root_hash:
        raise fork(f"size {new} was cosigned with another root than the one now offered")
    try:
        if old == 0:
            verify_append_only(0, new, EMPTY_ROOT, checkpoint.root_hash, proof)
        else:
            verify_consistency(old, new, bytes(row.root), checkpoint.root_hash, proof)
    except ProofError as err:
        if old == 0:
            raise
        raise fork(f"no valid consistency proof from the cosigned size {old} to {new} ({err.message})") from err


def witness_checkpoint(session: Session, witness: CosignatureSigner, request: AddCheckpoint) -> Cosigned:
    """Cosign a partner's checkpoint if it extends the last one cosigned for its log; call in a write.

    Raises (in the spec's order) 400 InvalidInput, 404 NotFound, 403 Forbidden, 409 StaleOldSize,
    422 ProofError, and ForkDetected (422) with the evidence.
    """
    row, checkpoint = _open(session, request)
    if request.old_size > checkpoint.size:
        raise _bad(f"old size {request.old_size} is larger than the checkpoint's size {checkpoint.size}")
    if request.old_size != row.size:
        raise StaleOldSize(row.origin, request.old_size, row.size)
    _check_extends(row, checkpoint, request)
    note = cosign_checkpoint(request.checkpoint, witness)
    signature = verify_note(note, [witness.verifier]).signed_by(witness.verifier)
    assert signature is not None  # just added by us
    row.size, row.root, row.checkpoint, row.updated_at = checkpoint.size, checkpoint.root_hash, note, clock.now()
    return Cosigned(checkpoint, signature.line(), note)


def record_fork(session: Session, fork: ForkDetected, node: Node) -> int:
    """Keep the evidence of a fork and log the refusal in this node's own log; returns the entry index."""
    proof = "".join(base64.b64encode(h).decode() + "\n" for h in fork.proof)
    session.add(
        AuditFork(
            origin=fork.origin,
            reason=fork.reason,
            cosigned_checkpoint=fork.cosigned,
            offered_checkpoint=fork.offered,
            offered_proof=proof,
            detected_at=clock.now(),
        )
    )
    return _record_witness(session, node, fork.origin, "audit.witness.fork", "denied", fork.reason)


def _record_witness(
    session: Session, node: Node, origin: str, action: str, outcome: str, reason: str | None = None
) -> int:
    """The witness's entry, in the journal's form (its node is `<nation>/<agency>`, like every other entry's)."""
    detail = {"reason": reason} if reason else None
    return journal.record(
        session, node, origin, action, [origin], rule=CONSISTENCY_RULE, outcome=outcome, detail=detail
    )


def witness_for(node: Node, body: str | bytes) -> Cosigned:
    """The node's witness: one add-checkpoint request, logged; a fork is stored and logged, then raised."""
    request = AddCheckpoint.parse(body)
    signer = witness_signer(node)
    try:
        with node.db.write() as session:
            cosigned = witness_checkpoint(session, signer, request)
            _record_witness(session, node, cosigned.checkpoint.origin, "audit.witness.cosign", "allowed")
            return cosigned
    except ForkDetected as fork:
        # The refused request rolled back; the evidence is kept in a transaction of its own.
        with node.db.write() as session:
            record_fork(session, fork, node)
        raise
