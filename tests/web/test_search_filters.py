"""GET /api/search: a box finds what the reader is shown there, portions say when they were not
searched, and every refused parameter is named as `query.<name>` with a reason a caller can act on.

Each test runs on a fresh demo node, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.node import Node
from tearline.web.app import TIME_REASON
from tests.web.support import assert_error, marking, report_body, token_headers

SONORA_BOX = "-111.5,30.5,-110.5,31.5"  # around Nogales, away from every demo place
WITHHELD = "[withheld: source grade B2]"


def _get(client: TestClient, node: Node, username: str, **params: Any) -> Any:
    response = client.get("/api/search", headers=token_headers(node, username), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _hiding(source_fields: list[str]) -> dict[str, Any]:
    return marking(["USA"], controls=["NOFORN"], source_fields=source_fields, source_grade="B2")


def _post_places(client: TestClient, node: Node) -> tuple[str, str]:
    """By US-DEMO-NARC near Nogales: a place whose name is source-sensitive, and a sighting there
    whose coordinates are (a sighting's place is no text property of its own, so it may be hidden)."""
    truck, place, sighting = (f"{kind}--{uuid.uuid4()}" for kind in ("x-tearline-vehicle", "location", "sighting"))
    objects = [
        {"id": truck, "type": "x-tearline-vehicle", "properties": {"plate": "FTX-9031"}, "marking": _hiding([])},
        {
            "id": place,
            "type": "location",
            "properties": {"name": "Bodega Las Palmas, Nogales", "latitude": 31.30, "longitude": -110.94},
            "marking": _hiding(["name"]),
        },
        {
            "id": sighting,
            "type": "sighting",
            "properties": {
                "sighting_of_ref": truck,
                "where_sighted_refs": [place],
                "first_seen": "2026-02-18T05:40:00.000Z",
            },
            "marking": _hiding(["latitude", "longitude"]),
        },
    ]
    headers = token_headers(node, "ana.analyst")
    response = client.post("/api/reports", json=report_body(objects=objects), headers=headers)
    assert response.status_code == 201, response.text
    return place, sighting


def test_a_box_finds_a_place_whose_coordinates_the_reader_is_shown(client: TestClient, node: Node) -> None:
    named, placed = _post_places(client, node)
    # ian.intel is of another US agency: shown the grade for a source field, the rest as it is.
    found = {o["id"]: o for o in _get(client, node, "ian.intel", bbox=SONORA_BOX)["objects"]["items"]}
    assert list(found) == [named]
    assert found[named]["name"] == WITHHELD
    assert (found[named]["latitude"], found[named]["longitude"]) == (31.30, -110.94)
    # The sighting whose coordinates are withheld is there to read, without them, but no box finds it.
    headers = token_headers(node, "ian.intel")
    sightings = client.get("/api/objects", params={"type": "sighting"}, headers=headers).json()["items"]
    listed = {o["id"]: o for o in sightings}
    assert listed[placed]["latitude"] is None and listed[placed]["longitude"] is None
    # The originator agency sees both, and its box finds both.
    mine = _get(client, node, "ana.analyst", bbox=SONORA_BOX)["objects"]
    assert {o["id"] for o in mine["items"]} == {named, placed} and mine["total"] == 2


def test_a_text_search_does_not_match_a_hidden_source_field(client: TestClient, node: Node) -> None:
    named, _ = _post_places(client, node)
    assert _get(client, node, "ian.intel", q="Palmas")["objects"]["total"] == 0
    assert [o["id"] for o in _get(client, node, "ana.analyst", q="Palmas")["objects"]["items"]] == [named]


@pytest.mark.parametrize(
    "narrowing",
    [{"type": "sighting"}, {"after": "2020-01-01"}, {"before": "2099-01-01"}, {"bbox": "-180,-90,180,90"}],
    ids=["type", "after", "before", "bbox"],
)
def test_portions_are_null_with_a_note_when_a_filter_they_lack_is_given(
    client: TestClient, node: Node, narrowing: dict[str, str]
) -> None:
    # "convoy" is in portions ana may read: a total of 0 here would tell her none matches.
    assert _get(client, node, "ana.analyst", q="convoy")["portions"]["total"] > 0
    answer = _get(client, node, "ana.analyst", q="convoy", **narrowing)
    assert answer["portions"] is None
    assert "portions have no type, time or place" in answer["note"]
    assert isinstance(answer["objects"]["total"], int)


def test_portions_are_null_without_text(client: TestClient, node: Node) -> None:
    answer = _get(client, node, "ana.analyst", type="location")
    assert answer["portions"] is None and "give q" in answer["note"]
    assert answer["objects"]["total"] > 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "2026-05-01T00:00:00Z", "before": "2026-04-01T00:00:00Z"}, "query.after"),
        ({"bbox": "1,2,3"}, "query.bbox"),
        ({"type": "person"}, "query.type"),
        ({"q": '"cerro'}, "query.q"),
        ({"limit": "0"}, "query.limit"),
        ({"offset": "-1"}, "query.offset"),
        ({"after": "yesterday"}, "query.after"),
        ({"before": "2026-13-45"}, "query.before"),
    ],
    ids=["window", "bbox", "type", "q", "limit", "offset", "after-word", "before-no-such-month"],
)
def test_every_refused_search_parameter_is_named_as_a_query_parameter(
    client: TestClient, node: Node, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/search", params=params, headers=token_headers(node, "ana.analyst"))
    body = assert_error(response, 422, field=field)
    assert body["message"].startswith(f"{field}: ")


@pytest.mark.parametrize("value", ["yesterday", "last tuesday", "2026-12-07T25:00:00Z", ""])
def test_a_time_that_cannot_be_read_says_what_would_be(client: TestClient, node: Node, value: str) -> None:
    response = client.get("/api/search", params={"after": value}, headers=token_headers(node, "ana.analyst"))
    body = assert_error(response, 422, field="query.after")
    assert body["problems"][0]["reason"] == TIME_REASON
    assert "2026-12-07T10:00:00Z" in body["message"] and "too short" not in body["message"]


def test_objects_name_an_unknown_type_as_a_query_parameter(client: TestClient, node: Node) -> None:
    response = client.get("/api/objects", params={"type": "vehicle"}, headers=token_headers(node, "ana.analyst"))
    assert_error(response, 422, field="query.type")
