"""The audit log over HTTP, under /api/audit.

Public (they show only sizes and hashes, what a partner needs to check the log without trusting
us): the latest signed checkpoint, the verifier keys, inclusion and consistency proofs, and the
tlog-witness `add-checkpoint` call (authenticated by the partner log's signature).

Auditors only: entries' contents and the log search. An entry says who read what, so reading
entries is itself an action that the auditor role grants; every such read is logged, and so is
every refusal. The role grants the reading, not the sight (DESIGN §3.3): an entry's bytes are
given exactly where the search would show them, and otherwise only its index and leaf hash, what a
partner needs to check the tree and which say nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from tearline import clock, journal
from tearline.audit import log
from tearline.audit.event import AuditEvent
from tearline.audit.search import AUDIT_MAX, AUDITOR_RULE, EntrySight, Page, search, withheld
from tearline.audit.search import Query as SearchQuery
from tearline.audit.witness import StaleOldSize, witness_for, witness_verifier_key
from tearline.db.models import Principal
from tearline.errors import Forbidden
from tearline.markings.marking import Marking
from tearline.node import Node
from tearline.store.registry import current_table
from tearline.web.app import NodeDep, PrincipalDep

router = APIRouter(prefix="/audit", tags=["audit"])
MAX_PAGE = 1_000
# Audit indexes and sizes are bounded by what an entry can hold (AUDIT_MAX = 2**53 - 1: a read's entry
# keeps the index it asked for, in JSON). So a larger number is a 422 naming it, before anything is logged.
PathIndex = Annotated[int, Path(ge=0, le=AUDIT_MAX)]  # an entry's index in the path
QueryNumber = Annotated[int, Query(ge=0, le=AUDIT_MAX)]  # an entry's index, or a size
Size = Annotated[int | None, Query(ge=0, le=AUDIT_MAX)]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _text(body: str) -> PlainTextResponse:
    return PlainTextResponse(body, media_type="text/plain; charset=utf-8")


def _signed_size(node: Node, size: int | None) -> tuple[int, str | None]:
    """The size asked for, or else the latest checkpoint's (issued now if the log has grown) and its note."""
    if size is not None:
        return size, None
    with node.db.write() as session:
        signed = log.latest_checkpoint(session, log.node_log_signer(node))
    return signed.checkpoint.size, signed.note


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(node: NodeDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint), with any witness cosignatures received."""
    return _text(_signed_size(node, None)[1] or "")


@router.get("/vkey", response_class=PlainTextResponse)
def vkey(node: NodeDep) -> PlainTextResponse:
    """The C2SP signed-note verifier key of this node's checkpoints."""
    return _text(log.verifier_key(node) + "\n")


@router.get("/witness/vkey", response_class=PlainTextResponse)
def witness_vkey(node: NodeDep) -> PlainTextResponse:
    """The verifier key (type 0x04) of this node's cosignatures, as a witness of partners' logs."""
    return _text(witness_verifier_key(node) + "\n")


