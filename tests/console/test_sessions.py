"""Console sessions in-process: log-in, CSRF on every change, log-out, expiry; audited reads; consent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tearline import clock
from tearline.audit.search import Query, search
from tearline.fixtures import Demo, build_demo
from tearline.node import Node
from tearline.release.consents import receive_consent_request
from tearline.store.content import version_content
from tearline.web.app import create_app
from tests.web.support import MISSING_REPORT, quick_settings

CONVOY = "report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01"


@pytest.fixture
def client(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    quick_settings(monkeypatch)
    monkeypatch.delenv("TEARLINE_SESSION_MINUTES", raising=False)
    build_demo(node, pending_release=True)
    yield TestClient(create_app(node))


def log_in(client: TestClient, username: str) -> str:
    """Log in through the form; returns the session's CSRF token, read from a page as a script would."""
    form = client.get("/login")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert nonce is not None
    data = {"username": username, "password": Demo.passwords()[username], "csrf": nonce.group(1), "next": "/inbox"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/inbox"
    token = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert token is not None
    return token.group(1)


def actions_of(node: Node, actor: str) -> list[tuple[str, str, str | None]]:
    with node.db.read() as session:
        hits = search(session, Query(actor=actor, limit=500)).hits
    return [(h.event.action, h.event.outcome, h.event.rule) for h in hits]


def test_a_page_without_a_session_goes_to_the_log_in_form(client: TestClient) -> None:
    response = client.get(f"/reports/{CONVOY}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Freports%2F{CONVOY}"


def test_the_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    log_in(client, "ana.analyst")
    cookie = next(c for c in client.cookies.jar if c.name == "tearline_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert (cookie.get_nonstandard_attr("SameSite") or "").lower() == "strict"


def test_a_log_in_form_posted_from_elsewhere_is_refused(client: TestClient) -> None:
    data = {"username": "ana.analyst", "password": Demo.passwords()["ana.analyst"], "csrf": "forged"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "tearline_session" not in client.cookies


def test_a_wrong_password_shows_the_form_again(client: TestClient) -> None:
    form = client.get("/login")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert nonce is not None
    data = {"username": "ana.analyst", "password": "not-her-password", "csrf": nonce.group(1)}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 401 and 'data-testid="login-error"' in response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/logout", None),
        ("/console/banner", {"markings": []}),
        ("/api/reports", {}),
        ("/review/1/deny", None),
    ],
    ids=["logout-form", "console-json", "api-with-cookie", "decision-form"],
)
def test_a_change_without_the_csrf_token_is_refused_and_logged(
    client: TestClient, node: Node, path: str, body: dict[str, object] | None
) -> None:
    log_in(client, "dan.disclosure")
    response = client.post(path, json=body) if body is not None else client.post(path, data={"reason": "x"})
    assert response.status_code == 403
    assert ("auth", "denied", "csrf") in actions_of(node, "dan.disclosure@US-DEMO-NARC")
    assert client.get("/inbox", follow_redirects=False).status_code == 200  # still logged in


def test_another_sessions_csrf_token_does_not_pass(client: TestClient, node: Node) -> None:
    other = TestClient(create_app(node))
    stolen = log_in(other, "ana.analyst")
    log_in(client, "ana.analyst")
    assert client.post("/console/banner", json={"markings": []}, headers={"X-CSRF-Token": stolen}).status_code == 403


def test_with_its_token_a_cookie_session_may_write_through_the_api(client: TestClient) -> None:
    csrf = log_in(client, "ana.analyst")
    marking = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA"]}
    response = client.post("/console/banner", json={"markings": [marking]}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json()["banner"] == "SECRET//NOFORN"


def test_log_out_revokes_the_session_on_the_node(client: TestClient) -> None:
    csrf = log_in(client, "ana.analyst")
    token = client.cookies["tearline_session"]
    response = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    client.cookies.set("tearline_session", token)  # a copy of the cookie kept elsewhere
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_expired_session_goes_back_to_the_log_in_form_saying_so(client: TestClient) -> None:
    issued = clock.now()
    with clock.frozen_at(issued):
        log_in(client, "ana.analyst")
    with clock.frozen_at(issued + timedelta(minutes=29)):
        assert client.get("/inbox", follow_redirects=False).status_code == 200
    with clock.frozen_at(issued + timedelta(minutes=30, seconds=1)):
        response = client.get("/inbox", follow_redirects=False)
        assert response.status_code == 303 and "expired=1" in response.headers["location"]
        assert 'data-testid="expired"' in client.get(response.headers["location"]).text


def test_a_hidden_report_answers_exactly_like_a_missing_one(client: TestClient) -> None:
    log_in(client, "adam.admin")  # cleared for CUI only: every item of the SECRET convoy report is hidden
    hidden = client.get(f"/reports/{CONVOY}")
    missing = client.get(f"/reports/{MISSING_REPORT}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text


def test_a_page_read_is_the_apis_audited_read(client: TestClient, node: Node) -> None:
    log_in(client, "ana.analyst")
    page = client.get(f"/reports/{CONVOY}")
    assert page.status_code == 200
    banner = re.search(r'data-testid="banner-top">([^<]+)<', page.text)
    assert banner is not None and banner.group(1) == "SECRET//VU-HALCON//LES//NOFORN"
    with node.db.read() as session:
        hits = search(session, Query(object_id=CONVOY, action="report.read", limit=10)).hits
    assert [(h.event.actor, h.event.marking) for h in hits] == [("ana.analyst@US-DEMO-NARC", banner.group(1))]


def test_the_editor_requires_a_need_to_know_statement(client: TestClient) -> None:
    csrf = log_in(client, "ana.analyst")
    marking = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA"]}
    body = {
        "title": {"text": "Cash couriers", "marking": marking},
        "portions": [{"text": "Couriers cross on Fridays.", "marking": marking}],
        "predicate": "Reasonable suspicion (fictional).",
        "need_to_know": " ",
        "review_due": (clock.now() + timedelta(days=90)).isoformat(),
    }
    response = client.post("/console/reports", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["need_to_know"]


def test_an_incoming_consent_request_is_granted_with_scope_and_expiry(client: TestClient, node: Node) -> None:
    with node.db.write() as session:
        content = version_content(session, CONVOY)
        item = next(i.hash for i in content.items if "port of Vancouver" in i.text)
        receive_consent_request(
            session,
            node,
            {
                "id": "consent-request--1b2c3d4e-0000-4000-8000-000000000001",
                "requester": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
                "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
                "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
                "item_hashes": [item],
                "purpose": "Pass the port contact to the Canadian border agency (fictional).",
            },
        )
    csrf = log_in(client, "dan.disclosure")
    page = client.get("/consent")
    assert 'data-testid="grant"' in page.text and "CA-DEMO-BORDER" in page.text
    assert "meets a contact at the port of Vancouver" in page.text  # what is asked, as dan may see it
    assert ("consent.items", "allowed", None) in actions_of(node, "dan.disclosure@US-DEMO-NARC")
    expires = (clock.now() + timedelta(days=30)).date().isoformat()
    answer = client.post(
        "/consent/consent-request--1b2c3d4e-0000-4000-8000-000000000001/answer",
        data={"csrf": csrf, "decision": "grant", "expires": expires, "note": "30 days"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert 'data-state="granted">granted<' in client.get("/consent").text
    assert ("consent.grant", "allowed", None) in actions_of(node, "dan.disclosure@US-DEMO-NARC")


def test_a_new_report_from_the_editor_is_stored_and_read_back(client: TestClient) -> None:
    csrf = log_in(client, "ana.analyst")
    us_mx = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}
    body = {
        "title": {"text": "Cash couriers on the Nogales corridor", "marking": us_mx},
        "portions": [{"text": "Couriers cross at Nogales on Fridays.", "marking": {**us_mx, "controls": ["LES"]}}],
        "predicate": "Reasonable suspicion of bulk cash smuggling (fictional).",
        "need_to_know": "Analysts of the Nogales corridor.",
        "review_due": (clock.now() + timedelta(days=90)).isoformat(),
    }
    assert 'id="editor"' in client.get("/reports/new").text
    created = client.post("/console/reports", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    page = client.get(f"/reports/{created.json()['id']}")
    banner = re.search(r'data-testid="banner-top">([^<]+)<', page.text)
    assert banner is not None and banner.group(1) == "SECRET//LES//REL TO USA, MEX"
    assert "(SECRET//LES//REL TO USA, MEX)" in page.text


def test_pages_load_only_the_nodes_own_assets(client: TestClient) -> None:
    """Closed networks: no CDN. The policy header makes the browser refuse anything from elsewhere."""
    log_in(client, "ana.analyst")
    page = client.get("/map")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    for asset in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/world-atlas/countries-50m.json"):
        assert client.get(asset).status_code == 200, f"{asset} is missing: run scripts/setup.sh"
