"""Log-ins: argon2id passwords, session tokens that expire, and API bearer tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Principal
from tearline.fixtures import Demo
from tearline.node import Node
from tests.web.support import assert_error, login, token_headers


def test_login_checks_an_argon2id_hash_and_returns_a_session_token(client: TestClient, node: Node) -> None:
    headers = login(client, "mateo.enlace")
    me = client.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["nation"], me.json()["agency"]) == (
        "mateo.enlace",
        "MEX",
        "MX-DEMO-FIA",
    )
    with node.db.read() as session:
        stored = session.scalar(select(Principal.password_hash).where(Principal.username == "mateo.enlace"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert Demo.passwords()["mateo.enlace"] not in stored


def test_the_session_cookie_also_authenticates(client: TestClient) -> None:
    response = client.post("/api/login", json={"username": "ana.analyst", "password": "demo-ana-2026"})
    assert response.status_code == 200
    assert client.get("/api/me").json()["username"] == "ana.analyst"


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient) -> None:
    wrong = client.post("/api/login", json={"username": "ana.analyst", "password": "not-her-password"})
    unknown = client.post("/api/login", json={"username": "nobody.here", "password": "not-her-password"})
    assert_error(wrong, 401)
    assert_error(unknown, 401)
    assert wrong.json() == unknown.json()
    assert "tearline_session" not in client.cookies


def test_a_bearer_token_from_issue_token_reads_as_its_principal(client: TestClient, node: Node) -> None:
    me = client.get("/api/me", headers=token_headers(node, "chloe.liaison"))
    assert me.status_code == 200
    assert me.json()["username"] == "chloe.liaison"
    assert me.json()["nation"] == "CAN"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer tl_not-a-token"}, {"Authorization": "Basic YW5hOmRlbW8="}],
    ids=["no-token", "unknown-token", "not-bearer"],
)
def test_requests_without_a_valid_token_get_401(client: TestClient, headers: dict[str, str]) -> None:
    for path in ("/api/reports", "/api/counts", "/api/objects", "/api/me"):
        assert_error(client.get(path, headers=headers), 401)


def test_an_expired_session_token_gets_401(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEARLINE_SESSION_MINUTES", raising=False)
    issued = clock.now()
    with clock.frozen_at(issued):
        headers = login(client, "ana.analyst")
    with clock.frozen_at(issued + timedelta(minutes=29)):
        assert client.get("/api/reports", headers=headers).status_code == 200
    with clock.frozen_at(issued + timedelta(minutes=30, seconds=1)):
        body = assert_error(client.get("/api/reports", headers=headers), 401)
    assert "expired" in body["message"]


def test_api_tokens_do_not_expire_with_sessions(client: TestClient, node: Node) -> None:
    headers = token_headers(node, "ana.analyst")
    with clock.frozen_at(clock.now() + timedelta(days=30)):
        assert client.get("/api/reports", headers=headers).status_code == 200
