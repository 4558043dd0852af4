"""The officer's release queue lists only requests for reports the officer may read (SQLite and PostgreSQL).

A request for a report hidden from the officer answers /review/N with a 404, so its id, report,
recipient and purpose must not show in /inbox either (DESIGN §3.3, "nothing hidden shows").
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tearline import clock
from tearline.fixtures import VETTED_UNIT, Demo, request_convoy_release
from tearline.node import Node
from tests.console.test_sessions import log_in
from tests.web.support import iso, login, marking, report_body

PURPOSE = "Surveillance of the unit's meeting at the Jiménez stop (fictional test case)."


def _vetted_request(client: TestClient) -> tuple[str, int]:
    """ana's report for the vetted unit only, and her request to release it to the unit's Mexican owner."""
    ana = login(client, "ana.analyst")
    vetted = marking(["USA", "MEX"], compartments=[VETTED_UNIT])
    body = report_body(["The unit meets its source at the Jiménez stop."])
    for part in (body["title"], *body["portions"], *body["objects"]):
        part["marking"] = vetted
    created = client.post("/api/reports", json=body, headers=ana)
    assert created.status_code == 201, created.text
    report = created.json()["id"]
    request = {
        "report": report,
        "recipient": {"nation": "MEX", "agency": "MX-DEMO-UIS"},
        "purpose": PURPOSE,
        "need_to_know": "The unit's Mexican members.",
        "expires_at": iso(clock.now() + timedelta(days=10)),
    }
    opened = client.post("/api/release-requests", json=request, headers=ana)
    assert opened.status_code == 201, opened.text
    return report, opened.json()["id"]


def test_the_queue_leaves_out_requests_for_reports_the_officer_may_not_read(
    client: TestClient, node: Node, demo: Demo
) -> None:
    convoy_request = request_convoy_release(node, demo)
    hidden_report, hidden_request = _vetted_request(client)
    log_in(client, "dan.disclosure")  # not read into the vetted unit
    assert client.get(f"/review/{hidden_request}").status_code == 404
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    queue = inbox.text[inbox.text.index('data-testid="queue"') :].split("</ul>", 1)[0]
    assert f'href="/review/{convoy_request}"' in queue
    assert f'href="/review/{hidden_request}"' not in queue
    assert hidden_report not in inbox.text and PURPOSE not in inbox.text
