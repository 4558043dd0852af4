"""C2SP checkpoints (c2sp.org/tlog-checkpoint) and witness cosignatures (c2sp.org/tlog-cosignature).

A checkpoint is a signed note whose text is the log's origin, its tree size and its base64 root
hash, one per line, then optional extension lines. A cosignature is a partner's type 0x04
signature line added to the same note: its statement is that, at its timestamp, this is the
largest consistent tree head the witness has seen for that origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tearline.audit.errors import NoteError
from tearline.audit.keys import (
    CosignatureSigner,
    CosignatureVerifier,
    Signer,
    Verifier,
    cosignature_timestamp,
    parse_verifier_key,
)
from tearline.audit.merkle import HASH_SIZE
from tearline.audit.note import VerifiedNote, add_signatures, check_text, sign_note, verify_note

# ASCII decimal, no leading zeroes unless the value is 0 (sizes and, in tlog-proof, indexes).
DECIMAL = re.compile(r"0|[1-9][0-9]*")
MAX_UINT64 = (1 << 64) - 1


def parse_decimal(text: str, what: str) -> int:
    """A uint64 written as the C2SP formats require; raises NoteError otherwise."""
    if not DECIMAL.fullmatch(text) or int(text) > MAX_UINT64:
        raise NoteError(f"{what} must be a decimal number without leading zeroes, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: who (origin), how many leaves (size), which root."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint origin is one non-empty line")
        if not 0 <= self.size <= MAX_UINT64:
            raise NoteError("a checkpoint size is an unsigned 64-bit number")
        if len(self.root_hash) != HASH_SIZE:
            raise NoteError(f"a checkpoint root hash is {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise NoteError("checkpoint extension lines are non-empty single lines")
        check_text(self.to_body())

    def to_body(self) -> str:
        """The note text: `origin\\nsize\\nbase64(root)\\n` and any extension lines."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str | bytes) -> Checkpoint:
        """Read a checkpoint body (the note text, without signatures)."""
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError as exc:
            raise NoteError("a checkpoint must be valid UTF-8") from exc
        if not text.endswith("\n"):
            raise NoteError("a checkpoint body ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size_line, root_line, *extensions = lines
        size = parse_decimal(size_line, "checkpoint size")
        try:
            root = base64.b64decode(root_line, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("checkpoint root hash is not valid base64") from exc
        checkpoint = cls(origin, size, root, tuple(extensions))
        if checkpoint.to_body() != text:
            # Only the canonical encoding is accepted, so that one tree head has one signed text.
            raise NoteError("checkpoint body is not in canonical form")
        return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, signers: Iterable[Signer]) -> str:
    """The signed note of a checkpoint (the log signs with its key named after its origin)."""
    return sign_note(checkpoint.to_body(), signers)


def open_checkpoint(
    note: str | bytes, verifiers: Iterable[Verifier | str], origin: str | None = None
) -> tuple[Checkpoint, VerifiedNote]:
    """Verify a signed checkpoint and parse it; if `origin` is given the checkpoint must match it."""
    verified = verify_note(note, verifiers)
    checkpoint = Checkpoint.parse(verified.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint, verified


def cosign_checkpoint(note: str | bytes, witness: CosignatureSigner) -> str:
    """Add the witness's cosignature to a signed checkpoint.

    Signing is all this does: the caller must first have verified the log's signature and the
    consistency of this checkpoint with the last one it cosigned, since that is what it attests.
    """
    return add_signatures(note, [witness])


def verify_cosignature(note: str | bytes, witness: Verifier | str) -> int:
    """Check that the witness cosigned this checkpoint; returns the cosignature's Unix time.

    Only the witness's key is used, so the log's own signature is not checked here: combine with
    `open_checkpoint` for that.
    """
    verifier = _witness_verifier(witness)
    verified = verify_note(note, [verifier])
    Checkpoint.parse(verified.text)
    signature = verified.signed_by(verifier)
    if signature is None:  # verify_note guarantees one; kept as a guard for mypy and readers
        raise NoteError(f"no cosignature by {verifier.name}")
    return cosignature_timestamp(signature.signature)


def _witness_verifier(witness: Verifier | str) -> CosignatureVerifier:
    """Accept a witness key object or its verifier key string, and insist on type 0x04."""
    verifier = parse_verifier_key(witness) if isinstance(witness, str) else witness
    if not isinstance(verifier, CosignatureVerifier):
        raise NoteError("a witness key must be a cosignature (type 0x04) key")
    return verifier
