"""Version numbers over what the reader sees (DESIGN §3.3, "nothing hidden shows").

ana saves v1 (one CUI portion), v2 (adds a VU-HALCON portion) and v3 (adds another CUI portion).
carla.auditor does not hold VU-HALCON: v2 changed nothing she can see, so for her the report has two
versions, and `?version=N` addresses hers. She used to read "Version 3 / 3 · Versions: 1 2 3", with
`?version=2` equal to v1: a hidden change, shown.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import Report, ReportVersion
from tearline.fixtures import VETTED_UNIT
from tearline.node import Node
from tearline.store import reader_versions
from tests.conftest import detached_principal
from tests.web.support import assert_error, marking, report_body, token_headers

CUI = marking(["USA", "CAN", "MEX"], level="CUI")
FIRST = {"text": "Couriers cross at Nogales on Fridays.", "marking": CUI}
VETTED = {
    "text": "The vetted unit watches the Nogales crossing.",
    "marking": marking(["USA"], compartments=[VETTED_UNIT], controls=["NOFORN"]),
}
THIRD = {"text": "They carry cash in the tyres.", "marking": CUI}


def _save_three_versions(client: TestClient, node: Node) -> str:
    ana = token_headers(node, "ana.analyst")
    body: dict[str, Any] = {**report_body(), "title": {"text": "Cash couriers at Nogales", "marking": CUI}}
    body["objects"] = []
    created = client.post("/api/reports", json={**body, "portions": [FIRST]}, headers=ana)
    assert created.status_code == 201, created.text
    report_id = str(created.json()["id"])
    for portions in ([FIRST, VETTED], [FIRST, VETTED, THIRD]):
        saved = client.put(f"/api/reports/{report_id}", json={**body, "portions": portions}, headers=ana)
        assert saved.status_code == 200, saved.text
    return report_id


def _read(client: TestClient, node: Node, username: str, report_id: str, **params: Any) -> Any:
    response = client.get(f"/api/reports/{report_id}", params=params, headers=token_headers(node, username))
    assert response.status_code == 200, response.text
    return response.json()


def _texts(report: Any) -> list[str]:
    return [p["text"] for p in report["portions"]]


def test_an_edit_the_reader_cannot_see_is_no_version_of_theirs(client: TestClient, node: Node) -> None:
    report_id = _save_three_versions(client, node)
    ana = _read(client, node, "ana.analyst", report_id)
    assert (ana["version"], ana["versions"]) == (3, 3)

    carla = _read(client, node, "carla.auditor", report_id)
    assert (carla["version"], carla["versions"]) == (2, 2)
    assert _texts(carla) == [FIRST["text"], THIRD["text"]]
    first = _read(client, node, "carla.auditor", report_id, version=1)
    assert (first["version"], first["versions"]) == (1, 2)
    assert _texts(first) == [FIRST["text"]]
    second = _read(client, node, "carla.auditor", report_id, version=2)
    assert (second["version"], _texts(second)) == (2, _texts(carla))
    missing = client.get(
        f"/api/reports/{report_id}", params={"version": 3}, headers=token_headers(node, "carla.auditor")
    )
    assert_error(missing, 404)


def test_a_reader_dates_their_version_by_when_what_they_see_came_to_be(client: TestClient, node: Node) -> None:
    """A hidden-only edit as the newest version: the reader's current version keeps v1's number and date."""
    ana = token_headers(node, "ana.analyst")
    body: dict[str, Any] = {**report_body(), "title": {"text": "Cash couriers at Nogales", "marking": CUI}}
    body["objects"] = []
    report_id = client.post("/api/reports", json={**body, "portions": [FIRST]}, headers=ana).json()["id"]
    v1 = _read(client, node, "carla.auditor", report_id)
    saved = client.put(f"/api/reports/{report_id}", json={**body, "portions": [FIRST, VETTED]}, headers=ana)
    assert saved.status_code == 200, saved.text
    after = _read(client, node, "carla.auditor", report_id)
    assert {k: after[k] for k in ("version", "versions", "created_at", "banner", "title")} == {
        k: v1[k] for k in ("version", "versions", "created_at", "banner", "title")
    }
    assert _texts(after) == _texts(v1)
    assert (_read(client, node, "ana.analyst", report_id)["versions"]) == 2


def test_only_an_auditor_reads_an_earlier_version_of_their_own_numbering(client: TestClient, node: Node) -> None:
    report_id = _save_three_versions(client, node)
    ian = token_headers(node, "ian.intel")  # not VU-HALCON, not an auditor
    assert client.get(f"/api/reports/{report_id}", params={"version": 2}, headers=ian).status_code == 200
    assert_error(client.get(f"/api/reports/{report_id}", params={"version": 1}, headers=ian), 403)
    assert_error(client.get(f"/api/reports/{report_id}", params={"version": 3}, headers=ian), 404)


def test_release_screens_number_a_version_as_the_report_read_does(client: TestClient, node: Node) -> None:
    report_id = _save_three_versions(client, node)
    carla = node.reader(detached_principal(node, "carla.auditor"))
    with node.db.read() as session:
        ids = session.scalars(
            select(ReportVersion.id)
            .join(Report, Report.id == ReportVersion.report_id)
            .where(Report.stix_id == report_id)
            .order_by(ReportVersion.number)
        ).all()
        assert [reader_versions.shown_version(session, carla, report_id, v) for v in ids] == [1, 1, 2]
