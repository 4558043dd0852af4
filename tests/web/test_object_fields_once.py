"""A posted object says each thing once (DESIGN §3.4, §3.5: what is shown, reviewed and released is
the same item). Its own fields (name, time, place, ends) restate its properties, which are what is
exported, released and resolved; a field that says something else is refused, naming it, and a name
given only beside the properties is the object's name everywhere. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import StixObject
from tearline.node import Node
from tests.web.support import assert_error, marking, report_body, row_counts, token_headers


def _post(client: TestClient, node: Node, body: dict[str, Any]) -> Any:
    return client.post("/api/reports", json=body, headers=token_headers(node, "ana.analyst"))


def _refused(client: TestClient, node: Node, body: dict[str, Any]) -> dict[str, str]:
    before = row_counts(node)
    problems = assert_error(_post(client, node, body), 422)["problems"]
    assert row_counts(node) == before
    return {p["field"]: p["reason"] for p in problems}


def _stored(node: Node, stix_id: str) -> StixObject:
    with node.db.read() as session:
        row = session.scalar(select(StixObject).where(StixObject.stix_id == stix_id))
        assert row is not None
        session.expunge(row)
        return row


def _read(client: TestClient, node: Node, report_id: str) -> dict[str, Any]:
    found = client.get(f"/api/reports/{report_id}", headers=token_headers(node, "ana.analyst"))
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_a_name_beside_the_properties_that_disagrees_is_refused(client: TestClient, node: Node) -> None:
    # It was a 201: the report showed "Visible Name", export and resolution used "Hidden Other Name".
    body = report_body()
    body["objects"][0] |= {"name": "Visible Name"}
    body["objects"][0]["properties"]["name"] = "Hidden Other Name"
    found = _refused(client, node, body)
    assert list(found) == ["objects[0].name"]
    assert found["objects[0].name"].startswith("'Visible Name' disagrees with properties.name, 'Hidden Other Name'")


def test_a_name_given_once_is_the_name_shown_and_the_name_released(client: TestClient, node: Node) -> None:
    # A name only beside the properties was refused: `objects[0].properties.name: required`.
    beside, inside = report_body(), report_body()
    del beside["objects"][0]["properties"]["name"]
    del inside["objects"][0]["name"]
    for body in (beside, inside):
        created = _post(client, node, body)
        assert created.status_code == 201, created.text
        (shown,) = _read(client, node, created.json()["id"])["objects"]
        assert shown["name"] == shown["properties"]["name"] == "Evaristo Luján Carmona"
        row = _stored(node, body["objects"][0]["id"])
        assert row.name == row.body["name"] == "Evaristo Luján Carmona"


def _place_and_sighting(**sighting_fields: Any) -> dict[str, Any]:
    us_mx = marking(["USA", "MEX"])
    truck, place = f"x-tearline-vehicle--{uuid.uuid4()}", f"location--{uuid.uuid4()}"
    objects = [
        {"id": truck, "type": "x-tearline-vehicle", "properties": {"plate": "FTX-9031"}, "marking": us_mx},
        {
            "id": place,
            "type": "location",
            "name": "Nogales, Sonora",
            "properties": {"name": "Nogales, Sonora", "latitude": 31.3086, "longitude": -110.9422},
            "marking": us_mx,
            "latitude": 31.3086,
            "longitude": -110.9422,
        },
        {
            "id": f"sighting--{uuid.uuid4()}",
            "type": "sighting",
            "properties": {
                "sighting_of_ref": truck,
                "where_sighted_refs": [place],
                "first_seen": "2026-02-18T05:40:00.000Z",
            },
            "marking": us_mx,
            **sighting_fields,
        },
    ]
    return report_body(objects=objects)


def test_every_field_that_restates_a_property_must_agree_with_it(client: TestClient, node: Node) -> None:
    body = _place_and_sighting(
        name="FTX-9031 at Nogales",  # a sighting has no name property: its label is its own
        observed_at="2026-02-19T05:40:00Z",
        latitude=19.43,
        source_ref=f"identity--{uuid.uuid4()}",
    )
    body["objects"][0] |= {"name": "A white tractor", "properties": {"plate": "FTX-9031", "name": "Tractor"}}
    body["objects"][1]["longitude"] = -99.13
    found = _refused(client, node, body)
    assert set(found) == {
        "objects[0].name",
        "objects[1].longitude",
        "objects[2].observed_at",
        "objects[2].latitude",
        "objects[2].source_ref",
    }
    assert found["objects[0].name"].startswith("'A white tractor' disagrees with properties.name, 'Tractor'")
    assert found["objects[1].longitude"].startswith("-99.13 disagrees with properties.longitude, -110.9422")
    assert found["objects[2].observed_at"].startswith(
        "2026-02-19T05:40:00+00:00 disagrees with properties.first_seen, 2026-02-18T05:40:00+00:00"
    )
    assert "the place in properties.where_sighted_refs" in found["objects[2].latitude"]
    assert "disagrees with properties.sighting_of_ref" in found["objects[2].source_ref"]


def test_fields_left_out_are_taken_from_the_properties(client: TestClient, node: Node) -> None:
    # A sighting posted without its ends had none: the store checked no end of it (DESIGN §3.3 rule 8).
    body = _place_and_sighting()
    created = _post(client, node, body)
    assert created.status_code == 201, created.text
    truck, place, sighting = (o["id"] for o in body["objects"])
    row = _stored(node, sighting)
    assert (row.source_ref, row.target_ref) == (truck, place)
    assert (row.latitude, row.longitude) == (31.3086, -110.9422)
    assert row.observed_at is not None and row.observed_at.isoformat().startswith("2026-02-18T05:40:00")
    assert _stored(node, truck).name == "FTX-9031"


def test_a_report_read_and_sent_back_unchanged_is_accepted(client: TestClient, node: Node) -> None:
    """What the console's editor does: every field as the read gave it, the markings edited."""
    body = _place_and_sighting(name="FTX-9031 at Nogales")
    created = _post(client, node, body)
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    read = _read(client, node, report_id)
    fields = ("id", "type", "name", "properties", "observed_at", "latitude", "longitude")
    objects = [{k: o[k] for k in fields} | {"marking": marking(["USA", "MEX"])} for o in read["objects"]]
    saved = client.put(
        f"/api/reports/{report_id}", json=body | {"objects": objects}, headers=token_headers(node, "ana.analyst")
    )
    assert saved.status_code == 200, saved.text
    assert {o["name"] for o in _read(client, node, report_id)["objects"]} == {
        "FTX-9031",
        "Nogales, Sonora",
        "FTX-9031 at Nogales",
    }


def test_a_time_within_the_millisecond_its_property_says_is_the_same_time(client: TestClient, node: Node) -> None:
    """STIX timestamps hold milliseconds; a time read back with stored microseconds is sent back as read."""
    kept = _post(client, node, _place_and_sighting(observed_at="2026-02-18T05:40:00.000640Z"))
    assert kept.status_code == 201, kept.text
    found = _refused(client, node, _place_and_sighting(observed_at="2026-02-18T05:40:00.001Z"))
    assert set(found) == {"objects[2].observed_at"}
