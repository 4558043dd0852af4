"""Workspace host rules: Cedar policies the host nation writes, which can only deny (DESIGN §3.3 rule 7).

A foreign principal may enter a workspace iff the host's membership record lists them now and
no host rule forbids it. Rules are evaluated per request, so a change takes effect at once, on
existing sessions and tokens too. A denial names the `@id` of the rule that fired.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import cedarpy
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.limits import length_problems
from tearline.db.models import Principal, Workspace, WorkspaceMember, WorkspacePolicy
from tearline.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tearline.markings.scheme import NATIONAL_LABELS
from tearline.store.registry import name_problems

# Host rules only deny; this permit is ours, not the host's, so that membership decides the rest.
BASE_PERMIT = '@id("member-may-enter")\npermit(principal, action == Action::"enter", resource);'
# What a host rule may refer to (see `_entities` and `may_enter`). Cedar skips a forbid whose
# condition errors, so a rule naming an unknown attribute would never deny: refuse it when set.
HOST_SCHEMA = """
entity Principal = { nation: String, agency: String, roles: Set<String> };
entity Workspace = { host: String };
action enter appliesTo { principal: [Principal], resource: [Workspace], context: { now: Long, today: String } };
"""
_POLICY_ID = re.compile(r"policy `([^`]+)`")
# Host rules are a handful of forbids; the bound keeps one save from storing (and every entry
# decision from re-parsing) a document of any size.
MAX_RULES_BYTES = 64 * 1024


@dataclass(frozen=True)
class Entry:
    allowed: bool
    rule: str | None
    policy_version: int


def validate_host_rules(text: str) -> dict[str, str]:
    """Parse host rules; refuse syntax errors, permits (a host rule never widens), rules without @id,
    and rules that do not type-check against what a request carries."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_RULES_BYTES:
        raise InvalidInput(
            Problem("policy", f"is {size:,} bytes; host rules may hold at most {MAX_RULES_BYTES:,} bytes (64 KB)")
        )
    names = _rule_names(text)
    # Refused here, not in `_rule_names`: rules stored before this check must still decide entry.
    duplicates = _duplicate_ids(names)
    if duplicates:
        raise InvalidInput(duplicates)
    if names:
        checked = cedarpy.validate_policies(text, HOST_SCHEMA)
        if not checked.validation_passed:
            raise InvalidInput([Problem("policy", _with_rule_ids(str(e), names)) for e in checked.errors])
    return names


def _with_rule_ids(message: str, names: dict[str, str]) -> str:
    for key, name in names.items():
        message = message.replace(f"`{key}`", f"`{name}`").replace(f"[{key}]", f"[{name}]")
    return message


def _rule_names(text: str) -> dict[str, str]:
    """Cedar's policy ids mapped to the rules' @id names; refuses what `validate_host_rules` documents."""
    if not text.strip():
        return {}
    try:
        parsed = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as err:
        raise InvalidInput(Problem("policy", f"Cedar syntax error: {err}")) from None
    names: dict[str, str] = {}
    problems = []
    for key, policy in parsed.get("staticPolicies", {}).items():
        rule_id = (policy.get("annotations") or {}).get("id")
        if policy.get("effect") != "forbid":
            problems.append(Problem("policy", f"{rule_id or key}: host rules may only forbid; permit is not allowed"))
        if not rule_id:
            problems.append(Problem("policy", f'{key}: every rule needs an @id("...") annotation to name it'))
        names[key] = rule_id or key
    if parsed.get("templates"):
        problems.append(Problem("policy", "templates are not allowed in host rules"))
    if problems:
        raise InvalidInput(problems)
    return names


def _duplicate_ids(names: dict[str, str]) -> list[Problem]:
    """A denial names the rule that fired by its @id, so two rules must never share one."""
    counts = Counter(names.values())
    return [
        Problem("policy", f"@id({name!r}) names {count} rules; each rule needs an @id of its own")
        for name, count in sorted(counts.items())
        if count > 1
    ]


def current_policy(session: Session, workspace_id: int) -> WorkspacePolicy | None:
    return session.scalar(
        select(WorkspacePolicy)
        .where(WorkspacePolicy.workspace_id == workspace_id)
        .order_by(WorkspacePolicy.version.desc())
        .limit(1)
    )


