"""A disclosure officer asks the originators for consent from the console's release review (SQLite and
PostgreSQL). Mexico received the US convoy tearline; Mexico's officer reviews a request to pass it to
Canada, where the third-party rule withholds the US items, chooses which to ask for, and the request
goes out through the same service as the API's, logged in its audit. Items the officer may not see
are never offered, and naming one answers like naming an item that is not there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.release_tables import ConsentRequest, OutboxMessage
from tearline.fixtures import Demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.store.content import version_content
from tearline.store.principals import add_principal, issue_token
from tearline.web.app import SESSION_COOKIE, create_app
from tearline.web.csrf import csrf_token
from tests.conftest import Templates
from tests.release.support import deliver, mex_node, p, release_convoy_to_mexico

PORT_CONTACT = "The network's buyer meets a contact at the port of Vancouver"
LUCIA = "lucia.divulgacion@MX-DEMO-FIA"


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


@pytest.fixture
def asked(node: Node, demo: Demo, mex: Node) -> tuple[int, dict[str, str]]:
    """The convoy tearline received on Mexico's node, and mateo's request to pass it to Canada:
    its id and the received items' hashes by text."""
    report = deliver(node, release_convoy_to_mexico(node, demo), mex)
    request = workflow.RequestIn(
        report, Recipient("CAN", "CA-DEMO-BORDER"), "Port contact", "CBSA at the port", clock.now() + timedelta(days=20)
    )
    with mex.db.write() as session:
        request_id = workflow.request_release(session, mex, p(session, "mateo.enlace"), request).id
        hashes = {i.text: i.hash for i in version_content(session, report).items}
    return request_id, hashes


def _client(mex: Node, username: str) -> tuple[TestClient, str]:
    """A console session of `username` on Mexico's node, and its CSRF token."""
    with mex.db.write() as session:
        token = issue_token(session, p(session, username), kind="session", ttl=timedelta(minutes=30))
    client = TestClient(create_app(mex))
    client.cookies.set(SESSION_COOKIE, token)
    return client, csrf_token(mex, token)


def _port(hashes: dict[str, str]) -> str:
    return next(h for text, h in hashes.items() if text.startswith(PORT_CONTACT))


def _consent_requests(mex: Node) -> list[ConsentRequest]:
    with mex.db.read() as session:
        rows = list(session.scalars(select(ConsentRequest)))
        session.expunge_all()
    return rows


def test_the_review_offers_the_withheld_items_and_asks_for_the_chosen_ones(
    mex: Node, asked: tuple[int, dict[str, str]]
) -> None:
    request_id, hashes = asked
    client, csrf = _client(mex, "lucia.divulgacion")

    page = client.get(f"/review/{request_id}").text
    offered = re.findall(r'name="item" value="([0-9a-f]+)" checked', page)
    assert _port(hashes) in offered and len(offered) > 1  # every US item needs the originator's consent here
    assert "third-party-without-consent" in page

    form = {"csrf": csrf, "purpose": "CBSA works the port of Vancouver", "item": [_port(hashes)]}
    response = client.post(f"/review/{request_id}/consent", data=form, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/consent?asked=1", response.text[:500]
    (row,) = _consent_requests(mex)
    assert (row.grantor_nation, row.grantor_agency) == ("USA", "US-DEMO-NARC")
    assert (row.recipient_nation, row.recipient_agency) == ("CAN", "CA-DEMO-BORDER")
    assert list(row.item_hashes) == [_port(hashes)] and row.purpose == "CBSA works the port of Vancouver"
    with mex.db.read() as session:
        outbox = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "consent-request")).all()
        assert [(m.destination, m.payload["id"]) for m in outbox] == [("USA", row.id)]
        logged = search(session, Query(actor=LUCIA, action="consent.request")).hits
    assert [(h.event.outcome, set(h.event.objects)) for h in logged] == [("allowed", {row.id, _port(hashes)})]
    assert 'data-testid="consent-sent"' in client.get("/consent?asked=1").text


