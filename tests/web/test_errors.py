"""Every error is JSON: a code and a message, the rule for a refusal, and field and reason for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import WORKSPACE
from tearline.node import Node
from tests.web.conftest import Scenario
from tests.web.support import MISSING_REPORT, assert_error, token_headers

# (method, path, username or None, JSON body, status, the field a 422 must name)
CASES: list[tuple[str, str, str | None, Any, int, str | None]] = [
    ("GET", "/api/reports", None, None, 401, None),
    ("POST", "/api/login", None, {"username": "ana.analyst", "password": "nope"}, 401, None),
    ("POST", "/api/login", None, {"username": "ana.analyst"}, 422, "password"),
    ("GET", f"/api/reports/{MISSING_REPORT}", "ana.analyst", None, 404, None),
    ("GET", "/api/workspaces/fc-nowhere", "ana.analyst", None, 404, None),
    ("GET", f"/api/workspaces/{WORKSPACE}/policy", "ana.analyst", None, 403, None),
    ("PUT", "/api/equivalence", "ana.analyst", {"agreements": []}, 403, None),
    ("GET", "/api/search?bbox=1,2,3", "ana.analyst", None, 422, "query.bbox"),
    ("GET", "/api/objects?limit=0", "ana.analyst", None, 422, "query.limit"),
    ("GET", "/api/reports?offset=-1", "ana.analyst", None, 422, "query.offset"),
    ("POST", "/api/reports", "ana.analyst", {"title": "no"}, 422, "title"),
    ("POST", "/api/reports", "ana.analyst", "not json at all", 422, None),
]


@pytest.fixture
def client(scenario: Scenario) -> TestClient:
    return scenario.client


@pytest.fixture
def node(scenario: Scenario) -> Node:
    return scenario.node


@pytest.mark.parametrize(
    ("method", "path", "username", "body", "status", "field"),
    CASES,
    ids=[f"{c[4]}-{c[0]}-{c[1].split('?')[0].removeprefix('/api/')}" for c in CASES],
)
def test_each_error_is_json_with_a_code_a_message_and_for_bad_input_the_field(
    client: TestClient,
    node: Node,
    method: str,
    path: str,
    username: str | None,
    body: Any,
    status: int,
    field: str | None,
) -> None:
    headers = token_headers(node, username) if username else {}
    if isinstance(body, str):
        response = client.request(method, path, content=body, headers={**headers, "content-type": "application/json"})
    else:
        response = client.request(method, path, json=body, headers=headers)
    payload = assert_error(response, status, field)
    if status == 403:
        assert payload["rule"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/no-such-path"), ("DELETE", "/api/reports")])
def test_unrouted_requests_answer_in_the_same_error_shape(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code in (404, 405)
    assert set(response.json()) >= {"error", "message"}
