"""A statement over the API's bound on a console form is a 422 naming its field, and nothing is stored
(SQLite and PostgreSQL): recall reasons, denial reasons, determinations and consent notes; so is a
consent decision other than grant or refuse."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tearline.db.release_tables import ConsentRequest, Release, ReleaseApproval, ReleaseRecall, ReleaseRequest
from tearline.fixtures import Demo, request_convoy_release
from tearline.node import Node
from tearline.release.consents import receive_consent_request
from tearline.store.content import version_content
from tearline.web.routes_release import STATEMENT_LIMIT
from tests.console.test_sessions import log_in
from tests.web.test_console_page_banners import _release_convoy

TOO_LONG = "x" * (STATEMENT_LIMIT + 1)
CONSENT_REQUEST = "consent-request--1b2c3d4e-0000-4000-8000-000000000003"


def _count(node: Node, table: type) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    assert f"{field}:" in response.text and "4000" in response.text


def test_a_too_long_decision_on_a_release_request_is_refused_naming_its_field(
    client: TestClient, node: Node, demo: Demo
) -> None:
    request_id = request_convoy_release(node, demo)
    csrf = log_in(client, "dan.disclosure")
    approval = {"csrf": csrf, "determination": TOO_LONG}
    _refused(client.post(f"/review/{request_id}/approve", data=approval), "determination")
    _refused(client.post(f"/review/{request_id}/deny", data={"csrf": csrf, "reason": TOO_LONG}), "reason")
    assert _count(node, ReleaseApproval) == 0
    with node.db.read() as session:
        assert session.scalar(select(ReleaseRequest.state).where(ReleaseRequest.id == request_id)) == "requested"


def test_a_too_long_recall_reason_is_refused_naming_its_field(client: TestClient, node: Node, demo: Demo) -> None:
    _release_convoy(node, demo)
    with node.db.read() as session:
        release = session.scalar(select(Release.id))
    csrf = log_in(client, "dan.disclosure")
    _refused(client.post(f"/releases/{release}/recall", data={"csrf": csrf, "reason": TOO_LONG}), "reason")
    assert _count(node, ReleaseRecall) == 0


def _incoming_consent_request(node: Node, demo: Demo) -> None:
    with node.db.write() as session:
        content = version_content(session, demo.reports["convoy"])
        item = next(i.hash for i in content.items if "port of Vancouver" in i.text)
        request = {
            "id": CONSENT_REQUEST,
            "requester": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
            "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
            "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
            "item_hashes": [item],
            "purpose": "Pass the port contact to the Canadian border agency (fictional).",
        }
        receive_consent_request(session, node, request)


def test_a_too_long_consent_note_is_refused_naming_its_field(client: TestClient, node: Node, demo: Demo) -> None:
    _incoming_consent_request(node, demo)
    csrf = log_in(client, "dan.disclosure")
    for decision in ("grant", "refuse"):
        form = {"csrf": csrf, "decision": decision, "expires": "2099-01-01", "note": TOO_LONG}
        _refused(client.post(f"/consent/{CONSENT_REQUEST}/answer", data=form), "note")
    with node.db.read() as session:
        assert session.scalar(select(ConsentRequest.state).where(ConsentRequest.id == CONSENT_REQUEST)) == "pending"


def test_a_consent_decision_other_than_grant_or_refuse_is_refused(client: TestClient, node: Node, demo: Demo) -> None:
    _incoming_consent_request(node, demo)
    csrf = log_in(client, "dan.disclosure")
    for decision in ("maybe", "Grant"):
        form = {"csrf": csrf, "decision": decision, "expires": "2099-01-01", "note": "why not"}
        response = client.post(f"/consent/{CONSENT_REQUEST}/answer", data=form)
        assert response.status_code == 422 and "decision: must be grant or refuse" in response.text
    with node.db.read() as session:
        assert session.scalar(select(ConsentRequest.state).where(ConsentRequest.id == CONSENT_REQUEST)) == "pending"
