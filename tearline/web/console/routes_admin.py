"""Console pages of the host nation's workspace rules: Cedar text, validation, version history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from tearline.errors import InvalidInput
from tearline.policy import host
from tearline.web import routes_admin
from tearline.web.app import NodeDep
from tearline.web.audited import audited_read
from tearline.web.console.pages import PageRoute, Reader, Writer, render
from tearline.web.schemas import PolicyIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
actions = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/workspaces")
def workspaces(request: Request, node: NodeDep, principal: Reader) -> Response:
    with audited_read(node, principal, "workspace.list") as (session, _, trail):
        rows = [
            {"slug": w.slug, "name": w.name, "host": w.host_nation}
            for w in host.listed_workspaces(session, principal, node.config.nation)
        ]
        trail.objects = [w["slug"] for w in rows]
    return render(request, "workspaces.html", principal, workspaces=rows)


@router.get("/workspaces/{slug}")
def workspace(slug: str, request: Request, node: NodeDep, principal: Reader) -> Response:
    return _workspace(request, node, principal, slug)


def _workspace(
    request: Request, node: Any, principal: Any, slug: str, draft: str | None = None, problems: Any = None
) -> Response:
    versions = routes_admin.workspace_policy(slug, node, principal)["versions"]
    current = versions[-1]["policy"] if versions else ""
    return render(
        request,
        "workspace.html",
        principal,
        slug=slug,
        versions=list(reversed(versions)),
        text=current if draft is None else draft,
        problems=problems or [],
        saved=request.query_params.get("saved"),
        status=422 if problems else 200,
    )


@router.post("/workspaces/{slug}/policy")
def save_policy(
    slug: str, request: Request, node: NodeDep, principal: Writer, policy: Annotated[str, Form()] = ""
) -> Response:
    try:
        result = routes_admin.put_workspace_policy(slug, PolicyIn(policy=policy), node, principal)
    except InvalidInput as err:
        return _workspace(request, node, principal, slug, policy, err.problems)
    return RedirectResponse(f"/workspaces/{slug}?saved={result['version']}", status_code=303)


@actions.post("/workspaces/validate")
def validate(body: PolicyIn, principal: Writer) -> dict[str, Any]:
    """Check host rules without saving them: syntax, forbid-only, @id names, the request schema."""
    names = host.validate_host_rules(body.policy)
    return {"valid": True, "rules": sorted(names.values())}
