"""An edit that changes nothing a subscriber may see is no event of theirs (DESIGN §3.3): hearing of
it would show that a hidden edit happened. A replayed event names the reader's number of the
version it announced. On SQLite and on PostgreSQL.

carla.auditor, outside VU-HALCON, heard "version 2" when ana added only a VU-HALCON portion, and
every replayed event named the current version.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tearline.node import Node
from tests.web.support import token_headers
from tests.web.test_report_versions_api import _save_three_versions
from tests.web.test_stream import catch_up


def _heard(client: TestClient, node: Node, username: str, report: str) -> list[int]:
    events = catch_up(client, token_headers(node, username))
    return [e["version"] for e in events if e["kind"] == "report" and e["report"] == report]


def test_a_hidden_edit_is_no_event_and_replayed_events_keep_their_versions(client: TestClient, node: Node) -> None:
    report = _save_three_versions(client, node)  # v1 CUI; v2 adds a VU-HALCON portion; v3 adds a CUI portion
    assert _heard(client, node, "ana.analyst", report) == [1, 2, 3]
    assert _heard(client, node, "carla.auditor", report) == [1, 2]
