"""The notice on /review/N follows the request's actual state and release, never the query string
(SQLite and PostgreSQL): `?outcome=disseminated&release=release--FAKE` shows no fake release."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.release_tables import Release
from tearline.fixtures import Demo, request_convoy_release
from tearline.node import Node
from tests.console.test_sessions import log_in
from tests.web.test_console_page_banners import _release_convoy

FAKE = {"outcome": "disseminated", "release": "release--FAKE"}


def _main(page: str) -> str:
    """The page's content (its language links repeat the query, as they should)."""
    return page.split("<main>", 1)[1].split("</main>", 1)[0]


def test_a_pending_request_shows_no_release_notice(client: TestClient, node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    log_in(client, "dan.disclosure")
    page = _main(client.get(f"/review/{request_id}", params=FAKE).text)
    assert 'data-testid="outcome"' not in page and "release--FAKE" not in page
    assert 'data-state="requested"' in page
    denied = _main(client.get(f"/review/{request_id}", params={"outcome": "denied"}).text)
    assert 'data-testid="outcome"' not in denied


def test_a_released_request_names_its_own_release(client: TestClient, node: Node, demo: Demo) -> None:
    _release_convoy(node, demo)
    with node.db.read() as session:
        release, request_id = session.execute(select(Release.id, Release.request_id)).one()
    log_in(client, "dan.disclosure")
    page = _main(client.get(f"/review/{request_id}", params=FAKE).text)
    assert 'data-testid="outcome"' in page and "release--FAKE" not in page
    assert f'<code data-testid="release-id">{release}</code>' in page
