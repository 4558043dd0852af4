"""The console inbox shows consent answers and revocations as they arrive, and names a consent
request by its request id: it listened for neither kind, and showed a request's opaque event id
(the stream's resume position) where the request id belonged. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.web.test_stream_credentials import console_log_in

KINDS = ("consent-request", "consent-answer", "consent-revoke")


def test_the_inbox_listens_for_every_consent_event_and_names_its_request(client: TestClient) -> None:
    console_log_in(client, "dan.disclosure")
    page = client.get("/inbox").text
    found = re.search(r"data-labels='([^']*)'", page)
    assert found is not None
    assert set(KINDS) <= set(json.loads(found.group(1)))
    script = client.get("/static/inbox.js").text
    assert all(f'"{kind}"' in script for kind in KINDS)
    assert "data.id" not in script  # the event id is a resume position, never a name to show
