"""C2SP signed notes (https://c2sp.org/signed-note): sign, parse and verify.

A note is a text ending in a newline, a blank line, then one or more lines
`— <key name> base64(key id || signature)`. The rules enforced when reading follow the spec and
its reference implementation (golang.org/x/mod/sumdb/note): valid UTF-8 with no control character
but newline; the text split from the signatures at the last blank line; at most 100 signatures;
unknown keys ignored; a known key whose signature fails rejects the whole note (the spec allows
this and it is the safe choice for an audit log); at least one known signature must verify.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from tearline.audit.errors import NoteError
from tearline.audit.keys import KEY_ID_SIZE, Signer, Verifier, check_key_name, parse_verifier_key

EM_DASH = "\u2014"
_SIGNATURE_PREFIX = EM_DASH + " "
# The spec requires accepting at least 16; the reference implementation stops at 100.
MAX_SIGNATURES = 100


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id and the signature bytes after the key id."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """A note split into its text and signatures, nothing verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_text(self) -> str:
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


@dataclass(frozen=True)
class VerifiedNote:
    """A note after verification: `signatures` were made by known keys and verified."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]

    def signed_by(self, verifier: Verifier) -> NoteSignature | None:
        for sig in self.signatures:
            if sig.name == verifier.name and sig.key_id == verifier.key_id:
                return sig
        return None


def check_text(text: str) -> None:
    """A note text is UTF-8, ends in a newline and holds no control character other than newline."""
    if not text.endswith("\n"):
        raise NoteError("a note text must end with a newline")
    _check_characters(text)


def _check_characters(text: str) -> None:
    for ch in text:
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError(f"a note must not contain the control character U+{ord(ch):04X}")
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise NoteError("a note must be valid UTF-8")


def _decode(note: str | bytes) -> str:
    if isinstance(note, str):
        return note
    try:
        return note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("a note must be valid UTF-8") from exc


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    check_key_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"signature by {name!r} is not valid base64") from exc
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError(f"signature by {name!r} is too short")
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signatures; raises NoteError if malformed."""
    message = _decode(note)
    _check_characters(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("a signed note ends with signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def _signature_for(signer: Signer, text: str) -> NoteSignature:
    check_key_name(signer.name)
    if len(signer.key_id) != KEY_ID_SIZE:
        raise NoteError("a key id is 4 bytes")
    return NoteSignature(signer.name, signer.key_id, signer.sign(text.encode()))


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    """Sign `text` (ending in a newline) with each signer; at least one is needed."""
    check_text(text)
    signatures = tuple(_signature_for(signer, text) for signer in signers)
    if not signatures:
        raise NoteError("a signed note needs at least one signer")
    return Note(text, signatures).to_text()


def add_signatures(note: str | bytes, signers: Iterable[Signer]) -> str:
    """Append signatures to an already signed note (a witness adding its cosignature).

    The existing signatures are kept as they are and not verified here: verify first.
    """
    parsed = parse_note(note)
    added = tuple(_signature_for(signer, parsed.text) for signer in signers)
    known = {(sig.name, sig.key_id) for sig in parsed.signatures}
    fresh = tuple(sig for sig in added if (sig.name, sig.key_id) not in known)
    if len(parsed.signatures) + len(fresh) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return Note(parsed.text, parsed.signatures + fresh).to_text()


def _index(verifiers: Iterable[Verifier | str]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for item in verifiers:
        verifier = parse_verifier_key(item) if isinstance(item, str) else item
        ident = (verifier.name, verifier.key_id)
        if ident in known:
            # Two keys sharing name and id would make "which key signed" ambiguous.
            raise NoteError(f"two verifier keys share the name {verifier.name!r} and key id {verifier.key_id.hex()}")
        known[ident] = verifier
    return known


def verify_note(note: str | bytes, verifiers: Iterable[Verifier | str]) -> VerifiedNote:
    """Verify a signed note against known keys (objects or verifier key strings).

    Returns the note with the verified signatures; raises NoteError if it is malformed, if a
    known key's signature fails, or if no known key signed it.
    """
    parsed = parse_note(note)
    known = _index(verifiers)
    text = parsed.text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in parsed.signatures:
        ident = (sig.name, sig.key_id)
        verifier = known.get(ident)
        if verifier is None:
            unverified.append(sig)
            continue
        if ident in seen:
            continue  # a repeated signature by the same key adds nothing
        seen.add(ident)
        if not verifier.verify(text, sig.signature):
            raise NoteError(f"the signature by {sig.name} ({sig.key_id.hex()}) does not verify")
        verified.append(sig)
    if not verified:
        raise NoteError("the note carries no signature from a known key")
    return VerifiedNote(parsed.text, tuple(verified), tuple(unverified))
