"""POST /api/reports refuses what it does not understand, as the bundle and CSV ways in do: a
misspelt marking field, an unknown body field, an object property tearline does not store."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tearline.node import Node
from tests.web.support import assert_error, marking, report_body, row_counts, token_headers


def _post(client: TestClient, node: Node, body: dict[str, Any]) -> Any:
    return client.post("/api/reports", json=body, headers=token_headers(node, "ana.analyst"))


def _refused(client: TestClient, node: Node, body: dict[str, Any]) -> dict[str, str]:
    """The 422's problems, field -> reason; nothing was stored."""
    before = row_counts(node)
    problems = assert_error(_post(client, node, body), 422)["problems"]
    assert row_counts(node) == before
    return {p["field"]: p["reason"] for p in problems}


def test_a_misspelt_marking_field_is_refused_not_dropped(client: TestClient, node: Node) -> None:
    # `control` for `controls`: dropped, the portion was stored SECRET//REL TO USA, MEX and read in Mexico.
    body = report_body(["Source CARDINAL meets the courier on Fridays."])
    body["portions"][0]["marking"] = marking(["USA", "MEX"], control=["NOFORN"])
    found = _refused(client, node, body)
    assert list(found) == ["portions[0].marking.control"]
    assert found["portions[0].marking.control"].startswith("not a marking field; the fields are originator, level")


def test_an_unknown_field_of_the_originator_is_refused(client: TestClient, node: Node) -> None:
    body = report_body()
    body["title"]["marking"] = marking(["USA", "MEX"])
    body["title"]["marking"]["originator"]["agncy"] = "US-DEMO-NARC"
    found = _refused(client, node, body)
    assert found == {"title.marking.originator.agncy": "not a field of the originator; its fields are nation, agency"}


REPORT_FIELDS = "title, portions, objects, predicate, need_to_know, review_due, workspace"


def test_an_unknown_report_field_is_a_422_naming_it_and_the_fields_a_report_has(client: TestClient, node: Node) -> None:
    # `portion` for `portions` and `workspac` for `workspace`: a 201 with no portions and no workspace.
    body = report_body()
    body["portion"] = body.pop("portions")
    body["workspac"] = body.pop("workspace")
    reason = f"not a field of a report; its fields are {REPORT_FIELDS}"
    assert _refused(client, node, body) == {"portion": reason, "workspac": reason}


def test_an_unknown_field_of_a_portion_or_an_object_is_a_422_naming_it(client: TestClient, node: Node) -> None:
    body = report_body()
    body["portions"][0]["markings"] = body["portions"][0]["marking"]
    body["objects"][0]["observed"] = "2026-02-18T05:40:00Z"
    found = _refused(client, node, body)
    assert found["portions.0.markings"] == "not a field of a portion; its fields are text, marking"
    assert found["objects.0.observed"].startswith("not a field of an object; its fields are id, type, name, properties")
    assert set(found) == {"portions.0.markings", "objects.0.observed"}


def test_object_properties_pass_the_check_a_bundles_objects_pass(client: TestClient, node: Node) -> None:
    # A property STIX ingest refuses (`wheels: not a property tearline stores for this type`) was stored and served.
    body = report_body()
    person, phone = body["objects"][0], {**body["objects"][0], "id": f"x-tearline-phone--{uuid.uuid4()}"}
    person["properties"] = {"name": "Evaristo Luján Carmona", "identity_class": "individual", "bogus_prop": 1}
    phone |= {"type": "x-tearline-phone", "properties": {"number": 5255, "id": "x-tearline-phone--other"}}
    body["objects"].append(phone)
    found = _refused(client, node, body)
    assert found == {
        "objects[0].properties.bogus_prop": "not a property tearline stores for this type",
        "objects[1].properties.number": "must be a non-empty string",
        "objects[1].properties.id": "set by the object's own fields (id, type, ...), not in its properties",
    }


def test_a_person_keeps_its_resolution_fields_but_they_must_be_an_object(client: TestClient, node: Node) -> None:
    body = report_body()
    person = body["objects"][0]["properties"]
    person["x_tearline_person"] = {"dob": "1990-11-23"}
    assert _post(client, node, body).status_code == 201
    body = report_body()
    del body["objects"][0]["properties"]["identity_class"]
    body["objects"][0]["properties"]["x_tearline_person"] = "1990-11-23"
    found = _refused(client, node, body)
    assert set(found) == {"objects[0].properties.identity_class", "objects[0].properties.x_tearline_person"}
    assert found["objects[0].properties.identity_class"] == "required"