@router.get("/proof/inclusion")
def inclusion(node: NodeDep, index: QueryNumber, size: Size = None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry `index` in the tree of `size` (default: the latest checkpoint)."""
    tree_size, note = _signed_size(node, size)
    with node.db.read() as session:
        hashes = log.prove_inclusion(session, index, tree_size)
        root = log.root_at(session, tree_size)
    hashes_b64 = [_b64(h) for h in hashes]
    return {"index": index, "size": tree_size, "root": _b64(root), "hashes": hashes_b64, "checkpoint": note}


@router.get("/proof/consistency")
def consistency(node: NodeDep, old: QueryNumber, new: Size = None) -> dict[str, Any]:
    """RFC 9162 consistency proof from size `old` to size `new` (default: the latest checkpoint)."""
    tree_size, note = _signed_size(node, new)
    with node.db.read() as session:
        hashes = log.prove_consistency(session, old, tree_size)
    return {"old": old, "new": tree_size, "hashes": [_b64(h) for h in hashes], "checkpoint": note}


@router.post("/witness/add-checkpoint", response_class=PlainTextResponse)
async def add_checkpoint(node: NodeDep, request: Request) -> Response:
    """C2SP tlog-witness: cosign a partner's checkpoint that extends the last one cosigned."""
    body = await request.body()
    try:
        cosigned = witness_for(node, body)
    except StaleOldSize as stale:
        # Exactly this content type, without a charset: clients compare it as a string.
        headers = {"content-type": "text/x.tlog.size"}
        return Response(f"{stale.latest_size}\n".encode(), status_code=409, headers=headers)
    return _text(cosigned.line)


# --- auditors ---------------------------------------------------------------------------------------


def _event(
    node: Node, session: Any, principal: Principal, action: str, outcome: str, detail: dict[str, Any]
) -> AuditEvent:
    return AuditEvent(
        actor=f"{principal.username}@{principal.agency}",
        action=action,
        objects=[],
        marking=None,
        policy_version=f"equivalence-v{current_table(session).version}",
        rule=AUDITOR_RULE,
        outcome=outcome,
        time=clock.now(),
        node=f"{node.config.nation}/{node.config.agency}",
        detail=detail,
    )


def _as_auditor(node: Node, principal: Principal, action: str, detail: dict[str, Any]) -> None:
    """Log the access (allowed or refused) in a transaction of its own, so that a refusal is kept too."""
    allowed = "auditor" in principal.roles
    with node.db.read() as session:
        event = _event(node, session, principal, action, "allowed" if allowed else "denied", detail)
    journal.record_read(node, event)  # durable before anything is answered
    if not allowed:
        raise Forbidden("reading the audit log needs the auditor role", rule=AUDITOR_RULE)


def _leaves_json(node: Node, principal: Principal, session: Any, leaves: list[log.StoredLeaf]) -> list[dict[str, Any]]:
    """Each entry with its bytes where this auditor may see them; else `data` null and why in `withheld`."""
    reasons = withheld(EntrySight(session, node.reader(principal)), leaves)
    return [
        {"index": leaf.index, "data": None if why else _b64(leaf.data), "hash": _b64(leaf.hash), "withheld": why}
        for leaf, why in zip(leaves, reasons, strict=True)
    ]


@router.get("/leaves/{index}")
def leaf(index: PathIndex, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """One entry: its canonical bytes (base64; null if withheld from this auditor) and leaf hash."""
    _as_auditor(node, principal, "audit.leaf.read", {"index": index})
    with node.db.read() as session:
        return _leaves_json(node, principal, session, [log.read_leaf(session, index)])[0]


@router.get("/leaves")
def leaves(
    node: NodeDep,
    principal: PrincipalDep,
    start: QueryNumber = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> dict[str, Any]:
    """Entries [start, start + limit), for a partner's or an auditor's full check.

    Every entry's index and leaf hash; its bytes only where this auditor may see them (see the
    module docstring): `data` is null otherwise, and `withheld` says why (`hidden`, or
    `not-canonical` for bytes that are no audit event), null where the bytes are given.
    """
    _as_auditor(node, principal, "audit.leaf.read", {"start": start, "limit": limit})
    with node.db.read() as session:
        size = log.log_size(session)
        rows = log.read_leaves(session, start, min(start + limit, size))
        return {"size": size, "start": start, "leaves": _leaves_json(node, principal, session, rows)}


@router.get("/search")
def search_log(
    node: NodeDep,
    principal: PrincipalDep,
    object_id: Annotated[str | None, Query(alias="object")] = None,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Annotated[int, Query(ge=-1, le=AUDIT_MAX)] = -1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Who saw (or was refused) an object, and what an actor saw: entries decoded from the log itself.

    `since` (inclusive) and `until` (exclusive) are RFC 3339 times or dates; without a zone they are UTC.
    The auditor role grants the search, not what it shows (DESIGN §3.3): entries about anything the
    auditor may not see are left out, and a banner (with the entry's bytes, `data`: null) is
    withheld unless the auditor sees all it covers.
    """
    query = SearchQuery(object_id, actor, action, outcome, since, until, after, limit)
    page, _ = searched(node, principal, query)
    hits = [
        {"index": h.index, "event": h.event.as_json(), "data": None if h.data is None else _b64(h.data)}
        for h in page.hits
    ]
    return {"hits": hits, "next_after": page.next_after}


def searched(node: Node, principal: Principal, query: SearchQuery) -> tuple[Page, list[Marking]]:
    """The auditor's search as this auditor may see it, and the markings behind the banners it shows."""
    query.check()
    detail = {k: v for k, v in {"object": query.object_id, "actor": query.actor, "action": query.action}.items() if v}
    _as_auditor(node, principal, "audit.search", detail)
    reader = node.reader(principal)
    with node.db.read() as session:
        sight = EntrySight(session, reader)
        return search(session, query, sight), sight.banner_markings()
