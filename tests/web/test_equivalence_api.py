"""PUT /api/equivalence: an admin of this node stores a new version; partners' columns need their signature."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.audit import log
from tearline.audit.note import parse_note, sign_note
from tearline.audit.search import Query, search
from tearline.federation.equivalence import (
    ACTION,
    SEQUENCE_RULE,
    UNBOUND_HEADER,
    Succession,
    sign_table,
    table_from_json,
)
from tearline.federation.peers import add_peer
from tearline.fixtures import WORKSPACE
from tearline.node import Node, init_node
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


@pytest.fixture
def mexico(node: Node, tmp_path: Path) -> Iterator[Node]:
    """The Mexican partner: its own node made as `tearline init` makes one, registered here as a peer."""
    partner = init_node(tmp_path / "mex", "MEX", "MX-DEMO-FIA")
    with node.db.write() as session:
        add_peer(session, node, "MEX", "MX-DEMO-FIA", "http://127.0.0.1:9", log.verifier_key(partner))
    yield partner
    partner.close()


def _signed(partner: Node, table: dict[str, Any], shown: dict[str, Any], replaces: int | None = None) -> str:
    """The partner's signature line over the table, for the node and version `GET /api/equivalence` showed."""
    successor_of = Succession(shown["origin"], shown["version"] if replaces is None else replaces)
    return sign_table(partner, table_from_json(table), successor_of)


def _put(client: TestClient, node: Node, table: dict[str, Any], *lines: str) -> Any:
    return client.put(
        "/api/equivalence", json={**table, "signatures": list(lines)}, headers=token_headers(node, "adam.admin")
    )


def _refusals(node: Node) -> list[str | None]:
    with node.db.read() as session:
        page = search(session, Query(actor="adam.admin@US-DEMO-NARC", action=ACTION, outcome="denied"))
    return [hit.event.rule for hit in page.hits]


def test_a_partners_signature_lets_its_column_change_and_a_bad_one_is_422(
    client: TestClient, node: Node, mexico: Node
) -> None:
    shown = _table(client, node)
    assert shown["origin"] == "tearline.usa.us-demo-narc/log"
    table = _with(shown, "MEX", "SECRETA", 2)
    line = _signed(mexico, table, shown)
    bad = _put(client, node, table, line[:-8] + "AAAAAAA=")
    assert "does not verify" in assert_error(bad, 422, field="signatures")["problems"][0]["reason"]
    put = _put(client, node, table, line)
    assert put.status_code == 200, put.text
    assert put.json() == {"version": 2, "signed_by": ["MEX"]}


def test_a_replayed_signature_is_refused_naming_the_version_it_replaced(
    client: TestClient, node: Node, mexico: Node
) -> None:
    first = _table(client, node)
    relaxed = _with(first, "MEX", "SECRETA", 2)
    replayable = _signed(mexico, relaxed, first)
    assert _put(client, node, relaxed, replayable).json()["version"] == 2
    # Mexico then signs a stricter table, which replaces the relaxed one...
    second = _table(client, node)
    strict = _with(second, "MEX", "SECRETA", 4)
    assert _put(client, node, strict, _signed(mexico, strict, second)).json()["version"] == 3
    # ...and its earlier signature cannot bring the relaxed table back.
    replay = _put(client, node, relaxed, replayable)
    body = assert_error(replay, 422, field="signatures")
    reason = body["problems"][0]["reason"]
    assert "tearline.mex.mx-demo-fia/log" in reason and "MEX" in reason
    assert "signed to replace v1, but v3 is in force: ask for a new signature" in reason
    assert body["rule"] == SEQUENCE_RULE
    assert _table(client, node)["version"] == 3
    assert _refusals(node) == [SEQUENCE_RULE]


@pytest.mark.parametrize("off_by", [-1, 1], ids=["an-older-version", "a-later-version"])
def test_a_signature_for_another_version_is_refused_and_audited(
    client: TestClient, node: Node, mexico: Node, off_by: int
) -> None:
    shown = _table(client, node)
    table = _with(shown, "MEX", "SECRETA", 2)
    wrong = shown["version"] + off_by
    refused = _put(client, node, table, _signed(mexico, table, shown, replaces=wrong))
    reason = assert_error(refused, 422, field="signatures")["problems"][0]["reason"]
    assert f"signed to replace v{wrong}, but v{shown['version']} is in force" in reason
    assert _table(client, node)["version"] == shown["version"]
    assert _refusals(node) == [SEQUENCE_RULE]


def test_a_signature_in_the_old_form_binds_no_version_and_is_refused(
    client: TestClient, node: Node, mexico: Node
) -> None:
    shown = _table(client, node)
    table = _with(shown, "MEX", "SECRETA", 2)
    agreements = [a.as_dict() for a in table_from_json(table).agreements]
    old_text = f"{UNBOUND_HEADER}\n{json.dumps(agreements, sort_keys=True, separators=(',', ':'))}\n"
    line = parse_note(sign_note(old_text, [log.node_log_signer(mexico)])).signatures[0].line()
    reason = assert_error(_put(client, node, table, line), 422, field="signatures")["problems"][0]["reason"]
    assert "old form" in reason and "ask for a new signature" in reason
