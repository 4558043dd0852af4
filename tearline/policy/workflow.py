"""Who may take each step of the release workflow: Cedar policies, stored with the code as data.

Roles grant actions, never visibility; what a step may touch is still decided by the marking rules.
A refusal names the rule (the @id of a forbid, or `default-deny` when no permit applies).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import cedarpy

from tearline.db.models import Principal
from tearline.errors import Forbidden

WORKFLOW_POLICIES = """
@id("analysts-and-officers-may-request")
permit(principal, action == Action::"request", resource)
when { principal.roles.contains("analyst") || principal.roles.contains("disclosure_officer") };

@id("officers-of-this-node-decide")
permit(principal, action in [Action::"review", Action::"approve", Action::"deny", Action::"recall",
                             Action::"grant_consent", Action::"refuse_consent", Action::"revoke_consent",
                             Action::"request_consent"], resource)
when { principal.roles.contains("disclosure_officer") && principal.nation == context.node_nation };

@id("admins-set-the-two-person-rule")
permit(principal, action == Action::"set_two_person_rule", resource)
when { principal.roles.contains("admin") && principal.nation == context.node_nation };

@id("foreign-principals-never-decide")
forbid(principal, action, resource)
when { principal.nation != context.node_nation && action != Action::"request" };
"""


@lru_cache(maxsize=1)
def _policies() -> tuple[cedarpy.PolicySet, dict[str, str]]:
    parsed = json.loads(cedarpy.policies_to_json_str(WORKFLOW_POLICIES))
    names = {key: (p.get("annotations") or {}).get("id", key) for key, p in parsed["staticPolicies"].items()}
    return cedarpy.PolicySet.from_str(WORKFLOW_POLICIES), names


def authorize(principal: Principal, action: str, node_nation: str) -> str:
    """Raise Forbidden unless the principal may take `action`; return the rule that permitted it."""
    policies, names = _policies()
    entities: list[dict[str, Any]] = [
        {
            "uid": {"type": "Principal", "id": principal.username},
            "attrs": {"nation": principal.nation, "agency": principal.agency, "roles": list(principal.roles)},
            "parents": [],
        },
        {"uid": {"type": "Release", "id": "any"}, "attrs": {}, "parents": []},
    ]
    request = {
        "principal": f'Principal::"{principal.username}"',
        "action": f'Action::"{action}"',
        "resource": 'Release::"any"',
        "context": {"node_nation": node_nation},
    }
    result = cedarpy.is_authorized(request, policies, entities)
    fired = [names.get(r, r) for r in result.diagnostics.reasons]
    if not result.allowed:
        rule = ", ".join(fired) or "default-deny"
        raise Forbidden(f"{principal.username} may not {action.replace('_', ' ')} ({rule})", rule=rule)
    return ", ".join(fired)