def test_a_refused_ask_shows_the_form_again_with_the_reason_by_its_field(
    mex: Node, asked: tuple[int, dict[str, str]]
) -> None:
    request_id, hashes = asked
    client, csrf = _client(mex, "lucia.divulgacion")

    no_purpose = {"csrf": csrf, "purpose": " ", "item": [_port(hashes)]}
    response = client.post(f"/review/{request_id}/consent", data=no_purpose)
    assert response.status_code == 422
    assert 'data-testid="consent-problem-purpose" role="alert"><code>purpose</code>: ' in response.text
    assert f'name="item" value="{_port(hashes)}" checked' in response.text
    assert len(re.findall(r'name="item" value="[0-9a-f]+" checked', response.text)) == 1  # as it was sent

    for chosen in ([], ["0" * 64]):  # nothing, or an item that is not one of the offered
        form = {"csrf": csrf, "purpose": "CBSA works the port", "item": chosen}
        response = client.post(f"/review/{request_id}/consent", data=form)
        assert response.status_code == 422
        assert 'data-testid="consent-problem-items" role="alert"><code>items</code>: ' in response.text
        assert 'these items">CBSA works the port</textarea>' in response.text  # the purpose as it was typed
    assert _consent_requests(mex) == []


def test_an_officer_who_may_not_see_the_items_is_offered_nothing_and_asks_for_nothing(
    mex: Node, asked: tuple[int, dict[str, str]]
) -> None:
    request_id, hashes = asked
    with mex.db.write() as session:
        add_principal(session, "ines.divulgacion", "MEX", "MX-DEMO-FIA", "RESERVADA", roles=["disclosure_officer"])
    client, csrf = _client(mex, "ines.divulgacion")

    assert client.get(f"/review/{request_id}").status_code == 404
    form = {"csrf": csrf, "purpose": "CBSA works the port", "item": [_port(hashes)]}
    hidden = client.post(f"/review/{request_id}/consent", data=form)
    missing = client.post("/review/999999/consent", data=form)

    assert hidden.status_code == missing.status_code == 404
    assert _consent_requests(mex) == []


def test_an_analyst_may_not_ask_for_consent(mex: Node, asked: tuple[int, dict[str, str]]) -> None:
    request_id, hashes = asked
    client, csrf = _client(mex, "mateo.enlace")

    assert 'data-testid="ask-consent"' not in client.get(f"/review/{request_id}").text
    form = {"csrf": csrf, "purpose": "CBSA works the port", "item": [_port(hashes)]}
    assert client.post(f"/review/{request_id}/consent", data=form).status_code == 403
    assert _consent_requests(mex) == []


# The API's way of asking: POST /api/release-requests/{id}/consent, through the same service.

PURPOSE = "CBSA works the port of Vancouver (fictional)."


def _api(mex: Node, username: str) -> tuple[TestClient, dict[str, str]]:
    with mex.db.write() as session:
        token = issue_token(session, p(session, username), kind="api", ttl=timedelta(minutes=30))
    return TestClient(create_app(mex)), {"Authorization": f"Bearer {token}"}


def test_an_officer_asks_for_the_items_named_or_every_item_they_may_see(
    mex: Node, asked: tuple[int, dict[str, str]]
) -> None:
    request_id, hashes = asked
    client, lucia = _api(mex, "lucia.divulgacion")

    named = client.post(f"/api/release-requests/{request_id}/consent",
                        json={"purpose": PURPOSE, "items": [_port(hashes)]}, headers=lucia)
    assert named.status_code == 200, named.text
    [request] = _consent_requests(mex)
    assert request.item_hashes == [_port(hashes)]

    every = client.post(f"/api/release-requests/{request_id}/consent", json={"purpose": PURPOSE}, headers=lucia)
    assert every.status_code == 200, every.text
    asked_for = {h for r in _consent_requests(mex) for h in r.item_hashes}
    assert _port(hashes) in asked_for and len(asked_for) > 1

    unknown = client.post(f"/api/release-requests/{request_id}/consent",
                          json={"purpose": PURPOSE, "items": ["0" * 64]}, headers=lucia)
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "items"


def test_an_officer_who_may_not_see_the_report_asks_for_nothing_and_learns_nothing(
    mex: Node, asked: tuple[int, dict[str, str]]
) -> None:
    request_id, hashes = asked
    with mex.db.write() as session:
        add_principal(session, "ines.divulgacion", "MEX", "MX-DEMO-FIA", "RESERVADA", roles=["disclosure_officer"])
    client, ines = _api(mex, "ines.divulgacion")

    for body in ({"purpose": PURPOSE}, {"purpose": PURPOSE, "items": [_port(hashes)]}):
        hidden = client.post(f"/api/release-requests/{request_id}/consent", json=body, headers=ines)
        missing = client.post("/api/release-requests/999999/consent", json=body, headers=ines)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["error"] == missing.json()["error"]
    assert _consent_requests(mex) == []
