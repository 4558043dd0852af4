"""This node's own release workflow on the live stream: a request filed, each approval or denial, and
a recall of one of our releases reach the officers and auditors who may read the report, as role
events in the transaction of the step. The stream said nothing of them, so an officer watching the
inbox learnt of a request waiting for them only by reloading. On SQLite and on PostgreSQL.

The report is the vetted unit's (VU-HALCON): dan, an officer not read into it, carla, an auditor
not read into it, and ana, the analyst who wrote it but holds no officer's role, hear none of it.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tearline import clock
from tearline.fixtures import VETTED_UNIT
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.web.support import iso, token_headers
from tests.web.test_console_audit_search import _halcon_report
from tests.web.test_stream import catch_up
from tests.web.test_stream_credentials import console_log_in

RELEASE_KINDS = ("release-request", "release-decision", "release-recall")
READ_IN = ["hugo.disclosure", "hilda.disclosure", "hana.auditor"]  # read into VU-HALCON
NOT_READ_IN = ["dan.disclosure", "carla.auditor", "ana.analyst"]
# The inbox's labels: a decision is labelled by its outcome (an approval awaiting a second officer, the
# final approval, a denial).
LABELS = ("release-request", "release-approved", "release-disseminated", "release-denied", "release-recall")
UIS = {"nation": "MEX", "agency": "MX-DEMO-UIS"}  # the vetted unit's Mexican members


def read_in_staff(node: Node) -> None:
    """Two officers (the two-person rule holds at every level) and an auditor read into the vetted unit."""
    with node.db.write() as session:
        for username, role in zip(READ_IN, ["disclosure_officer", "disclosure_officer", "auditor"], strict=True):
            add_principal(session, username, "USA", "US-DEMO-NARC", "SECRET", [VETTED_UNIT], roles=[role])


def file_request(client: TestClient, ana: dict[str, str], report: str) -> int:
    body = {
        "report": report,
        "recipient": UIS,
        "purpose": "Arrest of the courier at the Jiménez stop (fictional).",
        "need_to_know": "UIS agents working the Jiménez stop.",
        "expires_at": iso(clock.now() + timedelta(days=30)),
    }
    response = client.post("/api/release-requests", json=body, headers=ana)
    assert response.status_code == 201, response.text
    request: int = response.json()["id"]
    return request


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def release_events(client: TestClient, node: Node, username: str) -> list[dict[str, Any]]:
    return [e for e in catch_up(client, token_headers(node, username)) if e["kind"] in RELEASE_KINDS]


def test_our_release_workflow_reaches_only_the_officers_who_may_read_the_report(client: TestClient, node: Node) -> None:
    read_in_staff(node)
    ana = token_headers(node, "ana.analyst")
    hugo, hilda = token_headers(node, "hugo.disclosure"), token_headers(node, "hilda.disclosure")
    report = _halcon_report(client, ana)
    approved = file_request(client, ana, report)
    determination = {"determination": "No source or method leaves (fictional)."}
    assert post(client, f"/api/release-requests/{approved}/approve", determination, hugo)["state"] == "requested"
    release = post(client, f"/api/release-requests/{approved}/approve", determination, hilda)["release"]["id"]
    denied = file_request(client, ana, report)
    post(client, f"/api/release-requests/{denied}/deny", {"reason": "Not now."}, hugo)
    post(client, f"/api/releases/{release}/recall", {"reason": "The courier was warned."}, hilda)

    want = [
        ("release-request", {"request": approved}),
        ("release-decision", {"request": approved, "outcome": "approved", "final": False}),
        ("release-decision", {"request": approved, "outcome": "approved", "final": True}),
        ("release-request", {"request": denied}),
        ("release-decision", {"request": denied, "outcome": "denied", "final": True}),
        ("release-recall", {"release": release, "request": approved}),
    ]
    for username in READ_IN:
        heard = release_events(client, node, username)
        assert [e["kind"] for e in heard] == [kind for kind, _ in want], username
        for event, (_, fields) in zip(heard, want, strict=True):
            assert event["report"] == report and event["recipient"] == UIS, event
            assert {k: event.get(k) for k in fields} == fields, event
    # The report stays readable here after the recall: only the partner's copy is withdrawn.
    assert client.get(f"/api/reports/{report}", headers=hugo).status_code == 200
    for username in NOT_READ_IN:
        assert client.get(f"/api/reports/{report}", headers=token_headers(node, username)).status_code in (200, 404)
        assert release_events(client, node, username) == [], username
    assert client.get(f"/api/reports/{report}", headers=token_headers(node, "dan.disclosure")).status_code == 404


def test_the_inbox_listens_for_our_release_workflow(client: TestClient) -> None:
    console_log_in(client, "dan.disclosure")  # type: ignore[arg-type]
    for language in ("en", "es", "fr"):  # each catalog's labels leave the attribute's JSON whole
        page = client.get("/inbox", headers={"Accept-Language": language}).text
        found = re.search(r"data-labels='([^']*)'", page)
        assert found is not None
        labels = json.loads(html.unescape(found.group(1)))
        assert set(LABELS) <= set(labels), language
        assert len({labels[key] for key in LABELS}) == len(LABELS), language
    script = client.get("/static/inbox.js").text
    assert all(f'"{kind}"' in script for kind in RELEASE_KINDS)
