"""A number too large for any database integer, in any query or path parameter, is a 422 naming the
parameter, never a 500 (SQLite's driver cannot bind it, and PostgreSQL refuses it as out of range)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.support import login

HUGE = str(10**30)
PAST_INT = str(2**31)  # past PostgreSQL's integer, which decision, request and change ids are
CALLS = [
    ("GET", f"/api/resolve/reviews?after={PAST_INT}", "after"),
    ("POST", f"/api/resolve/decisions/{PAST_INT}/split", "decision_id"),
    ("GET", f"/api/release-requests/{PAST_INT}/review", "request_id"),
    ("GET", f"/api/stream?after={PAST_INT}&once=true", "after"),
    ("GET", f"/api/resolve/reviews?after={HUGE}", "after"),
    ("GET", f"/api/reports?offset={HUGE}", "offset"),
    ("GET", f"/api/reports/report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01?version={HUGE}", "version"),
    ("GET", f"/api/audit/leaves/{HUGE}", "index"),
    ("GET", f"/api/audit/leaves?start={HUGE}", "start"),
    ("GET", f"/api/audit/proof/inclusion?index={HUGE}", "index"),
    ("GET", f"/api/audit/proof/inclusion?index=0&size={HUGE}", "size"),
    ("GET", f"/api/audit/proof/consistency?old={HUGE}", "old"),
    ("GET", f"/api/stream?after={HUGE}&once=true", "after"),
    ("GET", f"/api/audit/search?after={HUGE}", "after"),
    ("GET", f"/api/release-requests/{HUGE}/review", "request_id"),
    ("POST", f"/api/release-requests/{HUGE}/approve", "request_id"),
    ("POST", f"/api/resolve/decisions/{HUGE}/confirm", "decision_id"),
    ("POST", f"/api/resolve/decisions/{HUGE}/split", "decision_id"),
]


@pytest.mark.parametrize(("method", "url", "field"), CALLS)
def test_a_number_past_every_integer_is_a_422_naming_it(client: TestClient, method: str, url: str, field: str) -> None:
    user = "carla.auditor" if "/audit/" in url else "dan.disclosure" if "release-requests" in url else "ana.analyst"
    headers = login(client, user)
    response = client.request(method, url, headers=headers)
    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert field in response.json()["message"]


def test_a_last_event_id_past_every_integer_is_a_422_naming_it(client: TestClient) -> None:
    headers = {**login(client, "ana.analyst"), "Last-Event-ID": HUGE}
    response = client.get("/api/stream?once=true", headers=headers)
    assert response.status_code == 422 and "Last-Event-ID" in response.json()["message"]
