"""A console URL whose path or query value is not what the page takes is answered as a console page
(HTML, in the console's layout, with a 422 naming the parameter), never as FastAPI's JSON; the API
keeps answering JSON. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.console.test_sessions import CONVOY, log_in
from tests.web.conftest import Scenario


@pytest.fixture
def client(scenario: Scenario) -> TestClient:
    log_in(scenario.client, "dan.disclosure")
    return scenario.client


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/review/not-a-number", "request_id", "must be an integer"),
        ("/review/99999999999", "request_id", "less than or equal to 2147483647"),
        (f"/reports/{CONVOY}?version=abc", "version", "must be an integer"),
        (f"/reports/{CONVOY}?version=-1", "version", "greater than or equal to 1"),
    ],
    ids=["path-not-a-number", "path-too-large", "query-not-a-number", "query-below-one"],
)
def test_a_malformed_console_url_is_an_html_page_naming_the_parameter(
    client: TestClient, url: str, field: str, reason: str
) -> None:
    response = client.get(url)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html"), response.text
    assert 'data-testid="banner-top"' in response.text  # the console's layout, not a bare message
    assert f'<p class="problem" data-testid="problem"><code>{field}</code>: ' in response.text, response.text
    assert reason in response.text


def test_the_api_still_answers_a_malformed_url_with_json(client: TestClient) -> None:
    response = client.get("/api/release-requests/not-a-number/review")

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "path.request_id"


def test_a_malformed_console_url_is_refused_in_the_reader_s_language(client: TestClient) -> None:
    response = client.get("/review/not-a-number", params={"lang": "es"})

    assert response.status_code == 422
    assert response.headers["content-language"] == "es"
    assert "<code>request_id</code>: debe ser un número entero</p>" in response.text, response.text
