"""Release request bodies: every refusal a 4xx naming the field and the reason, and nothing stored.

Unknown fields are refused, never ignored; a recipient nation that is not a partner, or not written
as its code, is refused up front (DESIGN §3.2: reject, never normalise); statements are bounded; an
expiry past the record's review date is refused (28 CFR Part 23); a recall records its reason like a
denial does. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tearline import clock
from tearline.db.release_tables import ConsentRequest, Release, ReleaseRecall, ReleaseRequest
from tearline.fixtures import Demo
from tearline.node import Node
from tearline.web.routes_release import STATEMENT_LIMIT
from tests.web.conftest import Scenario
from tests.web.support import assert_error, token_headers

DETERMINATION = "Sharing does not threaten national security: no sources or methods leave."


def _count(node: Node, model: Any) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _reason(body: dict[str, Any], field: str) -> str:
    return str(next(p["reason"] for p in body["problems"] if p["field"] == field))


def _body(demo: Demo, **overrides: Any) -> dict[str, Any]:
    body = {
        "report": demo.reports["convoy"],
        "recipient": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "purpose": "Interdiction at Jiménez",
        "need_to_know": "FIA analysts on the Highway 49 corridor",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"approvers": ["dan.disclosure"]}, "approvers", "not a field of a release request"),
        ({"kept": ["portion-1"]}, "kept", "not a field of a release request"),
        ({"recipient": {"nation": "MEX", "agncy": "MX-DEMO-UIS"}}, "recipient.agncy", "not a field of a recipient"),
        ({"recipient": {"nation": "GBR"}}, "recipient.nation", "'GBR' is not a configured partner"),
        ({"recipient": {"nation": "USA"}}, "recipient.nation", "own nation"),
        ({"recipient": {"nation": "mex", "agency": "MX-DEMO-FIA"}}, "recipient.nation", "[A-Z]{3}"),
        ({"purpose": "x" * 200_000}, "purpose", f"at most {STATEMENT_LIMIT} characters"),
        ({"need_to_know": "x" * (STATEMENT_LIMIT + 1)}, "need_to_know", f"at most {STATEMENT_LIMIT} characters"),
        (
            {"expires_at": (clock.now() + timedelta(days=400)).isoformat()},
            "expires_at",
            "later than the record's review date",
        ),
    ],
)
def test_a_release_request_refusal_names_the_field_and_stores_nothing(
    scenario: Scenario, overrides: dict[str, Any], field: str, reason: str
) -> None:
    client, node = scenario.client, scenario.node
    before = _count(node, ReleaseRequest)

    response = client.post(
        "/api/release-requests", json=_body(scenario.demo, **overrides), headers=token_headers(node, "ana.analyst")
    )

    found = assert_error(response, 422, field)
    assert reason in _reason(found, field), found
    assert _count(node, ReleaseRequest) == before


def test_the_review_date_bound_leaves_a_hidden_report_a_404(scenario: Scenario) -> None:
    """The expiry check reads the record's review date only after the report is found readable."""
    node = scenario.node
    late = (clock.now() + timedelta(days=400)).isoformat()
    response = scenario.client.post(
        "/api/release-requests",
        json=_body(scenario.demo, report="report--00000000-0000-4000-8000-000000000000", expires_at=late),
        headers=token_headers(node, "ana.analyst"),
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("path", "body", "field", "noun"),
    [
        ("/approve", {"determination": DETERMINATION, "approvers": ["dora.disclosure"]}, "approvers", "an approval"),
        ("/approve", {"determination": DETERMINATION, "reason": "why not"}, "reason", "an approval"),
        ("/approve", {"determination": "x" * (STATEMENT_LIMIT + 1)}, "determination", None),
        ("/deny", {"reason": "Operation still covert", "kept": []}, "kept", "this decision"),
        ("/deny", {"reason": "x" * 200_000}, "reason", None),
        ("/consent", {"purpose": "Vetted-unit briefing", "recipient": "GBR"}, "recipient", "a consent request"),
        ("/consent", {"purpose": "x" * (STATEMENT_LIMIT + 1)}, "purpose", None),
    ],
)
def test_decision_bodies_refuse_unknown_fields_and_long_statements(
    scenario: Scenario, path: str, body: dict[str, Any], field: str, noun: str | None
) -> None:
    client, node = scenario.client, scenario.node
    opened = client.post("/api/release-requests", json=_body(scenario.demo), headers=token_headers(node, "ana.analyst"))
    assert opened.status_code == 201, opened.text
    request_id = opened.json()["id"]
    before = {model: _count(node, model) for model in (Release, ConsentRequest)}

    response = client.post(
        f"/api/release-requests/{request_id}{path}", json=body, headers=token_headers(node, "dan.disclosure")
    )

    found = assert_error(response, 422, field)
    if noun:
        assert f"not a field of {noun}" in _reason(found, field)
    else:
        assert f"at most {STATEMENT_LIMIT} characters" in _reason(found, field)
    assert {model: _count(node, model) for model in (Release, ConsentRequest)} == before
    review = client.get(f"/api/release-requests/{request_id}/review", headers=token_headers(node, "dan.disclosure"))
    assert review.json()["state"] == "requested"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/consent-requests/some-request/answer", {"grant": False, "reason": "no"}, "reason"),
        ("/api/consents/some-consent/revoke", {"reason": "compromised", "why": "x"}, "why"),
        ("/api/releases/some-release/recall", {"reason": "compromised", "determination": "x"}, "determination"),
    ],
)
def test_consent_and_recall_bodies_refuse_unknown_fields(
    scenario: Scenario, path: str, body: dict[str, Any], field: str
) -> None:
    response = scenario.client.post(path, json=body, headers=token_headers(scenario.node, "dan.disclosure"))
    assert "not a field of" in _reason(assert_error(response, 422, field), field)


def test_a_recall_records_its_reason(client: TestClient, demo: Demo, node: Node) -> None:
    ana, dan, dora = (token_headers(node, u) for u in ("ana.analyst", "dan.disclosure", "dora.disclosure"))
    request_id = client.post("/api/release-requests", json=_body(demo), headers=ana).json()["id"]
    for officer in (dan, dora):
        approved = client.post(
            f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=officer
        )
        assert approved.status_code == 200, approved.text
    release = approved.json()["release"]["id"]

    for body in ({}, {"reason": ""}, {"reason": "   "}):
        found = assert_error(client.post(f"/api/releases/{release}/recall", json=body, headers=dan), 422, "reason")
        assert "reason" in _reason(found, "reason")
    assert _count(node, ReleaseRecall) == 0
    # An analyst is refused for the role first, whatever the body says.
    assert_error(client.post(f"/api/releases/{release}/recall", json={}, headers=ana), 403)

    recalled = client.post(f"/api/releases/{release}/recall", json={"reason": "Source compromised"}, headers=dan)
    assert recalled.status_code == 200, recalled.text
    with node.db.read() as session:
        row = session.get(ReleaseRecall, release)
        assert row is not None and row.reason == "Source compromised"
