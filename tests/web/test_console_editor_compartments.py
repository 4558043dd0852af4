"""The report editor names only the compartments its author holds, on SQLite and PostgreSQL.

A compartment's name is compartmented knowledge (DESIGN §3.3, "nothing hidden shows"): the editor
offers only the author's own, and the banner preview and the editor's saves refuse one the author
does not hold exactly as they refuse a compartment that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tearline.fixtures import VETTED_UNIT
from tests.console.test_sessions import log_in
from tests.web.support import marking, report_body

UNKNOWN = "VU-NO-SUCH-UNIT"


def _preview(client: TestClient, csrf: str, compartment: str) -> tuple[int, str]:
    vetted = marking(["USA", "MEX"], compartments=[compartment])
    response = client.post("/console/banner", json={"markings": [vetted]}, headers={"X-CSRF-Token": csrf})
    return response.status_code, response.text.replace(compartment, "NAME")


def _save(client: TestClient, csrf: str, compartment: str) -> tuple[int, str]:
    body: dict[str, Any] = report_body(need_to_know="Analysts of the corridor.")
    body["portions"][0]["marking"] = marking(["USA", "MEX"], compartments=[compartment])
    response = client.post("/console/reports", json=body, headers={"X-CSRF-Token": csrf})
    return response.status_code, response.text.replace(compartment, "NAME")


def test_the_editor_offers_only_the_compartments_the_author_holds(client: TestClient) -> None:
    log_in(client, "ana.analyst")
    assert VETTED_UNIT in client.get("/reports/new").text  # ana is read into the vetted unit
    log_in(client, "ian.intel")
    page = client.get("/reports/new")
    assert page.status_code == 200 and VETTED_UNIT not in page.text


def test_a_compartment_the_author_does_not_hold_answers_like_an_unknown_one(client: TestClient) -> None:
    csrf = log_in(client, "ian.intel")
    held_by_others, unknown = _preview(client, csrf, VETTED_UNIT), _preview(client, csrf, UNKNOWN)
    assert held_by_others == unknown and unknown[0] == 422 and "unknown compartment" in unknown[1]
    held_by_others, unknown = _save(client, csrf, VETTED_UNIT), _save(client, csrf, UNKNOWN)
    assert held_by_others == unknown and unknown[0] == 422 and "unknown compartment" in unknown[1]


def test_the_author_who_holds_the_compartment_may_use_it(client: TestClient) -> None:
    csrf = log_in(client, "ana.analyst")
    status, text = _preview(client, csrf, VETTED_UNIT)
    assert status == 200 and "NAME" in text
    assert _save(client, csrf, VETTED_UNIT)[0] == 201
