"""Over-long strings through the API: a 422 naming the field and its limit, on every database, and nothing stored.

PostgreSQL refuses a string longer than its `String(N)` column (a DataError, so a 500) where SQLite
stores it whole. Every way in checks the column's own length first; a value that only filters a
read (never stored) finds nothing or is a 4xx, never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.db.models import Report
from tearline.db.release_tables import ReleaseRequest
from tearline.errors import InvalidInput
from tearline.node import Node
from tearline.store.reports import withdraw_report
from tests.web.conftest import Scenario
from tests.web.support import assert_error, report_body, row_counts, token_headers

LONG = "x" * 300


def _count(node: Node, model: Any) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _reason(body: dict[str, Any], field: str) -> str:
    return str(next(p["reason"] for p in body["problems"] if p["field"] == field))


FIXED = "6f0b8a2e-3c1d-4e5f-9a7b-0c1d2e3f4a5b"  # the same in every worker's collection


@pytest.mark.parametrize(
    "odd",
    [
        f"identity--{'-' * 264}{FIXED}",  # 300 characters that Python's UUID parser still took
        f"identity--{{{FIXED}}}",  # braces
        f"identity--urn:uuid:{FIXED}",
        f"identity--{FIXED.upper()}",
        f"identity--{FIXED.replace('-', '')}",  # no hyphens
    ],
)
def test_an_object_id_not_in_stix_form_is_a_422_naming_it_and_nothing_is_stored(scenario: Scenario, odd: str) -> None:
    """STIX 2.1 (§2.9) ids only: whatever else `uuid.UUID` parses would be stored, and exported, as given."""
    client, node = scenario.client, scenario.node
    body = report_body()
    body["objects"][0]["id"] = odd
    before = row_counts(node)

    response = client.post("/api/reports", json=body, headers=token_headers(node, "ana.analyst"))

    found = assert_error(response, 422, "id")
    assert "RFC 4122 form" in _reason(found, "id")
    assert any(p.get("item") == odd for p in found["problems"])
    assert row_counts(node) == before


def test_a_release_to_an_over_long_recipient_agency_is_a_422_naming_it_and_nothing_is_stored(
    scenario: Scenario,
) -> None:
    client, node = scenario.client, scenario.node
    body = {
        "report": scenario.demo.reports["convoy"],
        "recipient": {"nation": "MEX", "agency": LONG},
        "purpose": "Interdiction at Jiménez",
        "need_to_know": "FIA analysts on the Highway 49 corridor",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    before = _count(node, ReleaseRequest)

    response = client.post("/api/release-requests", json=body, headers=token_headers(node, "ana.analyst"))

    found = assert_error(response, 422, "recipient.agency")
    assert "at most 64 characters" in _reason(found, "recipient.agency")
    assert _count(node, ReleaseRequest) == before


# Values that only filter a read: an over-long one finds nothing, or is a 4xx; never a 500.
FILTERS: list[tuple[str, str, Any]] = [
    ("GET", f"/api/audit/search?actor={LONG}", None),
    ("GET", f"/api/audit/search?object={LONG}", None),
    ("GET", f"/api/audit/search?actor=ana.analyst@US-DEMO-NARC&action={LONG}", None),
    ("GET", f"/api/objects?type={LONG}", None),
    ("GET", f"/api/search?q=convoy&type={LONG}", None),
    ("GET", f"/api/releases?report={LONG}", None),
    ("GET", f"/api/reports/{LONG}", None),
    ("GET", f"/api/workspaces/{LONG}", None),
    ("GET", f"/api/entities/{LONG}", None),
    ("POST", f"/api/consents/{LONG}/revoke", {"reason": "compromised"}),
    ("POST", f"/api/releases/{LONG}/recall", {"reason": "compromised"}),
    ("POST", f"/api/consent-requests/{LONG}/answer", {"grant": False}),
    ("POST", "/api/login", {"username": LONG, "password": "whatever-it-is"}),
]


@pytest.mark.parametrize(("method", "path", "body"), FILTERS, ids=[f"{m} {p[:32]}" for m, p, _ in FILTERS])
def test_an_over_long_value_that_only_filters_finds_nothing_or_is_a_4xx(
    scenario: Scenario, method: str, path: str, body: Any
) -> None:
    client, node = scenario.client, scenario.node
    before = _count(node, Report)

    response = client.request(method, path, json=body, headers=token_headers(node, "carla.auditor"))

    assert response.status_code < 500, response.text
    if response.status_code == 200:
        found = response.json()
        assert not found.get("hits") and not found.get("items"), found
        assert not found.get("objects", {}).get("items"), found
    assert _count(node, Report) == before


def test_a_withdrawal_reason_longer_than_its_column_is_refused_naming_it_and_nothing_changes(
    scenario: Scenario,
) -> None:
    """`withdraw_report` has no API or command yet; its callers get the refusal, not a DataError."""
    node, convoy = scenario.node, scenario.demo.reports["convoy"]
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        withdraw_report(session, convoy, "source compromised; " + LONG)
    assert [(p.field, "at most 32 characters" in p.reason) for p in refused.value.problems] == [("reason", True)]
    with node.db.read() as session:
        report = session.scalar(select(Report).where(Report.stix_id == convoy))
        assert report is not None and report.withdrawn_at is None
