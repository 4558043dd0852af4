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

# A position is a few dozen characters; a token much longer than any this node makes is not one.
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
    """The position as this principal may see it: an opaque string for `purpose` only."""
    sealed = _cipher(node).encrypt(position.encode(), _context(purpose, principal_id))
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def unseal(node: Node, purpose: str, principal_id: int, token: str) -> str | None:
    """The position a token of `seal` names, or None if this node did not give it to this
    principal for this purpose (or it was changed since)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = _cipher(node).decrypt(sealed, _context(purpose, principal_id))
    except (binascii.Error, ValueError, InvalidTag):
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
