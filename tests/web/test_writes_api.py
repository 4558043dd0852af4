"""The API as a way in: new reports, new versions, and refusals that store nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Principal, Report
from tearline.fixtures import VETTED_UNIT, Demo
from tearline.node import Node
from tests.web.support import MISSING_REPORT, assert_error, iso, marking, report_body, row_counts, token_headers


def _post(client: TestClient, node: Node, body: dict[str, Any], username: str = "ana.analyst") -> Any:
    return client.post("/api/reports", json=body, headers=token_headers(node, username))


def test_post_stores_a_report_and_answers_201(client: TestClient, node: Node) -> None:
    before = row_counts(node)
    response = _post(client, node, report_body(["Couriers cross at Nogales.", "They carry cash in tyres."]))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 1
    assert created["id"].startswith("report--")
    report = client.get(f"/api/reports/{created['id']}", headers=token_headers(node, "mateo.enlace")).json()
    assert report["banner"] == "SECRET//REL TO USA, MEX"
    assert [p["text"] for p in report["portions"]] == ["Couriers cross at Nogales.", "They carry cash in tyres."]
    assert report["predicate"].startswith("Reasonable suspicion of bulk cash smuggling")
    after = row_counts(node)
    assert after["report"] == before["report"] + 1
    assert after["portion"] == before["portion"] + 3  # the title is a marked portion too
    with node.db.read() as session:
        stored = session.scalar(select(Report).where(Report.stix_id == created["id"]))
        author = session.scalar(select(Principal.id).where(Principal.username == "ana.analyst"))
    assert stored is not None and stored.submitter_id == author


def _with_portion_marking(index: int, **changes: Any) -> dict[str, Any]:
    body = report_body(["First paragraph.", "Second paragraph.", "Third paragraph."])
    body["portions"][index]["marking"] = {**body["portions"][index]["marking"], **changes}
    return body


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (_with_portion_marking(1, rel_to=["MEX"]), ["portions[1].marking.rel_to"]),
        (_with_portion_marking(1, rel_to=[]), ["portions[1].marking.rel_to"]),
        (_with_portion_marking(2, controls=["NOFORN"]), ["portions[2].marking.controls"]),
        (_with_portion_marking(0, level="SECRETA"), ["portions[0].marking.level"]),
        (_with_portion_marking(1, rel_to=["USA", "GBR"]), ["portions[1].marking.rel_to"]),
        (_with_portion_marking(1, controls=["EYES ONLY"]), ["portions[1].marking.controls"]),
        (_with_portion_marking(1, compartments=["VU-NONE"]), ["portions[1].marking.compartments"]),
        (_with_portion_marking(1, tlp="WHITE"), ["portions[1].marking.tlp"]),
        (
            report_body(objects=[{**report_body()["objects"][0], "marking": marking(["USA"], level="SEKRET")}]),
            ["objects[0].marking.level"],
        ),
        (
            {**_with_portion_marking(0, rel_to=["CAN"]), "title": {"text": "t", "marking": marking([])}},
            ["title.marking.rel_to", "portions[0].marking.rel_to"],
        ),
    ],
    ids=[
        "rel-to-without-originator",
        "empty-rel-to",
        "noforn-with-others",
        "foreign-label",
        "not-a-partner",
        "unknown-control",
        "unknown-compartment",
        "tlp-1.0",
        "object-unknown-label",
        "every-problem-listed",
    ],
)
def test_an_invalid_marking_is_422_naming_each_field_and_nothing_is_stored(
    client: TestClient, node: Node, body: dict[str, Any], fields: list[str]
) -> None:
    before = row_counts(node)
    response = _post(client, node, body)
    problems = assert_error(response, 422)["problems"]
    assert sorted({p["field"] for p in problems}) == sorted(fields)
    assert row_counts(node) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"review_due": iso(clock.now() + timedelta(days=5 * 366 + 2))}, "review_due"),
        ({"review_due": iso(clock.now() - timedelta(days=1))}, "review_due"),
        ({"review_due": "next spring"}, "review_due"),
        ({"predicate": "   "}, "predicate"),
        ({"predicate": None}, "predicate"),
        ({"workspace": "fc-nowhere"}, "workspace"),
    ],
    ids=[
        "review-beyond-5-years",
        "review-in-the-past",
        "review-not-a-date",
        "blank-predicate",
        "null-predicate",
        "unknown-workspace",
    ],
)
def test_a_refused_record_names_the_field_and_stores_nothing(
    client: TestClient, node: Node, changes: dict[str, Any], field: str
) -> None:
    before = row_counts(node)
    assert_error(_post(client, node, report_body(**changes)), 422, field=field)
    assert row_counts(node) == before


def test_a_missing_predicate_is_refused(client: TestClient, node: Node) -> None:
    body = report_body()
    del body["predicate"]
    before = row_counts(node)
    assert_error(_post(client, node, body), 422, field="predicate")
    assert row_counts(node) == before


def test_a_malformed_body_is_422_naming_the_field(client: TestClient, node: Node) -> None:
    body = report_body()
    body["portions"][0] = {"marking": body["portions"][0]["marking"]}  # no text
    problems = assert_error(_post(client, node, body), 422)["problems"]
    assert {p["field"] for p in problems} & {"portions.0.text", "portions[0].text"}, problems


def _posted(client: TestClient, node: Node) -> str:
    response = _post(client, node, report_body(["Original paragraph about the couriers."]))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_put_makes_version_2_and_the_old_one_stays_for_auditors(client: TestClient, node: Node) -> None:
    report_id = _posted(client, node)
    put = client.put(
        f"/api/reports/{report_id}",
        json=report_body(["Corrected paragraph: the couriers cross on Thursdays."]),
        headers=token_headers(node, "ana.analyst"),
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"id": report_id, "version": 2}

    analyst = token_headers(node, "ana.analyst")
    current = client.get(f"/api/reports/{report_id}", headers=analyst).json()
    assert (current["version"], current["versions"]) == (2, 2)
    assert [p["text"] for p in current["portions"]] == ["Corrected paragraph: the couriers cross on Thursdays."]

    auditor = token_headers(node, "carla.auditor")
    old = client.get(f"/api/reports/{report_id}", params={"version": 1}, headers=auditor)
    assert old.status_code == 200, old.text
    assert old.json()["version"] == 1
    assert [p["text"] for p in old.json()["portions"]] == ["Original paragraph about the couriers."]

    refused = assert_error(client.get(f"/api/reports/{report_id}", params={"version": 1}, headers=analyst), 403)
    assert refused["rule"] == "auditor-role"
    assert client.get(f"/api/reports/{report_id}", params={"version": 2}, headers=analyst).status_code == 200


def test_a_reader_who_saw_only_an_old_version_cannot_read_it_without_the_auditor_role(
    client: TestClient, node: Node
) -> None:
    report_id = _posted(client, node)  # ian.intel (not law enforcement) sees version 1 …
    les = marking(["USA", "MEX"], controls=["LES"])
    body = report_body(["Now law-enforcement sensitive."], title={"text": "Couriers (LES)", "marking": les})
    body["portions"][0]["marking"] = les
    body["objects"][0]["marking"] = les
    assert (
        client.put(f"/api/reports/{report_id}", json=body, headers=token_headers(node, "ana.analyst")).status_code
        == 200
    )
    ian = token_headers(node, "ian.intel")  # … and nothing of version 2: the report is hidden from him now
    missing = client.get(f"/api/reports/{MISSING_REPORT}", params={"version": 1}, headers=ian)
    for params in ({}, {"version": 1}):
        hidden = client.get(f"/api/reports/{report_id}", params=params, headers=ian)
        assert_error(hidden, 404)
        assert hidden.json()["message"] == missing.json()["message"].replace(MISSING_REPORT, report_id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"review_due": iso(clock.now() + timedelta(days=5 * 366 + 2))}, "review_due"),
        ({"predicate": ""}, "predicate"),
    ],
    ids=["review-beyond-5-years", "blank-predicate"],
)
def test_an_invalid_edit_is_refused_and_keeps_version_1(
    client: TestClient, node: Node, changes: dict[str, Any], field: str
) -> None:
    report_id = _posted(client, node)
    before = row_counts(node)
    headers = token_headers(node, "ana.analyst")
    assert_error(
        client.put(f"/api/reports/{report_id}", json=report_body(**changes), headers=headers), 422, field=field
    )
    assert row_counts(node) == before
    assert client.get(f"/api/reports/{report_id}", headers=headers).json()["version"] == 1


def test_an_editor_who_cannot_see_the_whole_report_gets_the_missing_404(
    client: TestClient, node: Node, demo: Demo
) -> None:
    # ian.intel sees part of the convoy report but not its LES or compartmented portions.
    headers = token_headers(node, "ian.intel")
    before = row_counts(node)
    hidden = client.put(f"/api/reports/{demo.reports['convoy']}", json=report_body(), headers=headers)
    missing = client.put(f"/api/reports/{MISSING_REPORT}", json=report_body(), headers=headers)
    assert_error(hidden, 404)
    assert_error(missing, 404)
    assert hidden.json()["message"] == missing.json()["message"].replace(MISSING_REPORT, demo.reports["convoy"])
    assert row_counts(node) == before


def test_only_the_originator_agency_makes_a_new_version(client: TestClient, node: Node) -> None:
    """DESIGN §3.4: a marking is the originator's decision, so another agency may not rewrite it."""
    report_id = _posted(client, node)  # REL TO USA, MEX, in the workspace: mateo and ian see all of it
    widened = report_body(["Rewritten elsewhere, now for Canada too."])
    widened["portions"][0]["marking"] = marking(["USA", "MEX", "CAN"])
    before = row_counts(node)
    for username in ("mateo.enlace", "ian.intel"):
        refused = client.put(f"/api/reports/{report_id}", json=widened, headers=token_headers(node, username))
        assert assert_error(refused, 403)["rule"] == "originator"
    assert row_counts(node) == before
    chloe = client.get(f"/api/reports/{report_id}", headers=token_headers(node, "chloe.liaison"))
    assert_error(chloe, 404)


