"""Where a stream resumes: a Last-Event-ID or `after` that is not an event id is a 422 naming it, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.federation.support import serving
from tests.web.conftest import Scenario
from tests.web.support import token_headers

# str.isdigit() holds for superscripts, which int() then refuses; 5,000 digits is past int()'s own limit.
NOT_IDS = ["²", "1¹", "12³", "-1", "+1", "1.0", "0x10", "1" * 5000]


def test_a_last_event_id_that_is_not_an_event_id_is_a_422_naming_it(scenario: Scenario) -> None:
    # Over a real socket: the test client re-encodes header values as UTF-8, so '²' would arrive as 'Â²'.
    # A client that sends the byte 0xB2 has Starlette read it as Latin-1: '²'.
    token = token_headers(scenario.node, "ana.analyst")["Authorization"]
    with serving(scenario.node) as url, httpx.Client(base_url=url, timeout=10) as http:
        for value in NOT_IDS:
            headers = [(b"Authorization", token.encode()), (b"Last-Event-ID", value.encode("latin-1"))]
            response = http.get("/api/stream", params={"once": "true"}, headers=headers)
            assert response.status_code == 422, (value[:20], response.status_code, response.text[:300])
            assert "Last-Event-ID" in response.json()["message"]


@pytest.mark.parametrize("value", ["²", "1¹", "١", "-1", "1.5"])
def test_an_after_that_is_not_an_event_id_is_a_422_naming_it(scenario: Scenario, value: str) -> None:
    headers = token_headers(scenario.node, "ana.analyst")
    response = scenario.client.get("/api/stream", params={"once": "true", "after": value}, headers=headers)
    assert response.status_code == 422, (value, response.status_code, response.text[:300])
    assert "after" in response.json()["message"]


def test_an_event_id_with_leading_zeros_still_resumes(scenario: Scenario) -> None:
    headers = {**token_headers(scenario.node, "ana.analyst"), "Last-Event-ID": "0" * 40 + "1"}
    response = scenario.client.get("/api/stream", params={"once": "true"}, headers=headers)
    assert response.status_code == 200, response.text[:300]
    assert "id: 1\n" not in response.text  # resumed after event 1
