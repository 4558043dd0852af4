"""Workspace host rules (DESIGN §3.3 rule 7): Cedar forbids from the host nation, in force at once.

The demo's fusion centre is hosted by the USA; chloe.liaison is its Canadian member.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Principal, WorkspacePolicy
from tearline.fixtures import WORKSPACE, Demo, build_demo
from tearline.node import Node
from tearline.policy import host
from tearline.store.principals import add_principal
from tearline.web.app import create_app
from tests.web.support import assert_error, quick, token_headers

__all__ = ["quick"]
pytestmark = pytest.mark.usefixtures("quick")

CUTOFF = datetime(2026, 12, 1, tzinfo=UTC)
RULE_ID = "no-can-from-2026-12-01"
NO_CAN = f"""@id("{RULE_ID}")
forbid(principal, action, resource)
when {{ principal.nation == "CAN" && context.now >= {int(CUTOFF.timestamp())} }};
"""
POLICY_URL = f"/api/workspaces/{WORKSPACE}/policy"


@pytest.fixture
def frozen() -> Iterator[None]:
    """The day before the cut-off; tests move the clock on with `clock.frozen_at`."""
    with clock.frozen_at(CUTOFF - timedelta(days=1)):
        yield


@pytest.fixture
def demo(node: Node, frozen: None) -> Demo:
    return build_demo(node)


@pytest.fixture
def client(node: Node, demo: Demo) -> TestClient:
    return TestClient(create_app(node))


def _counts(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    response = client.get("/api/counts", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _set_rules(client: TestClient, node: Node, text: str, username: str = "adam.admin") -> object:
    return client.put(POLICY_URL, json={"policy": text}, headers=token_headers(node, username))


def _policy_rows(node: Node) -> list[int]:
    with node.db.read() as session:
        return list(session.scalars(select(WorkspacePolicy.version).order_by(WorkspacePolicy.version)))


def test_a_forbid_rule_cuts_an_existing_token_off_at_the_cut_off(client: TestClient, node: Node, demo: Demo) -> None:
    chloe = token_headers(node, "chloe.liaison")  # issued before the rule exists
    mateo = token_headers(node, "mateo.enlace")
    convoy = f"/api/reports/{demo.reports['convoy']}"
    before = _counts(client, chloe)
    assert before["reports"] == 1 and before["portions"] == 1
    assert client.get(f"/api/workspaces/{WORKSPACE}", headers=chloe).status_code == 200

    response = _set_rules(client, node, NO_CAN)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json() == {"slug": WORKSPACE, "version": 1}  # type: ignore[attr-defined]
    # Not yet in force: the rule fires from its date.
    assert _counts(client, chloe) == before

    with clock.frozen_at(CUTOFF):
        assert _counts(client, chloe) == {"reports": 0, "portions": 0, "objects": {}}
        assert_error(client.get(convoy, headers=chloe), 404)
        assert client.get("/api/objects", headers=chloe).json() == {"total": 0, "items": []}
        denied = assert_error(client.get(f"/api/workspaces/{WORKSPACE}", headers=chloe), 403)
        assert denied["rule"] == RULE_ID
        # Only Canadians are cut off.
        assert _counts(client, mateo)["reports"] == 1
        assert client.get(f"/api/workspaces/{WORKSPACE}", headers=mateo).status_code == 200


def test_the_denial_names_only_the_rule_that_fired(client: TestClient, node: Node) -> None:
    year_2030 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    rules = (
        NO_CAN
        + '@id("no-mex-from-2030")\nforbid(principal, action, resource)\n'
        + f'when {{ principal.nation == "MEX" && context.now >= {year_2030} }};\n'
    )
    assert _set_rules(client, node, rules).status_code == 200  # type: ignore[attr-defined]
    with clock.frozen_at(CUTOFF):
        denied = client.get(f"/api/workspaces/{WORKSPACE}", headers=token_headers(node, "chloe.liaison"))
        assert assert_error(denied, 403)["rule"] == RULE_ID
        with node.db.read() as session:
            ws = host.workspace_by_slug(session, WORKSPACE)
            chloe = session.scalar(select(Principal).where(Principal.username == "chloe.liaison"))
            mateo = session.scalar(select(Principal).where(Principal.username == "mateo.enlace"))
            assert chloe is not None and mateo is not None
            assert host.may_enter(session, chloe, ws) == host.Entry(False, RULE_ID, 1)
            assert host.may_enter(session, mateo, ws) == host.Entry(True, None, 1)
            later = datetime(2030, 1, 1, tzinfo=UTC)
            assert host.may_enter(session, mateo, ws, later) == host.Entry(False, "no-mex-from-2030", 1)


@pytest.mark.parametrize("username", ["mex.admin", "ana.analyst"], ids=["foreign-admin", "host-non-admin"])
def test_only_an_admin_of_the_host_nation_may_set_rules(client: TestClient, node: Node, username: str) -> None:
    with node.db.write() as session:
        add_principal(session, "mex.admin", "MEX", "MX-DEMO-FIA", "SECRETA", roles=["admin"])
    refused = assert_error(_set_rules(client, node, NO_CAN, username), 403)
    assert refused["rule"] == "host-admin"
    assert _policy_rows(node) == []
    listing = client.get(POLICY_URL, headers=token_headers(node, username))
    assert assert_error(listing, 403)["rule"] == "host-admin"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('@id("let-everyone-in")\npermit(principal, action, resource);', "may only forbid"),
        ('forbid(principal, action, resource) when { principal.nation == "CAN" };', "@id"),
        ('@id("broken")\nforbid(principal, action, resource) when { principal.nation == ', "syntax"),
        ('@id("t")\nforbid(principal == ?principal, action, resource);', "template"),
    ],
    ids=["permit", "no-id", "syntax-error", "template"],
)
def test_rules_that_could_widen_or_cannot_be_named_are_refused(
    client: TestClient, node: Node, text: str, reason: str
) -> None:
    body = assert_error(_set_rules(client, node, text), 422, field="policy")
    assert any(reason in p["reason"] for p in body["problems"]), body
    assert _policy_rows(node) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('@id("typo")\nforbid(principal, action, resource) when { context.nowx >= 0 };', "nowx"),
        ('@id("no-rank")\nforbid(principal, action, resource) when { principal.rank == "x" };', "rank"),
        ('@id("types")\nforbid(principal, action, resource) when { principal.nation == 840 };', "Long"),
    ],
    ids=["unknown-context-field", "unknown-principal-attribute", "type-mismatch"],
)
def test_a_rule_that_could_not_be_evaluated_is_refused_naming_it(
    client: TestClient, node: Node, text: str, reason: str
) -> None:
    # Cedar skips a forbid whose condition errors: such a rule would never deny anyone.
    body = assert_error(_set_rules(client, node, text), 422, field="policy")
    assert any(reason in p["reason"] for p in body["problems"]), body
    rule_id = text.split('"')[1]
    assert any(rule_id in p["reason"] for p in body["problems"]), body
    assert _policy_rows(node) == []


def test_a_stored_rule_that_errors_when_evaluated_denies(node: Node, demo: Demo) -> None:
    # Rules stored before they were checked against the schema: fail closed, naming the rule.
    with node.db.write() as session:
        ws = host.workspace_by_slug(session, WORKSPACE)
        session.add(
            WorkspacePolicy(
                workspace_id=ws.id,
                version=1,
                policy_text='@id("typo")\nforbid(principal, action, resource) when { context.nowx >= 0 };',
                created_by="adam.admin",
                created_at=clock.now(),
            )
        )
    with node.db.read() as session:
        ws = host.workspace_by_slug(session, WORKSPACE)
        chloe = session.scalar(select(Principal).where(Principal.username == "chloe.liaison"))
        assert chloe is not None
        assert host.may_enter(session, chloe, ws) == host.Entry(False, "typo", 1)


def test_policy_versions_are_listed_for_the_host_admin(client: TestClient, node: Node) -> None:
    assert _set_rules(client, node, NO_CAN).status_code == 200  # type: ignore[attr-defined]
    assert _set_rules(client, node, "").status_code == 200  # type: ignore[attr-defined]
    listing = client.get(POLICY_URL, headers=token_headers(node, "adam.admin"))
    assert listing.status_code == 200
    versions = listing.json()["versions"]
    assert [(v["version"], v["policy"], v["by"]) for v in versions] == [
        (1, NO_CAN, "adam.admin"),
        (2, "", "adam.admin"),
    ]
    # Version 2 lifts the rule: the newest version is the one in force.
    with clock.frozen_at(CUTOFF):
        entry = client.get(f"/api/workspaces/{WORKSPACE}", headers=token_headers(node, "chloe.liaison"))
        assert entry.status_code == 200
        assert entry.json()["policy_version"] == 2


def test_removing_a_membership_removes_access_at_once(client: TestClient, node: Node) -> None:
    chloe = token_headers(node, "chloe.liaison")
    assert _counts(client, chloe)["reports"] == 1
    with node.db.write() as session:
        ws = host.workspace_by_slug(session, WORKSPACE)
        member = session.scalar(select(Principal).where(Principal.username == "chloe.liaison"))
        assert member is not None
        host.remove_member(session, ws, member)
    assert _counts(client, chloe) == {"reports": 0, "portions": 0, "objects": {}}
    assert assert_error(client.get(f"/api/workspaces/{WORKSPACE}", headers=chloe), 403)["rule"] == "not-a-member"


def test_an_unknown_workspace_is_404(client: TestClient, node: Node) -> None:
    assert_error(client.get("/api/workspaces/fc-nowhere", headers=token_headers(node, "chloe.liaison")), 404)
