"""The read paths over HTTP: each answers per reader, computed over what that reader may see.

Nothing here changes what anyone sees, so the module shares one demo node per backend.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tearline.node import Node
from tests.web.conftest import Scenario
from tests.web.support import MISSING_REPORT, assert_error, iso, login, token_headers

CONVOY_TITLE = "Transportes Cerro Pardo convoy, Torreón to Ciudad Juárez"
CONVOY = "Three tractor-trailers of Transportes Cerro Pardo"
PORT = "The network's buyer meets a contact at the port of Vancouver"
SOURCE = "Reporting comes from a person inside the company's dispatch office"
VETTED = "The binational vetted unit plans to observe the Jiménez stop"
WITHHELD = "[withheld: source grade B2]"


@pytest.fixture
def node(scenario: Scenario) -> Node:
    return scenario.node


@pytest.fixture
def demo(scenario: Scenario) -> Demo:
    return scenario.demo


@pytest.fixture
def demo_start(scenario: Scenario) -> datetime:
    return scenario.start


@pytest.fixture
def client(scenario: Scenario) -> TestClient:
    return scenario.client


def _get(client: TestClient, node: Node, username: str, path: str, **params: Any) -> Any:
    response = client.get(path, headers=token_headers(node, username), params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("ana.analyst", [("precursor", "CUI//REL TO USA, CAN, MEX"), ("convoy", "SECRET//VU-HALCON//LES//NOFORN")]),
        ("mateo.enlace", [("convoy", "SECRET//LES//REL TO USA, MEX")]),
        ("chloe.liaison", [("convoy", "SECRET//REL TO USA, CAN, MEX")]),
        ("adam.admin", [("precursor", "CUI//REL TO USA, CAN, MEX")]),
    ],
    ids=["us-analyst", "mex-liaison", "can-liaison", "us-admin-cui"],
)
def test_report_list_shows_each_reader_their_reports_and_banners(
    client: TestClient, node: Node, demo: Demo, username: str, expected: list[tuple[str, str]]
) -> None:
    page = _get(client, node, username, "/api/reports")
    assert page["total"] == len(expected)
    assert [(item["id"], item["banner"]) for item in page["items"]] == [
        (demo.reports[short], banner) for short, banner in expected
    ]


@pytest.mark.parametrize(
    ("username", "banner", "title", "texts"),
    [
        (
            "ana.analyst",
            "SECRET//VU-HALCON//LES//NOFORN",
            CONVOY_TITLE,
            [CONVOY, PORT, SOURCE, VETTED],
        ),
        ("mateo.enlace", "SECRET//LES//REL TO USA, MEX", CONVOY_TITLE, [CONVOY, PORT]),
        ("chloe.liaison", "SECRET//REL TO USA, CAN, MEX", None, [PORT]),
        ("ian.intel", "SECRET//NOFORN", CONVOY_TITLE, [PORT, WITHHELD]),
        ("carla.auditor", "SECRET//LES//NOFORN", CONVOY_TITLE, [CONVOY, PORT, SOURCE]),
    ],
    ids=["us-analyst-vetted", "mex-liaison", "can-liaison", "us-intel-not-les", "us-auditor"],
)
def test_report_read_renumbers_visible_portions_and_rolls_up_the_banner(
    client: TestClient,
    node: Node,
    demo: Demo,
    username: str,
    banner: str,
    title: str | None,
    texts: list[str],
) -> None:
    report = _get(client, node, username, f"/api/reports/{demo.reports['convoy']}")
    assert report["banner"] == banner
    assert report["title"] == title
    assert [p["number"] for p in report["portions"]] == list(range(1, len(texts) + 1))
    assert len(report["portions"]) == len(texts)
    for portion, text in zip(report["portions"], texts, strict=True):
        assert portion["text"].startswith(text)
    assert (report["version"], report["versions"]) == (1, 1)


def test_source_sensitive_text_shows_only_the_grade_to_other_agencies(
    client: TestClient, node: Node, demo: Demo
) -> None:
    own = _get(client, node, "ana.analyst", f"/api/reports/{demo.reports['convoy']}")
    other = _get(client, node, "ian.intel", f"/api/reports/{demo.reports['convoy']}")
    own_source = next(p for p in own["portions"] if "NOFORN" in p["marking"]["controls"])
    other_source = next(p for p in other["portions"] if "NOFORN" in p["marking"]["controls"])
    assert own_source["text"].startswith(SOURCE)
    assert other_source["text"] == WITHHELD
    assert "dispatch office" not in str(other)
    # The hidden text is not searchable either: a hit would confirm what it says.
    assert _get(client, node, "ana.analyst", "/api/search", q="dispatch office")["portions"]["total"] == 1
    assert _get(client, node, "ian.intel", "/api/search", q="dispatch office")["portions"]["total"] == 0


@pytest.mark.parametrize("query", ["", "?version=1", "?version=2"], ids=["current", "version-1", "version-2"])
def test_a_hidden_report_answers_exactly_like_a_missing_one(
    client: TestClient, node: Node, demo: Demo, query: str
) -> None:
    headers = token_headers(node, "adam.admin")  # CUI clearance: the SECRET convoy report is hidden
    convoy = demo.reports["convoy"]
    hidden = client.get(f"/api/reports/{convoy}{query}", headers=headers)
    missing = client.get(f"/api/reports/{MISSING_REPORT}{query}", headers=headers)
    assert_error(hidden, 404)
    assert_error(missing, 404)
    assert hidden.json() == {k: v.replace(MISSING_REPORT, convoy) for k, v in missing.json().items()}


def test_object_list_filters_per_reader_and_by_type(client: TestClient, node: Node) -> None:
    everything = _get(client, node, "mateo.enlace", "/api/objects")
    assert everything["total"] == 14
    sightings = _get(client, node, "mateo.enlace", "/api/objects", type="sighting")
    assert sightings["total"] == 3
    assert {o["type"] for o in sightings["items"]} == {"sighting"}
    chloe = _get(client, node, "chloe.liaison", "/api/objects")
    assert sorted(o["name"] for o in chloe["items"]) == ["Port of Vancouver", "Rubén Esquivel Otálora"]
    assert chloe["total"] == 2
    assert _get(client, node, "adam.admin", "/api/objects") == {"total": 0, "items": []}


def test_object_list_pages_and_totals(client: TestClient, node: Node) -> None:
    first = _get(client, node, "ana.analyst", "/api/objects", limit=5)
    rest = _get(client, node, "ana.analyst", "/api/objects", limit=50, offset=5)
    assert first["total"] == rest["total"] == 14
    assert len(first["items"]) == 5 and len(rest["items"]) == 9
    assert not {o["id"] for o in first["items"]} & {o["id"] for o in rest["items"]}


def test_search_by_text_type_time_window_and_bounding_box(client: TestClient, node: Node, demo_start: datetime) -> None:
    def names(**params: Any) -> list[str]:
        return sorted(
            o["name"] for o in _get(client, node, "mateo.enlace", "/api/search", **params)["objects"]["items"]
        )

    assert names(q="cerro pardo") == ["Transportes Cerro Pardo S.A. de C.V."]
    assert names(type="x-tearline-vehicle") == ["FTX-4821"]
    window = {"after": iso(demo_start + timedelta(hours=1)), "before": iso(demo_start + timedelta(hours=10))}
    assert names(type="sighting", **window) == ["FTX-4821 at Jiménez, Chihuahua"]
    chihuahua = "-107.5,26.5,-104.0,32.0"
    assert names(bbox=chihuahua) == [
        "Ciudad Juárez, Chihuahua",
        "FTX-4821 at Ciudad Juárez, Chihuahua",
        "FTX-4821 at Jiménez, Chihuahua",
        "Jiménez, Chihuahua",
    ]
    assert names(bbox=chihuahua, type="location") == ["Ciudad Juárez, Chihuahua", "Jiménez, Chihuahua"]
    text = _get(client, node, "mateo.enlace", "/api/search", q="Vancouver")
    assert text["portions"]["total"] == 1
    assert text["portions"]["items"][0]["text"].startswith(PORT)


def test_search_never_returns_what_the_reader_may_not_see(client: TestClient, node: Node) -> None:
    vancouver = "-124,49,-122,50"
    assert [
        o["name"] for o in _get(client, node, "chloe.liaison", "/api/search", bbox=vancouver)["objects"]["items"]
    ] == ["Port of Vancouver"]
    assert _get(client, node, "chloe.liaison", "/api/search", q="cerro")["objects"]["total"] == 0
    # The convoy portion is LES and REL TO USA, MEX: not a hit for a Canadian, nor for a US non-LES analyst.
    assert _get(client, node, "chloe.liaison", "/api/search", q="tractor-trailers")["portions"]["total"] == 0
    assert _get(client, node, "ian.intel", "/api/search", q="tractor-trailers")["portions"]["total"] == 0
    assert _get(client, node, "mateo.enlace", "/api/search", q="tractor-trailers")["portions"]["total"] == 1


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "a,b,c,d", "10,0,5,1", "0,80,1,95"],
    ids=["three-numbers", "not-numbers", "west-after-east", "north-beyond-90"],
)
def test_a_bad_bounding_box_is_422_naming_bbox(client: TestClient, node: Node, bbox: str) -> None:
    response = client.get("/api/search", params={"bbox": bbox}, headers=token_headers(node, "ana.analyst"))
    assert_error(response, 422, field="query.bbox")


def test_a_bad_time_is_422_naming_the_parameter(client: TestClient, node: Node) -> None:
    response = client.get("/api/search", params={"after": "last tuesday"}, headers=token_headers(node, "ana.analyst"))
    body = assert_error(response, 422)
    assert [p["field"] for p in body["problems"]] == ["query.after"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (
            "ana.analyst",
            {
                "reports": 2,
                "portions": 5,
                "objects": {
                    "identity": 3,
                    "location": 4,
                    "relationship": 2,
                    "sighting": 3,
                    "x-tearline-phone": 1,
                    "x-tearline-vehicle": 1,
                },
            },
        ),
        (
            "mateo.enlace",
            {
                "reports": 1,
                "portions": 2,
                "objects": {
                    "identity": 3,
                    "location": 4,
                    "relationship": 2,
                    "sighting": 3,
                    "x-tearline-phone": 1,
                    "x-tearline-vehicle": 1,
                },
            },
        ),
        ("chloe.liaison", {"reports": 1, "portions": 1, "objects": {"identity": 1, "location": 1}}),
        (
            "ian.intel",
            {
                "reports": 2,
                "portions": 3,
                "objects": {
                    "identity": 3,
                    "location": 4,
                    "relationship": 2,
                    "sighting": 3,
                    "x-tearline-phone": 1,
                    "x-tearline-vehicle": 1,
                },
            },
        ),
        ("adam.admin", {"reports": 1, "portions": 1, "objects": {}}),
    ],
    ids=["us-analyst-vetted", "mex-liaison", "can-liaison", "us-intel-not-les", "us-admin-cui"],
)
def test_counts_are_computed_over_what_each_reader_may_see(
    client: TestClient, node: Node, username: str, expected: dict[str, Any]
) -> None:
    assert _get(client, node, username, "/api/counts") == expected


def test_a_foreign_reader_sees_nothing_outside_their_workspaces(client: TestClient, node: Node, demo: Demo) -> None:
    # The precursor report is CUI, REL TO USA, CAN, MEX, but in no workspace (DESIGN §3.3 rule 7).
    precursor = demo.reports["precursor"]
    for username in ("mateo.enlace", "chloe.liaison"):
        assert_error(client.get(f"/api/reports/{precursor}", headers=token_headers(node, username)), 404)
    assert _get(client, node, "adam.admin", f"/api/reports/{precursor}")["banner"] == "CUI//REL TO USA, CAN, MEX"


def test_logged_in_reads_match_token_reads(client: TestClient, node: Node, demo: Demo) -> None:
    by_login = client.get(f"/api/reports/{demo.reports['convoy']}", headers=login(client, "mateo.enlace"))
    assert by_login.json() == _get(client, node, "mateo.enlace", f"/api/reports/{demo.reports['convoy']}")


def test_openapi_document_is_served(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/login",
        "/api/reports",
        "/api/reports/{report_id}",
        "/api/objects",
        "/api/search",
        "/api/counts",
    ):
        assert path in paths


def test_text_search_folds_accents_and_refuses_what_it_cannot_parse(client: TestClient, node: Node) -> None:
    found = _get(client, node, "mateo.enlace", "/api/search", q="JIMENEZ chihua*")["objects"]["items"]
    assert "Jiménez, Chihuahua" in [o["name"] for o in found]
    for bad, reason in (('"cerro', "not closed"), ("*", "must follow a word"), ("?!", "no word")):
        response = client.get("/api/search", headers=token_headers(node, "mateo.enlace"), params={"q": bad})
        body = assert_error(response, 422)
        assert body["problems"][0]["field"] == "query.q" and reason in body["problems"][0]["reason"], body


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/search", {"type": "person"}, "query.type"),
        ("/api/search", {"type": ["location", "phone"]}, "query.type"),
        ("/api/objects", {"type": "vehicle"}, "query.type"),
        ("/api/search", {"after": "2026-05-01T00:00:00Z", "before": "2026-04-01T00:00:00Z"}, "query.after"),
    ],
    ids=["search-type-person", "search-second-type-unknown", "objects-type-vehicle", "window-after-past-before"],
)
def test_an_unknown_type_or_an_empty_window_is_422_naming_it_not_an_empty_page(
    client: TestClient, node: Node, path: str, params: dict[str, Any], field: str
) -> None:
    # An empty answer would read as "nothing on record": a typo must not look like a finding.
    response = client.get(path, params=params, headers=token_headers(node, "ana.analyst"))
    body = assert_error(response, 422, field=field)
    if field == "query.type":
        assert "x-tearline-vehicle" in body["message"]
