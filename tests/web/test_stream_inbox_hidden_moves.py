"""The console inbox starts the stream after the node's newest change, sealed afresh on every
rendering: sealed alone, that id moved with every change, seen or not, so reloading the page counted
the edits hidden from its reader (DESIGN §3.3). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tearline.node import Node
from tests.web.support import report_body, token_headers
from tests.web.test_report_versions_api import CUI, FIRST, THIRD, VETTED
from tests.web.test_stream import parse
from tests.web.test_stream_credentials import console_log_in


def _start(client: TestClient) -> str:
    found = re.search(r'id="live-events" data-after="([^"]*)"', client.get("/inbox").text)
    assert found is not None
    return html.unescape(found.group(1))


def test_the_inbox_start_tells_nothing_and_misses_nothing(client: TestClient, node: Node) -> None:
    ana = token_headers(node, "ana.analyst")
    body = {**report_body(), "title": {"text": "Cash couriers at Nogales", "marking": CUI}, "objects": []}
    created = client.post("/api/reports", json={**body, "portions": [FIRST]}, headers=ana)
    assert created.status_code == 201, created.text
    report = created.json()["id"]
    console_log_in(client, "dan.disclosure")
    before = _start(client)
    assert _start(client) != before  # every rendering its own id: two compared tell nothing
    hidden = client.put(f"/api/reports/{report}", json={**body, "portions": [FIRST, VETTED]}, headers=ana)
    assert hidden.status_code == 200, hidden.text
    assert {len(_start(client)) for _ in range(3)} == {len(before)}
    assert parse(client.get("/api/stream", params={"once": "true", "after": before}).text) == []
    seen = client.put(f"/api/reports/{report}", json={**body, "portions": [FIRST, VETTED, THIRD]}, headers=ana)
    assert seen.status_code == 200, seen.text
    after = _start(client)
    heard = parse(client.get("/api/stream", params={"once": "true", "after": before}).text)
    assert [(e["report"], e["version"]) for e in heard] == [(report, 2)]
    assert parse(client.get("/api/stream", params={"once": "true", "after": after}).text) == []


def test_an_inbox_start_is_good_only_for_its_reader(client: TestClient, node: Node) -> None:
    console_log_in(client, "dan.disclosure")
    dans = _start(client)
    refused = client.get("/api/stream", params={"once": "true", "after": dans},
                         headers=token_headers(node, "ana.analyst"))
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "after"
