"""Node-to-node requests, signed with the sending node's Ed25519 key.

Each request carries the sender's nation, the time, and a signature over the method, the path
with its query, the time and the nation. The receiver checks it against the verifier key it
registered for that nation (`tearline peer add`), and refuses stale times, so a captured request
cannot be replayed later. The body needs no signature here: everything a partner posts is a
sealed unit whose own signature is checked before anything is stored.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Generator, Mapping

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from tearline.db.federation_tables import Peer
from tearline.db.models import Principal
from tearline.errors import Unauthorized
from tearline.federation.peers import public_key

NODE_HEADER = "Tearline-Node"
DATE_HEADER = "Tearline-Date"
SIGNATURE_HEADER = "Tearline-Signature"
MAX_SKEW_SECONDS = 300


def request_message(method: str, target: str, date: str, nation: str) -> bytes:
    return f"tearline-request-v1\n{method.upper()}\n{target}\n{date}\n{nation}".encode()


class NodeAuth(httpx.Auth):
    """Signs every request this node sends to a partner."""

    def __init__(self, nation: str, key: Ed25519PrivateKey) -> None:
        self.nation = nation
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date = str(int(time.time()))
        target = request.url.raw_path.decode()
        signature = self.key.sign(request_message(request.method, target, date, self.nation))
        request.headers[NODE_HEADER] = self.nation
        request.headers[DATE_HEADER] = date
        request.headers[SIGNATURE_HEADER] = base64.b64encode(signature).decode()
        yield request


def is_signed(headers: Mapping[str, str]) -> bool:
    return SIGNATURE_HEADER.lower() in {k.lower() for k in headers}


def principal_for_signature(session: Session, headers: Mapping[str, str], method: str, target: str) -> Principal:
    """The peer principal whose node signed this request, or Unauthorized saying why not."""
    nation = headers.get(NODE_HEADER, "")
    date = headers.get(DATE_HEADER, "")
    peer = session.get(Peer, nation)
    if peer is None:
        raise Unauthorized(f"no peer registered for {nation!r}; the partner's admin runs `tearline peer add`")
    if not date.isdigit() or abs(time.time() - int(date)) > MAX_SKEW_SECONDS:
        raise Unauthorized(f"{DATE_HEADER} must be the current Unix time (±{MAX_SKEW_SECONDS} s); check the clocks")
    try:
        signature = base64.b64decode(headers.get(SIGNATURE_HEADER, ""), validate=True)
        public_key(peer.vkey).verify(signature, request_message(method, target, date, nation))
    except (InvalidSignature, ValueError):
        raise Unauthorized(f"the request is not signed by {nation}'s registered node key") from None
    principal = session.get(Principal, peer.principal_id)
    if principal is None or principal.disabled:
        raise Unauthorized(f"the principal of peer {nation} is disabled")
    return principal
