"""POST /api/reports refuses what it does not understand, as the bundle and CSV ways in do: a
misspelt marking field, an unknown body field, an object property tearline does not store."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tearline.node import Node
from tearline.store.drafts import PORTION_TEXT_LIMIT
from tests.console.test_sessions import log_in
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


# --- bounds: a report has a portion, and no text is longer than a portion may be -------------------


def test_a_report_without_portions_is_a_422_naming_portions(client: TestClient, node: Node) -> None:
    # It was stored: a title alone, with nothing under it.
    found = _refused(client, node, report_body() | {"portions": []})
    assert found == {"portions": "a report needs at least one portion"}


def test_an_edit_to_no_portions_is_refused_too(client: TestClient, node: Node) -> None:
    created = _post(client, node, report_body())
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    before = row_counts(node)
    headers = token_headers(node, "ana.analyst")
    refused = client.put(f"/api/reports/{report_id}", json=report_body() | {"portions": []}, headers=headers)
    assert assert_error(refused, 422, field="portions")
    assert row_counts(node) == before


def test_a_portion_is_at_most_100000_characters(client: TestClient, node: Node) -> None:
    # A 2,000,000-character portion was stored whole (every other text field stops at 4,000).
    found = _refused(client, node, report_body(["A paragraph.", "x" * 2_000_000]))
    assert found == {"portions[1].text": "must be at most 100000 characters (it has 2000000)"}
    assert set(_refused(client, node, report_body(["y" * (PORTION_TEXT_LIMIT + 1)]))) == {"portions[0].text"}
    assert _post(client, node, report_body(["z" * PORTION_TEXT_LIMIT])).status_code == 201


def test_every_problem_of_a_portions_text_is_named_by_its_path(client: TestClient, node: Node) -> None:
    # An empty portion was `text` of item `portion 2` (the store's words), a bad marking `portions[1].marking…`.
    body = report_body(["A paragraph.", "   "])
    body["title"]["text"] = "t" * (PORTION_TEXT_LIMIT + 1)
    found = _refused(client, node, body)
    assert found == {
        "title.text": "must be at most 100000 characters (it has 100001)",
        "portions[1].text": "must not be empty",
    }


def test_the_consoles_report_create_has_the_same_bounds(client: TestClient, node: Node) -> None:
    csrf = log_in(client, "ana.analyst")
    headers = {"X-CSRF-Token": csrf}
    body = report_body() | {"need_to_know": "Analysts of the Nogales corridor (fictional)."}
    long = body | {"portions": report_body(["x" * 2_000_000])["portions"]}
    before = row_counts(node)
    for bad, field in ((body | {"portions": []}, "portions"), (long, "portions[0].text")):
        problems = assert_error(client.post("/console/reports", json=bad, headers=headers), 422)["problems"]
        assert [p["field"] for p in problems] == [field]
    assert row_counts(node) == before
