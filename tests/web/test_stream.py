"""The live stream (issue 5 §5): server-sent events filtered per subscriber, resumable, audited."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.audit_tables import AuditLeaf
from tearline.db.models import Portion, Report
from tearline.db.release_tables import ConsentRequest
from tearline.fixtures import Demo
from tearline.node import Node
from tearline.store import changes
from tearline.store.federation import principal_named
from tearline.web.opaque import unseal
from tearline.web.routes_stream import EVENT_ID_PURPOSE
from tests.federation.support import serving
from tests.web.support import report_body, token_headers

READERS = ["ana.analyst", "ian.intel", "mateo.enlace", "chloe.liaison", "carla.auditor", "dan.disclosure"]


def parse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            event = json.loads(fields["data"])
            assert fields["id"] == str(event["id"]) and fields["event"] == event["kind"]
            events.append(event)
    return events


def catch_up(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/stream", params={"once": "true", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.text)


def test_each_subscriber_hears_of_exactly_the_reports_they_may_read(client: TestClient, node: Node, demo: Demo) -> None:
    heard_by_someone, hidden_from_someone = set(), set()
    for username in READERS:
        headers = token_headers(node, username)
        events = catch_up(client, headers)
        heard = {e["report"] for e in events if e["kind"] == "report"}
        readable = {
            r for r in demo.reports.values() if client.get(f"/api/reports/{r}", headers=headers).status_code == 200
        }
        assert heard == readable, username
        for event in events:
            view = client.get(f"/api/reports/{event['report']}", headers=headers).json()
            assert (event["title"], event["banner"]) == (view["title"], view["banner"])  # as this reader sees it
        heard_by_someone |= heard
        hidden_from_someone |= set(demo.reports.values()) - heard
    assert heard_by_someone == set(demo.reports.values())
    assert hidden_from_someone, "the demo has a report that some reader may not read"


def test_last_event_id_resumes_right_after_the_last_event_received(client: TestClient, node: Node, demo: Demo) -> None:
    headers = token_headers(node, "ana.analyst")
    for text in ("First new portion", "Second new portion"):
        assert client.post("/api/reports", json=report_body([text]), headers=headers).status_code == 201
    everything = catch_up(client, headers)
    assert len(everything) >= 3
    resumed = catch_up(client, {**headers, "Last-Event-ID": str(everything[0]["id"])})
    assert resumed == everything[1:]
    assert catch_up(client, headers, after=everything[-1]["id"]) == []
    refused = client.get("/api/stream", params={"once": "true"}, headers={**headers, "Last-Event-ID": "latest"})
    assert refused.status_code == 422 and "Last-Event-ID" in refused.json()["message"]


def test_role_events_reach_this_nodes_officers_and_auditors_only(client: TestClient, node: Node, demo: Demo) -> None:
    request = file_consent_request(node, demo.reports["convoy"])
    with node.db.write() as session:  # a request not filed here names nothing anyone may see
        detail = {"request": "consent-request--x"}
        changes.note(session, "consent-request", None, role="disclosure_officer", detail=detail)
    heard = {u: [e for e in catch_up(client, token_headers(node, u)) if e["kind"] != "report"] for u in READERS}
    for username in ("dan.disclosure", "carla.auditor"):
        assert [(e["kind"], e["request"]) for e in heard[username]] == [("consent-request", request)], username
    for username in ("ana.analyst", "ian.intel", "mateo.enlace", "chloe.liaison"):
        assert heard[username] == [], username


def file_consent_request(node: Node, report: str) -> str:
    """A partner's consent request for the items of one report, filed as its arrival files it."""
    with node.db.write() as session:
        of_report = select(Report.id).where(Report.stix_id == report).scalar_subquery()
        hashes = list(session.scalars(select(Portion.hash).where(Portion.report_id == of_report)))
        row = ConsentRequest(
            id=f"consent-request--{uuid.uuid4()}",
            direction="in",
            requester_nation="MEX",
            requester_agency="MX-DEMO-FIA",
            grantor_nation="USA",
            grantor_agency="US-DEMO-NARC",
            recipient_nation="CAN",
            recipient_agency=None,
            item_hashes=hashes,
            purpose="Onward release to Canada (fictional).",
            created_at=clock.now(),
        )
        session.add(row)
        changes.note(session, "consent-request", None, role="disclosure_officer", detail={"request": row.id})
        return row.id


def test_every_event_sent_is_in_the_audit_log(client: TestClient, node: Node, demo: Demo) -> None:
    events = catch_up(client, token_headers(node, "ana.analyst"))
    with node.db.read() as session:
        leaves = [bytes(d) for d in session.scalars(select(AuditLeaf.data))]
        ana = principal_named(session, "ana.analyst")
        assert ana is not None
    reads = [leaf for leaf in leaves if b"stream.read" in leaf and b"ana.analyst" in leaf]
    # The log names each change by its own id; the event id ana received seals that id for her.
    changes_sent = [unseal(node, EVENT_ID_PURPOSE, ana.id, e["id"]) for e in events]
    assert reads and all(f"change:{c}".encode() in reads[-1] for c in changes_sent)


def test_a_live_subscriber_hears_a_new_report_as_it_is_stored(node: Node, demo: Demo) -> None:
    headers = token_headers(node, "mateo.enlace")
    heard: list[dict[str, Any]] = []
    with serving(node) as url, httpx.Client(base_url=url, headers=headers, timeout=10) as http:
        start = parse(http.get("/api/stream", params={"once": "true"}).text)
        resume = {"Last-Event-ID": start[-1]["id"]} if start else {}

        def listen() -> None:
            with http.stream("GET", "/api/stream", headers=resume) as response:
                buffer = ""
                for chunk in response.iter_text():
                    buffer += chunk
                    heard.extend(parse(buffer.rsplit("\n\n", 1)[0]) if "\n\n" in buffer else [])
                    buffer = buffer.rsplit("\n\n", 1)[-1] if "\n\n" in buffer else buffer
                    if any(e["kind"] == "report" for e in heard):
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(0.3)
        created = httpx.post(
            f"{url}/api/reports", json=report_body(["A new sighting"]), headers=token_headers(node, "ana.analyst")
        )
        assert created.status_code == 201, created.text
        listener.join(timeout=10)
    assert [e["report"] for e in heard if e["kind"] == "report"] == [created.json()["id"]]
