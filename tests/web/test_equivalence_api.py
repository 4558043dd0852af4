"""PUT /api/equivalence: an admin of this node stores a new version; partners' columns need their signature."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.audit.keys import generate_key, parse_signer_key
from tearline.audit.note import sign_note
from tearline.federation.equivalence import canonical_text, table_from_json
from tearline.federation.peers import add_peer
from tearline.fixtures import WORKSPACE
from tearline.node import Node
from tearline.policy.host import add_member, workspace_by_slug
from tearline.store.principals import add_principal
from tests.web.support import assert_error, token_headers


def _table(client: TestClient, node: Node) -> dict[str, Any]:
    response = client.get("/api/equivalence", headers=token_headers(node, "ana.analyst"))
    assert response.status_code == 200
    return dict(response.json())


def _with(table: dict[str, Any], nation: str, label: str, level: int) -> dict[str, Any]:
    changed = copy.deepcopy(table)
    changed["agreements"][0]["columns"][nation][label] = level
    return changed


def test_an_admin_changes_our_column_and_decisions_follow_at_once(client: TestClient, node: Node) -> None:
    with node.db.write() as session:
        lucia = add_principal(session, "lucia.confidencial", "MEX", "MX-DEMO-FIA", "CONFIDENCIAL")
        add_member(session, workspace_by_slug(session, WORKSPACE), lucia)
    lucia_headers = token_headers(node, "lucia.confidencial")
    assert client.get("/api/counts", headers=lucia_headers).json()["reports"] == 0
    table = _table(client, node)
    assert table["version"] == 1

    put = client.put(
        "/api/equivalence", json=_with(table, "USA", "SECRET", 2), headers=token_headers(node, "adam.admin")
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"version": 2, "signed_by": []}
    now = _table(client, node)
    assert now["version"] == 2
    assert now["agreements"][0]["columns"]["USA"]["SECRET"] == 2
    # USA SECRET now sits at common level 2: a Mexican CONFIDENCIAL reader sees the convoy report.
    assert client.get("/api/counts", headers=lucia_headers).json()["reports"] == 1


@pytest.mark.parametrize(("nation", "label"), [("MEX", "SECRETA"), ("CAN", "PROTECTED B")], ids=["mex", "can"])
def test_a_change_to_a_partners_column_is_refused_without_its_signature(
    client: TestClient, node: Node, nation: str, label: str
) -> None:
    table = _table(client, node)
    response = client.put(
        "/api/equivalence", json=_with(table, nation, label, 0), headers=token_headers(node, "adam.admin")
    )
    assert assert_error(response, 403)["rule"] == "equivalence-partner-signature"
    assert _table(client, node)["version"] == 1


def test_only_an_admin_of_this_nation_may_change_the_table(client: TestClient, node: Node) -> None:
    with node.db.write() as session:
        add_principal(session, "mex.admin", "MEX", "MX-DEMO-FIA", "SECRETA", roles=["admin"])
    table = _with(_table(client, node), "USA", "SECRET", 2)
    for username in ("ana.analyst", "mex.admin"):
        response = client.put("/api/equivalence", json=table, headers=token_headers(node, username))
        assert assert_error(response, 403)["rule"] == "admin-role"
    assert _table(client, node)["version"] == 1


@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        (lambda table: {"agreements": [{"name": "x"}]}, "agreements"),
        (lambda table: {"agreements": "all of them"}, "agreements"),
        (lambda table: _with(table, "USA", "SECRET-ISH", 3), "columns.USA"),
    ],
    ids=["agreement-without-columns", "not-a-list", "unknown-label"],
)
def test_a_malformed_table_is_422_naming_the_field(
    client: TestClient, node: Node, make_body: Callable[[dict[str, Any]], Any], field: str
) -> None:
    body = make_body(_table(client, node))
    response = client.put("/api/equivalence", json=body, headers=token_headers(node, "adam.admin"))
    assert_error(response, 422, field=field)
    assert _table(client, node)["version"] == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda agreement: agreement.update(ceiling=4),
        lambda agreement: agreement.update(nations=["USA", "CAN"]),
    ],
    ids=["raise-ceiling", "drop-a-nation"],
)
def test_a_change_to_the_agreement_itself_needs_the_partners_signatures(
    client: TestClient, node: Node, change: Callable[[dict[str, Any]], None]
) -> None:
    table = copy.deepcopy(_table(client, node))
    change(table["agreements"][0])
    response = client.put("/api/equivalence", json=table, headers=token_headers(node, "adam.admin"))
    assert assert_error(response, 403)["rule"] == "equivalence-partner-signature"


def test_a_partners_signature_lets_its_column_change_and_a_bad_one_is_422(client: TestClient, node: Node) -> None:
    signer_key, vkey = generate_key("tearline.mex.mx-demo-fia/log")
    with node.db.write() as session:
        add_peer(session, node, "MEX", "MX-DEMO-FIA", "http://127.0.0.1:9", vkey)
    table = _with(_table(client, node), "MEX", "SECRETA", 2)
    note = sign_note(canonical_text(table_from_json(table)), [parse_signer_key(signer_key)])
    line = note.splitlines()[-1]
    admin = token_headers(node, "adam.admin")
    bad = client.put("/api/equivalence", json={**table, "signatures": [line[:-8] + "AAAAAAA="]}, headers=admin)
    assert "does not verify" in assert_error(bad, 422, field="signatures")["problems"][0]["reason"]
    put = client.put("/api/equivalence", json={**table, "signatures": [line]}, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json() == {"version": 2, "signed_by": ["MEX"]}
