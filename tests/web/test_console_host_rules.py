"""Host rules with two rules of one @id, or of any size, are refused with a clear reason and nothing
is stored (SQLite and PostgreSQL): through the console's form, its validation call and the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tearline import clock
from tearline.db.models import Principal, WorkspacePolicy
from tearline.fixtures import WORKSPACE, Demo
from tearline.node import Node
from tearline.policy import host
from tests.console.test_sessions import log_in
from tests.web.support import login

RULE = '@id("{name}")\nforbid(principal, action, resource) when {{ principal.nation == "{nation}" }};\n'
TWINS = RULE.format(name="no-foreign", nation="MEX") + RULE.format(name="no-foreign", nation="CAN")
# About 200 KB of distinct, valid rules.
HUGE = "".join(RULE.format(name=f"rule-{i}", nation="MEX") for i in range(2_500))


def _versions(node: Node) -> int:
    with node.db.read() as session:
        return len(host.policy_versions(session, host.workspace_by_slug(session, WORKSPACE).id))


def test_rules_sharing_an_id_are_refused_naming_it(client: TestClient, node: Node) -> None:
    csrf = log_in(client, "adam.admin")
    checked = client.post("/console/workspaces/validate", json={"policy": TWINS}, headers={"X-CSRF-Token": csrf})
    assert checked.status_code == 422 and "@id('no-foreign') names 2 rules" in checked.text
    saved = client.post(f"/workspaces/{WORKSPACE}/policy", data={"csrf": csrf, "policy": TWINS})
    assert saved.status_code == 422 and "@id(&#39;no-foreign&#39;) names 2 rules" in saved.text
    api = client.put(f"/api/workspaces/{WORKSPACE}/policy", json={"policy": TWINS}, headers=login(client, "adam.admin"))
    assert api.status_code == 422 and "no-foreign" in api.text
    assert _versions(node) == 0


def test_rules_over_64_kb_are_refused_saying_the_bound(client: TestClient, node: Node) -> None:
    assert len(HUGE) > 190_000
    csrf = log_in(client, "adam.admin")
    saved = client.post(f"/workspaces/{WORKSPACE}/policy", data={"csrf": csrf, "policy": HUGE})
    assert saved.status_code == 422 and "at most 65,536 bytes (64 KB)" in saved.text
    api = client.put(f"/api/workspaces/{WORKSPACE}/policy", json={"policy": HUGE}, headers=login(client, "adam.admin"))
    assert api.status_code == 422 and "64 KB" in api.text
    assert _versions(node) == 0


def test_distinct_rules_within_the_bound_are_saved(client: TestClient, node: Node) -> None:
    csrf = log_in(client, "adam.admin")
    rules = RULE.format(name="no-mexican-personnel", nation="MEX") + RULE.format(name="no-canadians", nation="CAN")
    saved = client.post(f"/workspaces/{WORKSPACE}/policy", data={"csrf": csrf, "policy": rules}, follow_redirects=False)
    assert saved.status_code == 303
    assert _versions(node) == 1


def test_rules_stored_before_the_check_still_decide_entry(node: Node, demo: Demo) -> None:
    with node.db.write() as session:
        workspace = host.workspace_by_slug(session, WORKSPACE)
        stored = WorkspacePolicy(
            workspace_id=workspace.id, version=1, policy_text=TWINS, created_by="adam.admin", created_at=clock.now()
        )
        session.add(stored)
        session.flush()
        mateo = session.get(Principal, demo.principals["mateo.enlace"].id)
        assert mateo is not None
        entry = host.may_enter(session, mateo, workspace)
    assert not entry.allowed and entry.rule == "no-foreign"
