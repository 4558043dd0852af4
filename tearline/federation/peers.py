"""Partner nodes, registered by hand: trust is explicit, never discovered.

A peer is known by its nation and agency, its URL, and its verifier key (the C2SP signed-note
key that `tearline audit vkey` prints on that node). The same Ed25519 key signs the partner's
checkpoints, its sealed units and its requests to us. Each peer also gets a principal here, with
the role `peer`, through which it reads its feed and posts to our inbox; a bearer token for that
principal lets a standard TAXII client connect as the partner.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.audit.errors import NoteError
from tearline.audit.keys import parse_verifier_key
from tearline.audit.witness import trust_log, trust_log_key
from tearline.db.audit_tables import AuditWitnessedLog
from tearline.db.federation_tables import Peer
from tearline.db.limits import length_problems, too_long
from tearline.db.models import AgencyRow, Principal
from tearline.errors import Conflict, InvalidInput, NotFound, Problem
from tearline.markings.scheme import NATIONAL_LABELS
from tearline.node import Node
from tearline.store import registry as reg
from tearline.store.federation import peer_for_principal, peers, principal_named
from tearline.store.principals import add_principal, issue_token, revoke_tokens


@dataclass(frozen=True)
class PeerInfo:
    nation: str
    agency: str
    url: str
    vkey: str
    username: str


def peer_username(nation: str) -> str:
    return f"peer-{nation.lower()}"


def public_key(vkey: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(parse_verifier_key(vkey).public_key)


def add_peer(
    session: Session, node: Node, nation: str, agency: str, url: str, vkey: str, law_enforcement: bool = True
) -> tuple[Peer, str]:
    """Register a partner node; returns it and a new bearer token for its principal here."""
    problems = _peer_problems(node, nation, agency, url, vkey)
    if problems:
        raise InvalidInput(problems)
    if session.get(Peer, nation) is not None:
        raise Conflict(
            f"a peer for {nation} is already registered (`tearline peer list` shows it): `tearline peer set "
            f"{nation} --url URL` moves it, `--vkey VKEY --replace-key` rotates its key, and `tearline peer token` "
            "issues it a new token"
        )
    reg.add_partner(session, nation)
    if session.get(AgencyRow, agency) is None:
        reg.add_agency(session, agency, nation, law_enforcement)
    principal = principal_named(session, peer_username(nation))
    if principal is None:
        top = NATIONAL_LABELS[nation][-1]  # what was released to the nation decides, not a clearance
        principal = add_principal(session, peer_username(nation), nation, agency, top, roles=["peer"])
    peer = Peer(
        nation=nation, agency=agency, url=url.rstrip("/"), vkey=vkey, principal_id=principal.id, added_at=clock.now()
    )
    session.add(peer)
    token = issue_token(session, principal, kind="api")
    trust_log(session, vkey)  # we witness the partner's log, as it may witness ours
    journal.record(session, node, journal.NODE_ADMIN, "peer.add", [nation, agency, url])
    return peer, token


def update_peer(
    session: Session, node: Node, nation: str, url: str | None = None, vkey: str | None = None,
    replace_key: bool = False,
) -> dict[str, list[str]]:  # fmt: skip
    """Move a partner to a new URL or rotate its key; returns each change as [before, after], logged.

    A new key is trusted for the partner's sealed units, its requests and its log only with
    `replace_key`: a key swapped in by mistake would let whoever holds it speak for the partner.
    """
    peer = get_peer(session, nation)
    problems = (_url_problems(url) if url is not None else []) + (_vkey_problems(vkey) if vkey is not None else [])
    if vkey is not None and vkey != peer.vkey and not replace_key:
        problems.append(Problem("vkey", "replacing a partner's key needs --replace-key, once the partner confirmed it"))
    if problems:
        raise InvalidInput(problems)
    changes: dict[str, list[str]] = {}
    if url is not None and url.rstrip("/") != peer.url:
        changes["url"] = [peer.url, url.rstrip("/")]
        peer.url = url.rstrip("/")
    if vkey is not None and vkey != peer.vkey:
        trust_log_key(session, vkey, replace=True)  # keeps the cosigned size and root: fork detection goes on
        changes["vkey"] = [peer.vkey, vkey]
        peer.vkey = vkey
    if changes:
        journal.record(session, node, journal.NODE_ADMIN, "peer.update", [nation, peer.agency], detail=changes)
    return changes


def revoke_peer_tokens(session: Session, node: Node, nation: str) -> int:
    """End every bearer token of the partner's principal here (a leaked token); returns how many."""
    peer = get_peer(session, nation)
    principal = session.get(Principal, peer.principal_id)
    assert principal is not None
    revoked = revoke_tokens(session, principal)
    journal.record(session, node, journal.NODE_ADMIN, "peer.revoke-tokens", [nation], detail={"revoked": revoked})
    return revoked


def _peer_problems(node: Node, nation: str, agency: str, url: str, vkey: str) -> list[Problem]:
    problems = []
    if nation not in NATIONAL_LABELS:
        problems.append(Problem("nation", f"unknown nation {nation!r}; known: {', '.join(NATIONAL_LABELS)}"))
    elif nation == node.config.nation:
        problems.append(Problem("nation", "a peer is a partner nation's node, not one of our own"))
    if not agency.strip():
        problems.append(Problem("agency", "must not be empty"))
    problems += length_problems([("agency", Peer.agency, agency)])
    return problems + _url_problems(url) + _vkey_problems(vkey)


def _url_problems(url: str) -> list[Problem]:
    if not url.startswith(("http://", "https://")):
        return [Problem("url", "must start with http:// or https://")]
    return []


def _vkey_problems(vkey: str) -> list[Problem]:
    try:
        return key_name_problems(vkey)
    except (NoteError, ValueError) as err:
        return [Problem("vkey", f"not a C2SP signed-note verifier key ({err}); use `tearline audit vkey`")]


def key_name_problems(vkey: str) -> list[Problem]:
    """A verifier key's name is the origin of the partner log this node witnesses: it must fit its column.
    Raises NoteError when `vkey` is not a verifier key at all."""
    reason = too_long(AuditWitnessedLog.origin, parse_verifier_key(vkey).name)
    return [Problem("vkey", f"its key name (the partner log's origin) {reason}")] if reason else []


def get_peer(session: Session, nation: str) -> Peer:
    peer = session.get(Peer, nation)
    if peer is None:
        raise NotFound(f"no peer for {nation}; register it with `tearline peer add`")
    return peer


def peer_of(session: Session, principal: Principal) -> Peer | None:
    """The peer a principal stands for, if it is a partner node's principal."""
    if "peer" not in principal.roles:
        return None
    return peer_for_principal(session, principal.id)


def all_peers(session: Session) -> list[Peer]:
    return peers(session)


def peer_token(session: Session, node: Node, nation: str) -> str:
    """A new bearer token for a registered peer's principal (for a standard TAXII client)."""
    peer = get_peer(session, nation)
    principal = session.get(Principal, peer.principal_id)
    assert principal is not None
    token = issue_token(session, principal, kind="api")
    journal.record(session, node, journal.NODE_ADMIN, "peer.token", [nation])
    return token
