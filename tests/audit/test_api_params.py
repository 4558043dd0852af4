"""/api/audit parameters: times without a zone are UTC, bad values are 422s naming them before anything
is logged, and indexes past what an entry can hold (2**53 - 1) are refused cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tearline.audit import log
from tearline.audit.search import Query, search
from tearline.node import Node
from tearline.store.principals import add_principal, issue_token
from tearline.web.app import create_app
from tests.audit.support import fill

AUDITOR = "inspector@US-DEMO-NARC"


@pytest.fixture
def served(node: Node) -> Iterator[tuple[Node, TestClient, dict[str, str]]]:
    fill(node, 12)  # times 2026-03-01T12:00:00Z + i seconds
    with node.db.write() as session:
        principal = add_principal(session, "inspector", "USA", "US-DEMO-NARC", "SECRET", roles=["auditor"])
        headers = {"Authorization": f"Bearer {issue_token(session, principal)}"}
    with TestClient(create_app(node)) as client:
        yield node, client, headers


def searches_logged(node: Node) -> list[str]:
    with node.db.read() as session:
        return [h.event.outcome for h in search(session, Query(actor=AUDITOR, action="audit.search")).hits]


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-03-01", None, list(range(12))),
        ("2026-03-02", None, []),
        ("2026-03-01T12:00:05", None, list(range(5, 12))),
        ("2026-03-01T12:00:05", "2026-03-01T12:00:07", [5, 6]),
        ("2026-03-01T13:00:05+01:00", "2026-03-01T12:00:07Z", [5, 6]),
        (None, "2026-03-01", []),
    ],
)
def test_times_without_a_zone_are_utc(
    served: tuple[Node, TestClient, dict[str, str]], since: str | None, until: str | None, expected: list[int]
) -> None:
    _node, client, headers = served
    params = {"actor": None, "since": since, "until": until}
    hits: list[int] = []
    for actor in range(5):
        params["actor"] = f"analyst{actor}@US-DEMO-NARC"
        response = client.get("/api/audit/search", params={k: v for k, v in params.items() if v}, headers=headers)
        assert response.status_code == 200, response.text
        hits += [h["index"] for h in response.json()["hits"]]
    assert sorted(hits) == expected


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"outcome": "maybe"}, "outcome", "allowed, denied"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since", "after until"),
        ({"since": "2026-03-02T00:00:00-01:00", "until": "2026-03-02T00:30:00"}, "since", "after until"),
    ],
)
def test_bad_search_parameters_are_422s_naming_them_and_not_logged_as_allowed(
    served: tuple[Node, TestClient, dict[str, str]], params: dict[str, str], field: str, words: str
) -> None:
    node, client, headers = served
    response = client.get("/api/audit/search", params={"actor": "analyst1@US-DEMO-NARC", **params}, headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"].startswith(f"{field}:") and words in body["message"]
    assert searches_logged(node) == []


TOO_BIG = [2**53, 2**63 - 1]


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/audit/leaves/{n}", "path.index"),
        ("/api/audit/leaves?start={n}", "query.start"),
        ("/api/audit/proof/inclusion?index={n}", "query.index"),
        ("/api/audit/proof/inclusion?index=0&size={n}", "query.size"),
        ("/api/audit/proof/consistency?old={n}", "query.old"),
        ("/api/audit/proof/consistency?old=0&new={n}", "query.new"),
        ("/api/audit/search?actor=a&after={n}", "query.after"),
    ],
)
def test_indexes_past_what_an_entry_holds_are_refused_naming_them(
    served: tuple[Node, TestClient, dict[str, str]], url: str, field: str, number: int
) -> None:
    node, client, headers = served
    with node.db.read() as session:
        before = log.log_size(session)
    response = client.get(url.format(n=number), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(f"{field}:")
    with node.db.read() as session:
        assert log.log_size(session) == before  # refused before the read, so nothing to log


def test_the_largest_index_is_read_and_logged(served: tuple[Node, TestClient, dict[str, str]]) -> None:
    node, client, headers = served
    response = client.get(f"/api/audit/leaves/{2**53 - 1}", headers=headers)
    assert response.status_code == 404, response.text
    assert "has no entry" in response.json()["message"]
    with node.db.read() as session:
        reads = search(session, Query(actor=AUDITOR, action="audit.leaf.read")).hits
    assert [h.event.detail for h in reads] == [{"index": 2**53 - 1}]
