"""A console form refused by the node comes back as it was sent (SQLite and PostgreSQL): the release
decision's determination, a consent answer's expiry and note (with the refusal in that request's
card), and a recall's reason, so nothing typed has to be typed again."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.release_tables import Release
from tearline.fixtures import Demo, request_convoy_release
from tearline.node import Node
from tests.console.test_sessions import log_in
from tests.web.test_console_long_statements import CONSENT_REQUEST, TOO_LONG, _incoming_consent_request
from tests.web.test_console_page_banners import _release_convoy


def test_a_refused_approval_keeps_the_determination(client: TestClient, node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    csrf = log_in(client, "dan.disclosure")
    client.post(f"/review/{request_id}/approve", data={"csrf": csrf, "determination": "First look"})

    again = {"csrf": csrf, "determination": "Second look: no source <leaves>"}
    response = client.post(f"/review/{request_id}/approve", data=again, follow_redirects=False)

    assert response.status_code == 409, response.text[:500]
    assert 'data-testid="decision-error"' in response.text
    assert "Second look: no source &lt;leaves&gt;</textarea>" in response.text


def test_a_refused_denial_keeps_the_reason(client: TestClient, node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    csrf = log_in(client, "dan.disclosure")

    response = client.post(f"/review/{request_id}/deny", data={"csrf": csrf, "reason": TOO_LONG})

    assert response.status_code == 422
    assert f'name="reason" required value="{TOO_LONG}"' in response.text


def test_a_refused_consent_grant_keeps_its_expiry_and_note_beside_the_refusal(
    client: TestClient, node: Node, demo: Demo
) -> None:
    _incoming_consent_request(node, demo)
    csrf = log_in(client, "dan.disclosure")
    form = {"csrf": csrf, "decision": "grant", "expires": "2020-01-31", "note": "Port contact only"}

    response = client.post(f"/consent/{CONSENT_REQUEST}/answer", data=form)

    assert response.status_code == 422, response.text[:500]
    card = response.text.split(f"<h2>{CONSENT_REQUEST}</h2>", 1)[1].split("</section>", 1)[0]
    assert 'name="expires" value="2020-01-31"' in card
    assert 'name="note" value="Port contact only" data-testid="grant-note"' in card
    assert 'name="note" value="" data-testid="refuse-note"' in card  # the other form is not the one sent
    assert 'data-testid="consent-error">expires_at: a consent needs an expiry in the future' in card


def test_a_refused_recall_keeps_its_reason(client: TestClient, node: Node, demo: Demo) -> None:
    _release_convoy(node, demo)
    with node.db.read() as session:
        release = session.scalar(select(Release.id))
    csrf = log_in(client, "dan.disclosure")

    response = client.post(f"/releases/{release}/recall", data={"csrf": csrf, "reason": TOO_LONG})

    assert response.status_code == 422
    assert f'required value="{TOO_LONG}"' in response.text


def test_a_refused_consent_grant_is_explained_in_the_reader_s_language(
    client: TestClient, node: Node, demo: Demo
) -> None:
    _incoming_consent_request(node, demo)
    csrf = log_in(client, "dan.disclosure")
    form = {"csrf": csrf, "decision": "grant", "expires": "2020-01-31", "note": ""}

    response = client.post(f"/consent/{CONSENT_REQUEST}/answer", data=form, headers={"Accept-Language": "fr-CA"})

    assert response.status_code == 422
    assert 'data-testid="consent-error">expires_at: un consentement doit expirer dans le futur</p>' in response.text


def test_a_forbidden_action_is_explained_in_the_reader_s_language(client: TestClient, node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    csrf = log_in(client, "ana.analyst")

    response = client.post(
        f"/review/{request_id}/approve", data={"csrf": csrf, "determination": "x"}, headers={"Accept-Language": "es"}
    )

    assert response.status_code == 403
    assert "ana.analyst no puede hacer esto: " in response.text, response.text