def set_host_rules(session: Session, workspace: Workspace, text: str, actor: Principal) -> WorkspacePolicy:
    """Store a new version of the host rules; only an admin of the host nation may."""
    if actor.nation != workspace.host_nation or "admin" not in actor.roles:
        raise Forbidden("only an admin of the host nation may change its workspace rules", rule="host-admin")
    validate_host_rules(text)
    latest = session.scalar(
        select(func.max(WorkspacePolicy.version)).where(WorkspacePolicy.workspace_id == workspace.id)
    )
    row = WorkspacePolicy(
        workspace_id=workspace.id,
        version=(latest or 0) + 1,
        policy_text=text,
        created_by=actor.username,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _entities(principal: Principal, workspace: Workspace) -> list[dict[str, object]]:
    return [
        {
            "uid": {"type": "Principal", "id": principal.username},
            "attrs": {"nation": principal.nation, "agency": principal.agency, "roles": list(principal.roles)},
            "parents": [],
        },
        {"uid": {"type": "Workspace", "id": workspace.slug}, "attrs": {"host": workspace.host_nation}, "parents": []},
    ]


def may_enter(session: Session, principal: Principal, workspace: Workspace, now: datetime | None = None) -> Entry:
    """Membership (authoritative) first, then the host's Cedar rules at this moment."""
    policy = current_policy(session, workspace.id)
    version = policy.version if policy else 0
    member = session.get(WorkspaceMember, (workspace.id, principal.id))
    if member is None:
        return Entry(False, "not-a-member", version)
    if policy is None or not policy.policy_text.strip():
        return Entry(True, None, version)
    names = _rule_names(policy.policy_text)
    moment = clock.as_utc(now or clock.now())
    request = {
        "principal": f'Principal::"{principal.username}"',
        "action": 'Action::"enter"',
        "resource": f'Workspace::"{workspace.slug}"',
        "context": {"now": int(moment.timestamp()), "today": moment.strftime("%Y-%m-%d")},
    }
    result = cedarpy.is_authorized(request, policy.policy_text + "\n" + BASE_PERMIT, _entities(principal, workspace))
    # A rule that could not be evaluated might have forbidden entry: it denies too, and is named.
    failed = [names.get(k, k) for e in result.diagnostics.errors for k in _POLICY_ID.findall(str(e))]
    if result.allowed and not result.diagnostics.errors:
        return Entry(True, None, version)
    fired = [] if result.allowed else [names.get(r, r) for r in result.diagnostics.reasons]
    return Entry(False, ", ".join(dict.fromkeys(fired + failed)) or "host-rule-error", version)


def allowed_workspaces(session: Session, principal: Principal, now: datetime | None = None) -> frozenset[int]:
    """The workspaces a principal may work in right now."""
    memberships = session.scalars(
        select(Workspace).join(WorkspaceMember).where(WorkspaceMember.principal_id == principal.id)
    ).all()
    return frozenset(w.id for w in memberships if may_enter(session, principal, w, now).allowed)


def workspace_by_slug(session: Session, slug: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise NotFound(f"no workspace {slug!r}")
    return workspace


def add_workspace(session: Session, slug: str, name: str, host_nation: str) -> Workspace:
    problems = name_problems("slug", slug) + name_problems("name", name)
    problems += length_problems([("slug", Workspace.slug, slug), ("name", Workspace.name, name)])
    if host_nation not in NATIONAL_LABELS:
        known = ", ".join(NATIONAL_LABELS)
        problems.append(Problem("host_nation", f"unknown nation {host_nation!r}; known: {known}"))
    if problems:
        raise InvalidInput(problems)
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise Conflict(f"workspace slug {slug!r} already exists; pick another slug")
    workspace = Workspace(slug=slug, name=name, host_nation=host_nation)
    session.add(workspace)
    session.flush()
    return workspace


def add_member(session: Session, workspace: Workspace, principal: Principal) -> None:
    if session.get(WorkspaceMember, (workspace.id, principal.id)) is None:
        session.add(WorkspaceMember(workspace_id=workspace.id, principal_id=principal.id, added_at=clock.now()))
        session.flush()


def remove_member(session: Session, workspace: Workspace, principal: Principal) -> bool:
    """Take a principal out of a workspace; False (and nothing done) when it was not a member."""
    member = session.get(WorkspaceMember, (workspace.id, principal.id))
    if member is None:
        return False
    session.delete(member)
    session.flush()
    return True


def workspace_slugs(session: Session, ids: frozenset[int]) -> list[str]:
    return sorted(session.scalars(select(Workspace.slug).where(Workspace.id.in_(ids))))


def hosted_workspaces(session: Session, nation: str) -> list[Workspace]:
    """The workspaces a nation hosts (what its admins may govern)."""
    return list(session.scalars(select(Workspace).where(Workspace.host_nation == nation).order_by(Workspace.slug)))


def listed_workspaces(session: Session, principal: Principal, nation: str) -> list[Workspace]:
    """The workspaces a nation hosts that a principal is shown: all of them to the node's admins (who
    govern them), to anyone else only those they are a member of and the host's rules admit now."""
    hosted = hosted_workspaces(session, nation)
    if principal.nation == nation and "admin" in principal.roles:
        return hosted
    admitted = allowed_workspaces(session, principal)
    return [w for w in hosted if w.id in admitted]


def policy_versions(session: Session, workspace_id: int) -> list[WorkspacePolicy]:
    query = select(WorkspacePolicy).where(WorkspacePolicy.workspace_id == workspace_id)
    return list(session.scalars(query.order_by(WorkspacePolicy.version)))
