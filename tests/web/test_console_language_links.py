"""The language switch keeps the page's own query (SQLite and PostgreSQL): switching the language of
an audit search, a review notice or a page of results must not lose what the reader asked for."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tests.console.test_sessions import log_in


def _links(page: str) -> dict[str, str]:
    return dict(re.findall(r'<a href="([^"]*)" hreflang="(\w+)"', page)[i][::-1] for i in range(3))


def test_the_language_links_keep_the_query_and_replace_lang(client: TestClient, demo: Demo) -> None:
    log_in(client, "carla.auditor")
    convoy = demo.reports["convoy"]
    page = client.get("/audit", params={"object": convoy, "lang": "fr"})
    assert page.headers["Content-Language"] == "fr"
    links = _links(page.text)
    assert links == {code: f"?object={convoy}&amp;lang={code}" for code in ("en", "es", "fr")}
    switched = client.get("/audit" + links["es"].replace("&amp;", "&"))
    assert switched.headers["Content-Language"] == "es" and f'value="{convoy}"' in switched.text


def test_a_page_without_a_query_links_to_lang_alone(client: TestClient) -> None:
    log_in(client, "ana.analyst")
    assert _links(client.get("/inbox").text)["es"] == "?lang=es"