def test_a_report_written_through_the_api_originates_with_its_authors_agency(client: TestClient, node: Node) -> None:
    before = row_counts(node)
    forged = _post(client, node, report_body(["Attributed to another agency."]), username="mateo.enlace")
    problems = assert_error(forged, 422)["problems"]
    assert {p["field"] for p in problems} == {"marking.originator"}
    assert {p.get("item") for p in problems} >= {"title", "portion 1"}
    assert row_counts(node) == before

    mex = marking(["USA", "MEX"])
    mex["originator"] = {"nation": "MEX", "agency": "MX-DEMO-FIA"}
    mex["level"] = "SECRETA"
    own = report_body(["Written by the Mexican liaison."], title={"text": "Liaison note", "marking": mex}, objects=[])
    own["portions"][0]["marking"] = mex
    created = _post(client, node, own, username="mateo.enlace")
    assert created.status_code == 201, created.text
    read = client.get(f"/api/reports/{created.json()['id']}", headers=token_headers(node, "ana.analyst"))
    assert read.json()["portions"][0]["marking"]["originator"] == {"nation": "MEX", "agency": "MX-DEMO-FIA"}


@pytest.mark.parametrize("username", ["carla.auditor", "adam.admin", "dan.disclosure"])
def test_writing_a_report_needs_the_analyst_role(client: TestClient, node: Node, username: str) -> None:
    # Roles grant actions (DESIGN §2): an auditor reads the log, an admin runs the node, neither writes reports.
    report_id = _posted(client, node)
    before = row_counts(node)
    refused = _post(client, node, report_body(["Written by someone who is not an analyst."]), username=username)
    assert assert_error(refused, 403)["rule"] == "analyst-role"
    edited = client.put(f"/api/reports/{report_id}", json=report_body(), headers=token_headers(node, username))
    assert assert_error(edited, 403)["rule"] == "analyst-role"
    assert row_counts(node) == before


