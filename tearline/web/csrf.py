"""CSRF protection of cookie sessions: a per-session token, an HMAC of the session token.

A browser sends the session cookie with any request to the node, including one forged by another
site; a forged request cannot read our pages, so it cannot know this token. The key comes from the
node's own signing key, so a token is valid on this node only and needs no table of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tearline.errors import Forbidden
from tearline.node import Node

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_keys: dict[Path, bytes] = {}


def _key(node: Node) -> bytes:
    key = _keys.get(node.data_dir)
    if key is None:
        seed = node.signing_key().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        # Derived, not the signing key itself: a CSRF token must say nothing about the key.
        key = _keys[node.data_dir] = hashlib.sha256(b"tearline console csrf v1\x00" + seed).digest()
    return key


def csrf_token(node: Node, session_token: str) -> str:
    """The CSRF token that goes with one session."""
    return hmac.new(_key(node), session_token.encode(), hashlib.sha256).hexdigest()


def require_csrf(node: Node, session_token: str, given: str | None) -> None:
    """Refuse a state-changing request made with the session cookie but without its CSRF token."""
    if not given or not hmac.compare_digest(given, csrf_token(node, session_token)):
        raise Forbidden(
            f"this request changes state with a session cookie but lacks a valid CSRF token ({CSRF_HEADER})",
            rule="csrf",
        )
