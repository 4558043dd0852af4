"""/workspaces lists what its reader may work in (SQLite and PostgreSQL): the workspaces they are a
member of and the host's rules admit now; the node's admins, who govern them, see all it hosts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import Principal
from tearline.fixtures import WORKSPACE
from tearline.node import Node
from tearline.policy import host
from tests.console.test_sessions import log_in

NO_MEXICANS = '@id("no-mexican-personnel")\nforbid(principal, action, resource) when { principal.nation == "MEX" };'


def _listed(client: TestClient, username: str) -> bool:
    log_in(client, username)
    page = client.get("/workspaces")
    assert page.status_code == 200
    return f'data-testid="workspace-{WORKSPACE}"' in page.text


def _forbid_mexicans(node: Node) -> None:
    with node.db.write() as session:
        admin = session.scalar(select(Principal).where(Principal.username == "adam.admin"))
        assert admin is not None
        host.set_host_rules(session, host.workspace_by_slug(session, WORKSPACE), NO_MEXICANS, admin)


def test_members_admitted_and_admins_see_the_workspace(client: TestClient) -> None:
    assert _listed(client, "ana.analyst")  # a member
    assert _listed(client, "mateo.enlace")  # a foreign member the host admits
    assert _listed(client, "adam.admin")  # governs it, a member or not


def test_a_non_member_does_not_see_it(client: TestClient) -> None:
    assert not _listed(client, "ian.intel")
    assert "This node hosts no workspace." not in client.get("/workspaces").text


def test_a_member_the_host_rules_deny_does_not_see_it(client: TestClient, node: Node) -> None:
    _forbid_mexicans(node)
    assert not _listed(client, "mateo.enlace")
    assert _listed(client, "ana.analyst") and _listed(client, "adam.admin")
