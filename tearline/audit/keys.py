"""Signed-note keys (c2sp.org/signed-note, c2sp.org/tlog-cosignature): key ids, key strings, signers.

Two signature types are supported, and only these two, as the spec recommends:

- 0x01, Ed25519 over the note text: what a log signs its checkpoints with;
- 0x04, timestamped Ed25519 witness cosignatures (tlog-cosignature v1): what a partner node signs
  with when it witnesses another node's checkpoint.

Key strings follow golang.org/x/mod/sumdb/note, the reference encoding:
verifier `name+hex(key id)+base64(type || public key)`, signer
`PRIVATE+KEY+name+hex(key id)+base64(type || seed)`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tearline import clock
from tearline.audit.errors import NoteError

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
KEY_ID_SIZE = 4
_ED25519_SIZE = 32
_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_PRIVATE_PREFIX = "PRIVATE+KEY+"


class Verifier(Protocol):
    """What note verification needs from a known key."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether `signature` (without the key id) is valid over the note text."""
        ...


class Signer(Protocol):
    """What note signing needs from a private key."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: bytes) -> bytes:
        """The signature (without the key id) over the note text."""
        ...


def check_key_name(name: str) -> None:
    """Key names are non-empty, with no Unicode space and no '+' (which separates key string fields)."""
    if not name or "+" in name or any(ch.isspace() or ord(ch) < 0x20 for ch in name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")


def compute_key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    check_key_name(name)
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:KEY_ID_SIZE]


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """What a v1 cosignature signs: a domain-separating header, the time, then the checkpoint body."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class Ed25519Verifier:
    """A type 0x01 key: plain Ed25519 over the note text."""

    key_type: ClassVar[int] = ED25519

    def __init__(self, name: str, public_key: bytes) -> None:
        if len(public_key) != _ED25519_SIZE:
            raise NoteError(f"an Ed25519 public key is {_ED25519_SIZE} bytes")
        self._name = name
        self._key_id = compute_key_id(name, self.key_type, public_key)
        self.public_key = public_key
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def verify(self, text: bytes, signature: bytes) -> bool:
        return self._check(text, signature)

    def _check(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != _SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        """The verifier key string, safe to publish."""
        return _key_string(self._name, self._key_id, self.key_type, self.public_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class CosignatureVerifier(Ed25519Verifier):
    """A type 0x04 witness key; a signature is timestamp (u64, big-endian) || Ed25519 signature."""

    key_type: ClassVar[int] = COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
            return False
        timestamp = cosignature_timestamp(signature)
        return self._check(cosignature_message(text, timestamp), signature[_TIMESTAMP_SIZE:])


def cosignature_timestamp(signature: bytes) -> int:
    """The witness's time (Unix seconds) from a cosignature's signature bytes (key id removed)."""
    if len(signature) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
        raise NoteError("a cosignature is an 8-byte timestamp and a 64-byte signature")
    return int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")


class Ed25519Signer:
    """A type 0x01 private key. Holds the seed: never log it, never put it in an error."""

    key_type: ClassVar[int] = ED25519

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != _ED25519_SIZE:
            raise NoteError(f"an Ed25519 seed is {_ED25519_SIZE} bytes")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        self.verifier = self._verifier_class()(name, _public_bytes(self._private))

    def _verifier_class(self) -> type[Ed25519Verifier]:
        return Ed25519Verifier

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    def sign(self, text: bytes) -> bytes:
        return self._private.sign(text)

    def signer_key(self) -> str:
        """The PRIVATE+KEY+... string: a secret, for key files only."""
        return _PRIVATE_PREFIX + _key_string(self.name, self.key_id, self.key_type, self._seed)

    def __repr__(self) -> str:
        # Never the seed.
        return f"{type(self).__name__}({str(self.verifier)!r})"


class CosignatureSigner(Ed25519Signer):
    """A witness's type 0x04 key. `now` gives Unix seconds; by default the node's (testable) clock."""

    key_type: ClassVar[int] = COSIGNATURE_V1

    def __init__(self, name: str, seed: bytes, now: Callable[[], int] | None = None) -> None:
        super().__init__(name, seed)
        self._now = now or (lambda: int(clock.now().timestamp()))

    def _verifier_class(self) -> type[Ed25519Verifier]:
        return CosignatureVerifier

    def sign(self, text: bytes) -> bytes:
        timestamp = self._now()
        if not 0 <= timestamp < 1 << 64:
            raise NoteError("a cosignature timestamp is an unsigned 64-bit number of seconds")
        signature = self._private.sign(cosignature_message(text, timestamp))
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature


_VERIFIERS: dict[int, type[Ed25519Verifier]] = {ED25519: Ed25519Verifier, COSIGNATURE_V1: CosignatureVerifier}
_SIGNERS: dict[int, type[Ed25519Signer]] = {ED25519: Ed25519Signer, COSIGNATURE_V1: CosignatureSigner}


def _key_string(name: str, key_id: bytes, key_type: int, material: bytes) -> str:
    encoded = base64.b64encode(bytes([key_type]) + material).decode()
    return f"{name}+{key_id.hex()}+{encoded}"


def _parse_key_string(text: str) -> tuple[str, bytes, int, bytes]:
    """Split name+hex+base64; base64 may itself contain '+', so only the first two split."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError("a key string is name+keyid+key")
    name, key_id_hex, encoded = parts
    check_key_name(name)
    if len(key_id_hex) != 2 * KEY_ID_SIZE:
        raise NoteError("a key id is 8 hex digits")
    try:
        key_id = bytes.fromhex(key_id_hex)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed key id or key encoding") from exc
    if len(raw) != 1 + _ED25519_SIZE:
        raise NoteError(f"a key is one type byte and {_ED25519_SIZE} key bytes")
    return name, key_id, raw[0], raw[1:]


def parse_verifier_key(vkey: str) -> Ed25519Verifier:
    """Parse `name+hex(keyid)+base64(type||pub)`; the key id must match the one computed."""
    name, key_id, key_type, public_key = _parse_key_string(vkey)
    if key_type not in _VERIFIERS:
        raise NoteError(f"unsupported signature type 0x{key_type:02x}")
    verifier = _VERIFIERS[key_type](name, public_key)
    if verifier.key_id != key_id:
        raise NoteError(f"key id {key_id.hex()} does not match the key (expected {verifier.key_id.hex()})")
    return verifier


def parse_signer_key(skey: str) -> Ed25519Signer:
    """Parse `PRIVATE+KEY+name+hex(keyid)+base64(type||seed)`; error messages never echo the key."""
    if not skey.startswith(_PRIVATE_PREFIX):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    name, key_id, key_type, seed = _parse_key_string(skey[len(_PRIVATE_PREFIX) :])
    if key_type not in _SIGNERS:
        raise NoteError(f"unsupported signature type 0x{key_type:02x}")
    signer = _SIGNERS[key_type](name, seed)
    if signer.key_id != key_id:
        raise NoteError("the signer key's key id does not match its key")
    return signer


def generate_key(name: str, key_type: int = ED25519) -> tuple[str, str]:
    """A new key pair as (signer key string, verifier key string)."""
    if key_type not in _SIGNERS:
        raise NoteError(f"unsupported signature type 0x{key_type:02x}")
    signer = _SIGNERS[key_type].generate(name)
    return signer.signer_key(), str(signer.verifier)