def test_an_analyst_writes_at_most_at_their_clearance_and_within_their_compartments(
    client: TestClient, node: Node
) -> None:
    # ian.intel holds SECRET and no compartment: a TOP SECRET or vetted-unit item is one he could not read back.
    before = row_counts(node)
    ian = marking(["USA", "MEX"], agency="US-DEMO-INTEL")
    body = report_body(["Above the author."], title={"text": "Note", "marking": ian}, objects=[])
    body["portions"][0]["marking"] = {**ian, "level": "TOP SECRET"}
    problems = assert_error(_post(client, node, body, username="ian.intel"), 422)["problems"]
    assert {(p["field"], p.get("item")) for p in problems} >= {("marking.level", "portion 1")}
    # A compartment he does not hold is refused as one that does not exist: its name is not his to learn.
    refusals = []
    for name in (VETTED_UNIT, "VU-NONE"):
        body["portions"] = [{"text": "For the vetted unit.", "marking": {**ian, "compartments": [name]}}]
        (problem,) = assert_error(_post(client, node, body, username="ian.intel"), 422)["problems"]
        refusals.append((problem["field"], problem["reason"].replace(name, "NAME")))
    assert refusals[0] == refusals[1] == ("portions[0].marking.compartments", "unknown compartment 'NAME'")
    assert row_counts(node) == before
    body["portions"] = [{"text": "Within his clearance.", "marking": ian}]
    assert _post(client, node, body, username="ian.intel").status_code == 201
