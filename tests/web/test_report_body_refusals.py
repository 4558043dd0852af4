"""POST /api/reports refuses what it does not understand, as the bundle and CSV ways in do: a
misspelt marking field, an unknown body field, an object property tearline does not store."""

from __future__ import annotations

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
