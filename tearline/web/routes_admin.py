"""Log-in, the caller's identity, workspaces and their host rules, and the equivalence table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response

from tearline.config import Settings
from tearline.db.models import Principal, Workspace
from tearline.errors import Forbidden, InvalidInput, Problem
from tearline.federation.equivalence import audit_objects, node_origin, store_signed_table, table_from_json
from tearline.node import Node
from tearline.policy import host
from tearline.store.federation import principal_named
from tearline.store.principals import check_password, issue_token
from tearline.web.app import SESSION_COOKIE, NodeDep, PrincipalDep
from tearline.web.audited import audited, audited_read, reader_of
from tearline.web.schemas import LoginIn, PolicyIn

router = APIRouter(tags=["node"])


@router.post("/login")
def login(body: LoginIn, node: NodeDep, response: Response) -> dict[str, Any]:
    """Local log-in (argon2id); returns a session token that expires."""
    minutes = Settings().session_minutes
    with audited(node, _logging_in(node, body.username), "login", [f"principal:{body.username}"]) as (
        session, _, _trail
    ):  # fmt: skip
        principal = check_password(session, body.username, body.password)
        token = issue_token(session, principal, kind="session", ttl=timedelta(minutes=minutes))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=minutes * 60)
    return {"token": token, "expires_in": minutes * 60}


def _logging_in(node: Node, username: str) -> Principal | str:
    """Who a log-in's entry names: the principal the name belongs to, as every other entry names it
    (`username@agency`), so that a search by actor finds its failed log-ins too; else `anonymous`
    (the name typed is among the entry's objects either way)."""
    with node.db.read() as session:
        principal = principal_named(session, username)
        if principal is None:
            return "anonymous"
        session.expunge(principal)
    return principal


@router.get("/me")
def me(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited_read(node, principal, "me") as (session, reader, _trail):
        slugs = host.workspace_slugs(session, reader_of(reader).allowed_workspaces)
    return {
        "username": principal.username,
        "nation": principal.nation,
        "agency": principal.agency,
        "clearance": principal.clearance,
        "compartments": principal.compartments,
        "roles": principal.roles,
        "workspaces": sorted(slugs),
        "node": {"nation": node.config.nation, "agency": node.config.agency},
    }


@router.get("/workspaces/{slug}")
def workspace(slug: str, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """Enter a workspace: membership and the host's rules decide; a denial names the rule."""
    with audited(node, principal, "workspace.enter", [slug]) as (session, _, trail):
        ws = host.workspace_by_slug(session, slug)
        entry = host.may_enter(session, principal, ws)
        policy = host.current_policy(session, ws.id)
        trail.rule = f"host-policy-v{entry.policy_version}"
        if not entry.allowed:
            raise Forbidden(f"you may not enter workspace {slug!r}", rule=entry.rule)
    return {
        "slug": ws.slug,
        "name": ws.name,
        "host_nation": ws.host_nation,
        "policy_version": policy.version if policy else 0,
    }


@router.get("/workspaces/{slug}/policy")
def workspace_policy(slug: str, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    with audited_read(node, principal, "workspace.policy.read", [slug]) as (session, _, _trail):
        ws = host.workspace_by_slug(session, slug)
        _require_host_admin(principal, ws)
        versions = host.policy_versions(session, ws.id)
    return {
        "slug": slug,
        "versions": [
            {"version": v.version, "policy": v.policy_text, "by": v.created_by, "at": v.created_at.isoformat()}
            for v in versions
        ],
    }


@router.put("/workspaces/{slug}/policy")
def put_workspace_policy(slug: str, body: PolicyIn, node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """A new version of the host rules; it applies to the next request of every session."""
    with audited(node, principal, "workspace.policy.change", [slug]) as (session, _, _trail):
        ws = host.workspace_by_slug(session, slug)
        actor = session.get(Principal, principal.id)
        assert actor is not None
        row = host.set_host_rules(session, ws, body.policy, actor)
        version = row.version
    return {"slug": slug, "version": version}


def _require_host_admin(principal: Principal, ws: Workspace) -> None:
    if principal.nation != ws.host_nation or "admin" not in principal.roles:
        raise Forbidden("only an admin of the host nation may see or change its workspace rules", rule="host-admin")


@router.get("/equivalence")
def equivalence(node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """The table in force; partners sign the next one for this `origin` and `version` (`--for`, `--replaces`)."""
    with node.db.read() as session:
        return {**node.table(session).as_dict(), "origin": node_origin(node)}


@router.put("/equivalence")
def put_equivalence(body: dict[str, Any], node: NodeDep, principal: PrincipalDep) -> dict[str, Any]:
    """A new version of the table (admins). Partners' columns change only in versions they signed:
    `signatures` lists their signed-note lines over the table as the successor of the version in force
    (`tearline equivalence sign --for ORIGIN --replaces N`); a signature for another version is a 422."""
    if "admin" not in principal.roles or principal.nation != node.config.nation:
        raise Forbidden("only an admin of this node may change the equivalence table", rule="admin-role")
    table = table_from_json(body)
    lines = body.get("signatures", [])
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise InvalidInput(Problem("signatures", "must be a list of signature lines"))
    with audited(node, principal, "equivalence.change") as (session, _, trail):
        version, signed = store_signed_table(session, node, table, lines, principal.username)
        trail.objects = audit_objects(version, signed)
    return {"version": version, "signed_by": [s.nation for s in signed]}
