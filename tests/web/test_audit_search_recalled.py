"""A recall must stay auditable: who received what, and when, is what an auditor looks for after one.

An auditor who may see a report's items, but for their recall or withdrawal (DESIGN §3.3 rule 5),
still finds the entries about it; the markings still hold, so an auditor who could not see the
report before finds nothing now either. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tearline.store.reports import withdraw_report
from tests.federation import partner_units
from tests.federation.partner_units import World
from tests.federation.partner_units import recall as recall_unit
from tests.web.support import MISSING_REPORT, login, token_headers
from tests.web.test_console_audit_search import _halcon_report
from tests.web.test_stream_role_events import received, staff

world = partner_units.world  # the fixture: the US demo node, and a MEX node the US release is pushed to


def _actions(client: TestClient, headers: dict[str, str], object_id: str) -> list[str]:
    response = client.get("/api/audit/search", params={"object": object_id}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return [h["event"]["action"] for h in body["hits"]]


def test_the_receipt_of_a_recalled_release_stays_auditable(world: World) -> None:
    staff(world.mex)
    report = received(world)
    release = str(world.release.payload["release"]["id"])
    tomas, paula = token_headers(world.mex, "tomas.auditor"), token_headers(world.mex, "paula.auditora")
    reads = _actions(world.client, tomas, report)
    assert "report.read" in reads  # the officers' and auditors' reads of it, before the recall
    world.push(recall_unit(world, report=report))
    assert world.client.get(f"/api/reports/{report}", headers=tomas).status_code == 404  # recalled here
    assert _actions(world.client, tomas, release) == ["federation.receive.release", "federation.receive.recall"]
    assert _actions(world.client, tomas, report)[: len(reads)] == reads
    assert _actions(world.client, paula, release) == _actions(world.client, paula, MISSING_REPORT) == []


def test_a_withdrawn_report_stays_auditable(client: TestClient, node: Any, demo: Demo) -> None:
    ana, carla = login(client, "ana.analyst"), login(client, "carla.auditor")
    convoy = demo.reports["convoy"]
    assert client.get(f"/api/reports/{convoy}", headers=carla).status_code == 200
    before = _actions(client, carla, convoy)
    assert "report.read" in before
    halcon = _halcon_report(client, ana)  # of the vetted unit only: carla is not read into it
    with node.db.write() as session:
        withdraw_report(session, convoy, "source compromised")
        withdraw_report(session, halcon, "source compromised")
    assert client.get(f"/api/reports/{convoy}", headers=ana).status_code == 404
    assert _actions(client, carla, convoy)[: len(before)] == before
    assert _actions(client, carla, halcon) == _actions(client, carla, MISSING_REPORT) == []
