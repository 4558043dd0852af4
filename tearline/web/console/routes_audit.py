"""The auditor's console: who saw or received what and when, the latest checkpoint, and proofs.

"Verify" checks an entry twice: the page's script recomputes the Merkle path in the browser from
the public proof and the entry's bytes, and the node checks the signed tlog-proof with its own key.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from tearline.audit import log
from tearline.audit.errors import NoteError, ProofError
from tearline.audit.merkle import leaf_hash
from tearline.audit.search import Hit
from tearline.audit.search import Query as SearchQuery
from tearline.markings.marking import Marking
from tearline.web import routes_audit, routes_release
from tearline.web.app import NodeDep
from tearline.web.console.pages import PageRoute, Reader, Writer, render
from tearline.web.console.routes_release import page_banner, released_markings
from tearline.web.params import PathIndex

router = APIRouter(route_class=PageRoute, include_in_schema=False)
actions = APIRouter(prefix="/console", include_in_schema=False)


def _checkpoint(node: Any) -> str:
    body = routes_audit.checkpoint(node).body
    return bytes(body).decode()


@router.get("/audit")
def audit(
    request: Request,
    node: NodeDep,
    principal: Reader,
    object_id: Annotated[str | None, Query(alias="object")] = None,
    actor: str | None = None,
) -> Response:
    auditor = "auditor" in principal.roles
    hits: list[Hit] = []
    releases: list[dict[str, Any]] = []
    shown: list[Marking] = []  # behind the banners this page shows
    if auditor and (object_id or actor):
        page, shown = routes_audit.searched(node, principal, SearchQuery(object_id or None, actor or None))
        hits = page.hits
    if auditor and principal.nation == node.config.nation:
        releases = list(reversed(routes_release.releases(node, principal)["items"]))
        shown += released_markings(node, releases)
    return render(
        request,
        "audit.html",
        principal,
        banner=page_banner(node, shown),
        auditor=auditor,
        object_id=object_id or "",
        actor=actor or "",
        hits=[h.event.as_json() | {"index": h.index} for h in hits],
        releases=releases,
        checkpoint=_checkpoint(node),
    )


@actions.post("/audit/verify/{index}")
def verify(index: PathIndex, node: NodeDep, principal: Writer) -> dict[str, Any]:
    """Check entry `index` on the node: its tlog-proof against the checkpoint signed with the node's key."""
    routes_audit._as_auditor(node, principal, "audit.verify", {"index": index})
    signer = log.node_log_signer(node)
    with node.db.write() as session:
        proof = log.tlog_proof(session, signer, index)
    assert proof.extra is not None
    try:
        checkpoint, _ = proof.verify(leaf_hash(proof.extra), [signer.verifier], signer.name)
    except (NoteError, ProofError) as err:
        return {"verified": False, "index": index, "reason": str(err)}
    return {
        "verified": True,
        "index": index,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root_hash).decode(),
        "origin": checkpoint.origin,
    }
