"""C2SP transparency log proofs (https://c2sp.org/tlog-proof), version `c2sp.org/tlog-proof@v1`.

A self-contained, offline-verifiable proof that an entry is in a log: what a partner keeps as
evidence of a release. The text is:

    c2sp.org/tlog-proof@v1
    extra <base64>            (optional, unauthenticated)
    index <n>
    <base64 hash>             (zero or more: the inclusion proof, leaf's sibling first)
    <empty line>
    <the signed checkpoint, verbatim, cosignatures included>
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from tearline.audit.checkpoint import MAX_UINT64, Checkpoint, open_checkpoint, parse_decimal
from tearline.audit.errors import NoteError, ProofError
from tearline.audit.keys import Verifier
from tearline.audit.merkle import HASH_SIZE, verify_inclusion
from tearline.audit.note import VerifiedNote, parse_note

HEADER = "c2sp.org/tlog-proof@v1"
_EXTRA = "extra "
_INDEX = "index "


@dataclass(frozen=True)
class TlogProof:
    """An entry's index, its inclusion proof, the signed checkpoint it is proved against, and extra data.

    `extra` is opaque and not authenticated by anything: never trust what it says.
    """

    index: int
    inclusion: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_UINT64:
            raise ProofError("a tlog-proof index is an unsigned 64-bit number")
        if any(len(h) != HASH_SIZE for h in self.inclusion):
            raise ProofError(f"inclusion proof hashes are {HASH_SIZE} bytes")
        try:
            parse_note(self.checkpoint)
        except NoteError as exc:
            raise ProofError(f"the tlog-proof checkpoint is not a signed note: {exc.message}") from exc

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(_EXTRA + base64.b64encode(self.extra).decode())
        lines.append(f"{_INDEX}{self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.inclusion)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str | bytes) -> TlogProof:
        """Read a tlog-proof; raises ProofError if it is malformed."""
        try:
            body = text.decode("utf-8") if isinstance(text, bytes) else text
        except UnicodeDecodeError as exc:
            raise ProofError("a tlog-proof must be valid UTF-8") from exc
        head, separator, checkpoint = body.partition("\n\n")
        if not separator or not checkpoint:
            raise ProofError("a tlog-proof has an empty line and then the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise ProofError(f"a tlog-proof starts with the line {HEADER}")
        extra, rest = _read_extra(lines[1:])
        if not rest or not rest[0].startswith(_INDEX):
            raise ProofError("a tlog-proof has an 'index' line after the header (and 'extra')")
        index = _decimal(rest[0][len(_INDEX) :], "tlog-proof index")
        hashes = tuple(_hash_line(line, position) for position, line in enumerate(rest[1:]))
        return cls(index, hashes, checkpoint, extra)

    def verify(
        self, leaf_hash: bytes, verifiers: Iterable[Verifier | str], origin: str
    ) -> tuple[Checkpoint, VerifiedNote]:
        """Open the checkpoint with the trusted keys, then check the entry's inclusion in it.

        Returns the checkpoint and the verified note (to count witness cosignatures against a
        policy); raises NoteError for the checkpoint and ProofError for the inclusion proof.
        """
        checkpoint, verified = open_checkpoint(self.checkpoint, verifiers, origin)
        verify_inclusion(leaf_hash, self.index, checkpoint.size, self.inclusion, checkpoint.root_hash)
        return checkpoint, verified


def _read_extra(lines: list[str]) -> tuple[bytes | None, list[str]]:
    if not lines or not lines[0].startswith(_EXTRA):
        return None, lines
    return _base64(lines[0][len(_EXTRA) :], "extra data"), lines[1:]


def _decimal(text: str, what: str) -> int:
    try:
        return parse_decimal(text, what)
    except NoteError as exc:
        raise ProofError(exc.message) from exc


def _hash_line(line: str, position: int) -> bytes:
    raw = _base64(line, f"inclusion proof line {position}")
    if len(raw) != HASH_SIZE:
        raise ProofError(f"inclusion proof line {position} is not a {HASH_SIZE}-byte hash")
    return raw


def _base64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ProofError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise ProofError(f"{what} is not canonical base64")
    return raw
