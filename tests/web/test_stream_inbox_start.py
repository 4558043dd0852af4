"""The console's inbox opens the stream from its own moment: the page carries an event id for its
reader (opaque, as every event id is), and the stream resumes after it. The page carried the change
log's latest number, which counted every change on the node, seen or not. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tearline.node import Node
from tests.web.support import report_body, token_headers
from tests.web.test_stream import parse
from tests.web.test_stream_credentials import console_log_in


def test_the_inbox_starts_the_stream_after_what_it_shows(client: TestClient, node: Node, demo: Demo) -> None:
    console_log_in(client, "ian.intel")
    found = re.search(r'id="live-events" data-after="([^"]*)"', client.get("/inbox").text)
    assert found is not None
    after = html.unescape(found.group(1))
    assert after and not after.isdigit()
    quiet = client.get("/api/stream", params={"once": "true", "after": after})
    assert quiet.status_code == 200 and parse(quiet.text) == []  # nothing since the page was made
    ana = token_headers(node, "ana.analyst")
    created = client.post("/api/reports", json=report_body(["A new sighting"]), headers=ana)
    assert created.status_code == 201, created.text
    heard = parse(client.get("/api/stream", params={"once": "true", "after": after}).text)
    assert [e["report"] for e in heard] == [created.json()["id"]]
