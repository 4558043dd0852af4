"""POST /api/reports takes a person's canonical fields as a bundle does: in tearline's person
property-extension (`properties.extensions.<EXT_PERSON>`), or as the older custom property
`x_tearline_person`; both are stored in one form, and a malformed extension is a 422 naming the path."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import StixObject
from tearline.ingest import export_bundle
from tearline.node import Node
from tearline.resolve.entities import person_of
from tearline.stix import ids
from tests.web.support import assert_error, report_body, row_counts, token_headers

FIELDS = {"dob": "1979-02-14", "national_id": "LUCE790214HSRJRV04", "phones": "+52 631 555 0142"}
WHERE = f"objects[0].properties.extensions.{ids.EXT_PERSON}"


def _post(client: TestClient, node: Node, body: dict[str, Any]) -> Any:
    return client.post("/api/reports", json=body, headers=token_headers(node, "ana.analyst"))


def _with(properties: dict[str, Any]) -> dict[str, Any]:
    body = report_body()
    body["objects"][0]["properties"].update(properties)
    return body


def _stored(node: Node, stix_id: str) -> dict[str, Any]:
    with node.db.read() as session:
        body = session.scalar(select(StixObject.body).where(StixObject.stix_id == stix_id))
    assert body is not None
    return dict(body)


def test_person_fields_posted_in_the_extension_are_stored_resolved_and_exported(client: TestClient, node: Node) -> None:
    body = _with({"extensions": {ids.EXT_PERSON: {"extension_type": "property-extension", **FIELDS}}})
    person = body["objects"][0]["id"]
    response = _post(client, node, body)
    assert response.status_code == 201, response.text
    stored = _stored(node, person)
    assert stored["x_tearline_person"] == FIELDS and "extensions" not in stored
    assert person_of(stored, "api").national_id == "LUCE790214HSRJRV04"
    exported = next(o for o in export_bundle(node, "ana.analyst")["objects"] if o["id"] == person)
    assert exported["extensions"] == {ids.EXT_PERSON: {"extension_type": "property-extension", **FIELDS}}
    assert "x_tearline_person" not in exported


def test_the_old_custom_property_is_stored_as_the_extension_is(client: TestClient, node: Node) -> None:
    old, new = _with({"x_tearline_person": FIELDS}), report_body()
    new["objects"][0]["properties"]["extensions"] = {ids.EXT_PERSON: {"extension_type": "property-extension", **FIELDS}}
    for body in (old, new):
        assert _post(client, node, body).status_code == 201
    assert _stored(node, old["objects"][0]["id"]) == _stored(node, new["objects"][0]["id"])


def test_a_malformed_person_extension_is_a_422_naming_each_path(client: TestClient, node: Node) -> None:
    before = row_counts(node)
    not_an_object = _with({"extensions": {ids.EXT_PERSON: "1979-02-14"}})
    found = {p["field"]: p["reason"] for p in assert_error(_post(client, node, not_an_object), 422)["problems"]}
    assert list(found) == [WHERE] and "must be an object" in found[WHERE]
    wrong_type = _with({"extensions": {ids.EXT_PERSON: {"extension_type": "property-extension", "dob": 19790214.5}}})
    found = {p["field"]: p["reason"] for p in assert_error(_post(client, node, wrong_type), 422)["problems"]}
    assert found == {f"{WHERE}.dob": "must be a string (or an integer)"}
    assert row_counts(node) == before


def test_extensions_stay_refused_in_the_properties_of_other_types(client: TestClient, node: Node) -> None:
    body = report_body()
    body["objects"].append({
        "id": "location--5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "type": "location", "name": "Nogales",
        "properties": {"latitude": 31.3, "longitude": -110.9, "extensions": {ids.EXT_PERSON: {}}},
        "marking": body["objects"][0]["marking"],
    })  # fmt: skip
    found = {p["field"] for p in assert_error(_post(client, node, body), 422)["problems"]}
    assert found == {"objects[1].properties.extensions"}
