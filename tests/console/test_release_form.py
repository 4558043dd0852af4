"""The console's release request form refuses what the API's body would refuse: the form again, with
the reason, and no request stored.

The console builds the API's body (`ReleaseRequestIn`) itself, so pydantic's ValidationError (a
recipient nation that is not three letters) escaped as a 500 instead of the form's refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tearline import clock
from tearline.db.release_tables import ReleaseRequest
from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.console.test_sessions import CONVOY, log_in
from tests.web.support import quick_settings


@pytest.fixture
def client(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    quick_settings(monkeypatch)
    build_demo(node)
    yield TestClient(create_app(node))


def _requests(node: Node) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(ReleaseRequest)) or 0


def _form(csrf: str, recipient: str, **changes: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "recipient": recipient,
        "purpose": "Interdiction at Jiménez",
        "need_to_know": "FIA analysts on the Highway 49 corridor",
        "expires": (clock.now() + timedelta(days=30)).date().isoformat(),
        **changes,
    }


@pytest.mark.parametrize(
    ("recipient", "field", "reason"),
    [
        ("MEXICO/MX-DEMO-FIA", "recipient.nation", "must be at most 3 characters (it has 6)"),
        ("/MX-DEMO-FIA", "recipient.nation", "must be at least 3 characters (it has 0)"),
    ],
    ids=["nation-too-long", "no-nation"],
)
def test_a_recipient_nation_not_of_three_letters_shows_the_form_again_with_the_reason(
    client: TestClient, node: Node, recipient: str, field: str, reason: str
) -> None:
    csrf = log_in(client, "ana.analyst")
    before = _requests(node)

    response = client.post(f"/reports/{CONVOY}/release", data=_form(csrf, recipient), follow_redirects=False)

    assert response.status_code == 422, response.text
    assert f'role="alert"><code>{field}</code>: {reason}</p>' in response.text, response.text
    assert 'data-testid="submit-request"' in response.text  # the form, to correct and send again
    assert _requests(node) == before


def test_a_good_request_from_the_form_is_stored(client: TestClient, node: Node) -> None:
    csrf = log_in(client, "ana.analyst")
    before = _requests(node)

    response = client.post(f"/reports/{CONVOY}/release", data=_form(csrf, "MEX/MX-DEMO-FIA"), follow_redirects=False)

    assert response.status_code == 303, response.text
    assert _requests(node) == before + 1


def test_a_refused_request_shows_the_form_again_as_it_was_typed_with_the_reason_by_its_field(
    client: TestClient, node: Node
) -> None:
    csrf = log_in(client, "ana.analyst")
    expires = (clock.now() + timedelta(days=12)).date().isoformat()
    sent = _form(csrf, "MEX/MX-DEMO-FIA", purpose="  ", need_to_know="FIA analysts <on> Highway 49", expires=expires)
    before = _requests(node)

    response = client.post(f"/reports/{CONVOY}/release", data=sent, follow_redirects=False)

    assert response.status_code == 422, response.text
    assert _requests(node) == before
    page = response.text
    assert '<option value="MEX/MX-DEMO-FIA" selected>' in page
    assert 'data-testid="need-to-know">FIA analysts &lt;on&gt; Highway 49</textarea>' in page
    assert f'name="expires" value="{expires}"' in page
    purpose_field = page.index('name="purpose"')
    refusal = page.index('data-testid="problem-purpose" role="alert"><code>purpose</code>: ')
    assert purpose_field < refusal < page.index('name="need_to_know"')  # next to the field it is about


@pytest.mark.parametrize(
    ("language", "changes", "shown"),
    [
        ("es", {"purpose": " "}, "<code>purpose</code>: se requiere una finalidad declarada (28 CFR Part 23)</p>"),
        ("fr", {"purpose": " "}, "<code>purpose</code>: une finalité déclarée est obligatoire (28 CFR Part 23)</p>"),
        ("es", {"recipient": "MEXICO/MX-DEMO-FIA"}, "debe tener como máximo 3 caracteres (tiene 6)</p>"),
        ("fr", {"expires": "next week"}, "<code>expires_at</code>: indiquez une date au format AAAA-MM-JJ</p>"),
    ],
    ids=["es-required", "fr-required", "es-too-long", "fr-date"],
)
def test_a_refusal_is_shown_in_the_reader_s_language(
    client: TestClient, language: str, changes: dict[str, str], shown: str
) -> None:
    csrf = log_in(client, "ana.analyst")
    form = {**_form(csrf, "MEX/MX-DEMO-FIA"), **changes}

    response = client.post(f"/reports/{CONVOY}/release", data=form, headers={"Accept-Language": language})

    assert response.status_code == 422
    assert response.headers["content-language"] == language
    assert shown in response.text, response.text
