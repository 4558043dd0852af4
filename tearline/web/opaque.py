"""Opaque positions: where a reader is in an ordered walk, said so that the reader learns nothing else.

A TAXII `next` cursor and a stream event id name a place in a node-wide order (report versions,
the change log). Shown as they are stored, two consecutive ones would tell their reader how many
items, versions or events lie between them that the marking rules keep from them (DESIGN §3.3: no
principal may receive a count of what it may not see). So the position goes out sealed:
AES-SIV over the position, with what it is for and the principal it was given to as associated
data. The reader sees an opaque string; this node alone opens it, and only for the principal and
the purpose it was made for. Anything else (tampered, another node's, another principal's, made
for another use) opens to nothing, and the caller answers that it is no position this node gave.

AES-SIV is deterministic: one position given twice to one principal is the same string, which
tells them only what they already know. The key is derived from the node's signing key, so it
needs no file or table of its own, and every node, old or new, has one.

Two more things would tell: the length of the string, which grows with the position's digits (a
change id of 9 and one of 10,000 differ by the order of magnitude of what lies between), so every
position is padded to one width before it is sealed; and the spelling, since base64's last
character carries unused bits: only the spelling this node gives opens, so one id has one spelling.
"""

from __future__ import annotations

import base64
import binascii
import weakref

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tearline.node import Node

# Every position is sealed at this width: the longest a caller seals is a holdings cursor (a version
# id of at most 10 digits, a rank of one digit and a STIX id of at most 128 characters, 141 in all,
# `tearline.taxii.holdings`); a feed cursor (a time and a row id) and a stream event id (a change id)
# are shorter. A longer position is refused when sealed, never sealed at another length.
WIDTH = 144
_PAD = b"\0"  # never part of a position: every one is printable text
# A token much longer than any this node makes is not one.
MAX_TOKEN = 512
_KEY_INFO = b"tearline opaque positions v1"

_ciphers: weakref.WeakKeyDictionary[Node, AESSIV] = weakref.WeakKeyDictionary()


def _cipher(node: Node) -> AESSIV:
    cipher = _ciphers.get(node)
    if cipher is None:
        seed = node.signing_key().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        # Derived, never the signing key itself; 64 bytes make AES-256-SIV.
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_KEY_INFO).derive(seed)
        cipher = _ciphers[node] = AESSIV(key)
    return cipher


def _context(purpose: str, principal_id: int) -> list[bytes]:
    return [purpose.encode(), str(principal_id).encode()]


def seal(node: Node, purpose: str, principal_id: int, position: str) -> str:
    """The position as this principal may see it: an opaque string for `purpose` only, of one length
    whatever the position."""
    plain = position.encode()
    if len(plain) > WIDTH or _PAD in plain:
        raise ValueError(f"a position of {len(plain)} bytes is no position this node seals")
    sealed = _cipher(node).encrypt(plain.ljust(WIDTH, _PAD), _context(purpose, principal_id))
    return _spelled(sealed)


def _spelled(sealed: bytes) -> str:
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def unseal(node: Node, purpose: str, principal_id: int, token: str) -> str | None:
    """The position a token of `seal` names, or None if this node did not give it to this
    principal for this purpose (or it was changed since)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if _spelled(sealed) != token:  # another spelling of the same bytes: not the one given
            return None
        padded = _cipher(node).decrypt(sealed, _context(purpose, principal_id))
    except (binascii.Error, ValueError, InvalidTag):
        return None
    plain = padded.rstrip(_PAD)
    if len(padded) != WIDTH or _PAD in plain:
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
