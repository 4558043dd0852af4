"""NUL (U+0000) in a request: PostgreSQL text cannot hold it, so every database refuses it alike, with a 422.

Before, such a request reached a query or an insert: a 500 on PostgreSQL while SQLite stored it,
and in the audit log's search columns it failed a whole group of reads.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tearline.audit.log import log_size
from tearline.db.models import Report
from tearline.node import Node
from tests.web.conftest import Scenario
from tests.web.support import assert_error, report_body, token_headers

# (method, path, JSON body, the field the 422 names)
CASES: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/reports/report--%00", None, "path"),
    ("GET", "/api/objects?type=person%00", None, "query.type"),
    ("GET", "/api/search?q=ok&type=x%00", None, "query.type"),
    ("GET", "/api/audit/search?actor=a%00b", None, "query.actor"),
    ("POST", "/api/reports", report_body(["para\x00graph"]), "body.portions.0.text"),
    ("POST", "/api/login", {"username": "ana.analyst\x00", "password": "x"}, "body.username"),
]
FORM_FIELDS = {"username": "ana.analyst\x00", "password": "x"}


def _reports(node: Node) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES, ids=[c[3] for c in CASES])
def test_nul_anywhere_in_a_request_is_a_422_naming_where_and_nothing_is_stored(
    scenario: Scenario, method: str, path: str, body: Any, field: str
) -> None:
    client, node = scenario.client, scenario.node
    before = _reports(node)
    response = client.request(method, path, json=body, headers=token_headers(node, "carla.auditor"))
    problems = assert_error(response, 422, field)["problems"]
    assert {p["reason"] for p in problems} == {"must not contain NUL (U+0000)"}
    assert _reports(node) == before


def test_a_console_form_holding_nul_is_a_422_naming_the_field(scenario: Scenario) -> None:
    response = scenario.client.post("/login", data=FORM_FIELDS, follow_redirects=False)
    assert_error(response, 422, "form.username")


def test_the_text_backslash_u0000_is_not_a_nul_and_is_stored(scenario: Scenario) -> None:
    """Only a real NUL is refused: JSON's escaped backslash before `u0000` is six plain characters."""
    client, node = scenario.client, scenario.node
    response = client.post(
        "/api/reports", json=report_body([r"path C:\u0000 in a log"]), headers=token_headers(node, "ana.analyst")
    )
    assert response.status_code == 201, response.text
    view = client.get(f"/api/reports/{response.json()['id']}", headers=token_headers(node, "ana.analyst")).json()
    assert r"path C:\u0000 in a log" in [portion["text"] for portion in view["portions"]]


def test_a_refused_nul_leaves_the_audit_log_appending(scenario: Scenario) -> None:
    client, node = scenario.client, scenario.node
    with node.db.read() as session:
        size = log_size(session)
    assert client.get("/api/objects?type=%00", headers=token_headers(node, "ana.analyst")).status_code == 422
    assert client.get("/api/reports", headers=token_headers(node, "ana.analyst")).status_code == 200
    with node.db.read() as session:
        assert log_size(session) > size
