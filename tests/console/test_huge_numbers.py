"""The console's pages take numbers past every database integer without a 500: an id in the path
is a 422 naming it, and a page's `after` goes as far as it can (an empty page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.console.test_sessions import log_in
from tests.web.support import quick_settings

HUGE = str(10**30)


@pytest.fixture
def client(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    quick_settings(monkeypatch)
    build_demo(node)
    yield TestClient(create_app(node))


@pytest.mark.parametrize(
    "path", [f"/entities/reviews/{HUGE}", f"/review/{HUGE}", f"/entities/reviews/{2**31}", f"/review/{2**31}"]
)
def test_an_id_past_every_integer_is_a_422_naming_it(client: TestClient, path: str) -> None:
    log_in(client, "dan.disclosure" if path.startswith("/review/") else "ana.analyst")
    response = client.get(path)
    assert response.status_code == 422 and "_id" in response.text


@pytest.mark.parametrize("after", [HUGE, str(2**31)])
def test_a_page_after_every_integer_is_empty(client: TestClient, after: str) -> None:
    log_in(client, "ana.analyst")
    response = client.get(f"/entities/reviews?after={after}&limit={HUGE}")
    assert response.status_code == 200 and "No reviews you may see." in response.text
