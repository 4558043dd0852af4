"""Entity resolution over the API: run, entity views filtered per reader, review and split, audit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.audit.search import Query, search
from tearline.fixtures import WORKSPACE
from tearline.node import Node
from tearline.resolve import arrivals, batch, bench, incremental, model
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
    assert client.get("/api/resolve/reviews", headers=auditor).json() == {"total": 0, "items": [], "next": None}


def test_a_phone_posted_to_the_api_is_resolved_by_the_drain_after_the_commit(node: Node, client: TestClient) -> None:
    ana = login(client, "ana.analyst")
    phones = [{"id": f"x-tearline-phone--{uuid.uuid4()}", "type": "x-tearline-phone", "name": number,
               "properties": {"number": number}, "marking": marking(["USA", "MEX"])}
              for number in ("+52 662 123 4567", "+526621234567")]
    for phone in phones:
        _post(client, ana, {**phone}, ["USA", "MEX"])
    assert arrivals.drain(node).resolved >= 2  # what `tearline serve`'s worker runs once woken
    view = client.get(f"/api/entities/{phones[0]['id']}", headers=ana).json()
    assert {m["id"] for m in view["members"]} == {p["id"] for p in phones}
    assert view["attributes"]["number"] == ["+526621234567"]


def test_analysts_train_and_keep_a_model_from_the_nodes_persons(node: Node, client: TestClient) -> None:
    auditor, ana = login(client, "carla.auditor"), login(client, "ana.analyst")
    refused = client.post("/api/resolve/train", headers=auditor)
    assert refused.status_code == 403 and refused.json()["rule"] == "analyst-role"
    people = [_person(r.raw.get("full_name") or f"{r.raw.get('given_names', '')} {r.raw.get('surname', '')}",
                      ["USA", "MEX"], phones=r.raw.get("phones", ""), dob=r.dob.iso() if r.dob else "",
                      national_id=r.national_id or "")
              for r in bench.spanish(families=20, seed=5).records]
    body = report_body(objects=people, workspace=WORKSPACE)
    assert client.post("/api/reports", json=body, headers=ana).status_code == 201
    assert arrivals.drain(node).waiting >= len(people)  # no model yet: the persons wait
    kept = client.post("/api/resolve/train", headers=ana)
    assert kept.status_code == 200 and set(kept.json()) == {"status", "model"}  # no count of persons
    with node.db.read() as session:
        assert incremental.kept_model_id(session) == kept.json()["model"]
        hits = search(session, Query(actor="ana.analyst@US-DEMO-NARC", action="entity.train", limit=10)).hits
    assert [h.event.objects for h in hits] == [(f"model:{kept.json()['model']}",)]
    assert arrivals.drain(node).waiting == 0  # the train call resolved those that waited


def test_training_on_too_few_persons_does_not_count_the_persons_hidden_from_the_caller(
    node: Node, client: TestClient
) -> None:
    ana, mateo = login(client, "ana.analyst"), login(client, "mateo.enlace")
    for _ in range(3):  # persons Mateo may not see: NOFORN
        _post(client, ana, _person(f"Persona Oculta {uuid.uuid4().hex[:6]}", ["USA"]), ["USA"])
    refused = client.post("/api/resolve/train", headers=mateo)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "persons"
    assert "training needs at least" in refused.text
    assert not any(ch.isdigit() for ch in refused.text.replace("50", ""))  # no count of persons, seen or not
