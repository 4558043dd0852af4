"""Entity resolution over the API: run, entity views filtered per reader, review and split, audit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.audit.search import Query, search
from tearline.fixtures import WORKSPACE
from tearline.node import Node
from tearline.resolve import batch, bench, incremental, model
from tests.web.support import login, marking, report_body


@pytest.fixture(scope="module")
def trained() -> model.TrainedModel:
    return batch.resolve(bench.spanish(families=200, seed=4).records).trained


def _person(name: str, rel_to: list[str], **extra: str) -> dict[str, Any]:
    return {"id": f"identity--{uuid.uuid4()}", "type": "identity", "name": name,
            "properties": {"name": name, "identity_class": "individual", "x_tearline_person": extra},
            "marking": marking(rel_to)}


def _post(client: TestClient, headers: dict[str, str], person: dict[str, Any], rel_to: list[str]) -> None:
    body = report_body(objects=[person], workspace=WORKSPACE)
    body["title"]["marking"] = body["portions"][0]["marking"] = marking(rel_to)
    response = client.post("/api/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text


def test_entity_view_shows_each_reader_only_what_they_may_see(
    node: Node, client: TestClient, trained: model.TrainedModel,
) -> None:
    with node.db.write() as session:
        incremental.keep_model(session, trained)
    ana, mateo = login(client, "ana.analyst"), login(client, "mateo.enlace")
    shared = _person("José Luis Hernández Garza, alias El Güero", ["USA", "MEX"], dob="1981-07-03",
                     phones="+52 662 123 4567")
    noforn = _person("JOSE LUIS HERNANDEZ-GARZA", ["USA"], dob="1981-07-03", phones="+52 662 123 4567")
    _post(client, ana, shared, ["USA", "MEX"])
    _post(client, ana, noforn, ["USA"])
    assert client.post("/api/resolve/run", headers=ana).json() == {"status": "done"}

    us_view = client.get(f"/api/entities/{shared['id']}", headers=ana).json()
    assert {m["id"] for m in us_view["members"]} == {shared["id"], noforn["id"]}
    [link] = us_view["links"]
    assert link["match_probability"] >= model.UPPER_THRESHOLD
    assert {e["comparison"] for e in link["explanation"]} >= {"given", "paternal", "dob"}
    assert "NOFORN" in us_view["banner"]

    mx_view = client.get(f"/api/entities/{shared['id']}", headers=mateo)
    assert mx_view.status_code == 200
    body = mx_view.json()
    assert [m["id"] for m in body["members"]] == [shared["id"]] and body["member_count"] == 1
    assert body["links"] == [] and "NOFORN" not in body["banner"]
    hidden = client.get(f"/api/entities/{noforn['id']}", headers=mateo)
    missing = client.get(f"/api/entities/identity--{uuid.uuid4()}", headers=mateo)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"]

    decision = client.post(f"/api/resolve/decisions/{link['decision']}/split", headers=mateo)
    assert decision.status_code == 404  # a decision about a hidden person is missing for him
    split = client.post(f"/api/resolve/decisions/{link['decision']}/split", headers=ana)
    assert split.json() == {"decision": link["decision"], "state": "split"}
    after = client.get(f"/api/entities/{shared['id']}", headers=ana).json()
    assert [m["id"] for m in after["members"]] == [shared["id"]]

    with node.db.read() as session:
        by_ana = [(h.event.action, h.event.outcome) for h in search(
            session, Query(actor="ana.analyst@US-DEMO-NARC", limit=500)).hits]
        by_mateo = [(h.event.action, h.event.outcome, h.event.objects) for h in search(
            session, Query(actor="mateo.enlace@MX-DEMO-FIA", limit=500)).hits]
    assert {("entity.resolve", "allowed"), ("entity.read", "allowed"), ("entity.split", "allowed")} <= set(by_ana)
    assert ("entity.read", "allowed", (shared["id"],)) in by_mateo
    assert ("entity.split", "denied", (f"decision:{link['decision']}",)) in by_mateo


def test_only_analysts_decide(node: Node, client: TestClient, trained: model.TrainedModel) -> None:
    with node.db.write() as session:
        incremental.keep_model(session, trained)
    auditor = login(client, "carla.auditor")
    response = client.post("/api/resolve/run", headers=auditor)
    assert response.status_code == 403 and response.json()["rule"] == "analyst-role"
    assert client.get("/api/resolve/reviews", headers=auditor).json() == {"total": 0, "items": []}
