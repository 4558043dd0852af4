"""Every read and decision over the API lands in the audit log, refusals included."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tearline.audit.search import Query, search
from tearline.fixtures import Demo, build_demo
from tearline.node import Node
from tearline.web.app import create_app


@pytest.fixture
def demo_client(node: Node) -> tuple[Node, Demo, TestClient]:
    demo = build_demo(node)
    return node, demo, TestClient(create_app(node))


def _login(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/login", json={"username": username, "password": Demo.passwords()[username]}).json()
    return {"Authorization": f"Bearer {token['token']}"}


def _entries(node: Node, **query: str) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    with node.db.read() as session:
        hits = search(session, Query(limit=500, **query)).hits  # type: ignore[arg-type]
    return [(h.event.action, h.event.outcome, tuple(h.event.objects), h.event.rule) for h in hits]


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/api/reports", "report.list"),
        ("/api/objects", "object.list"),
        ("/api/search?q=cerro", "search"),
        ("/api/counts", "counts"),
    ],
)
def test_each_read_path_appends_an_entry_for_the_reader(
    demo_client: tuple[Node, Demo, TestClient], path: str, action: str
) -> None:
    node, _, client = demo_client
    headers = _login(client, "mateo.enlace")
    assert client.get(path, headers=headers).status_code == 200
    actions = [a for a, outcome, _, _ in _entries(node, actor="mateo.enlace@MX-DEMO-FIA") if outcome == "allowed"]
    assert action in actions


def test_a_report_read_names_the_report_and_the_banner_shown(demo_client: tuple[Node, Demo, TestClient]) -> None:
    node, demo, client = demo_client
    report = demo.reports["convoy"]
    assert client.get(f"/api/reports/{report}", headers=_login(client, "mateo.enlace")).status_code == 200
    with node.db.read() as session:
        hits = search(session, Query(object_id=report, action="report.read")).hits
    assert [h.event.actor for h in hits] == ["mateo.enlace@MX-DEMO-FIA"]
    assert hits[0].event.marking == "SECRET//LES//REL TO USA, MEX"


def test_a_refused_read_is_logged_as_denied(demo_client: tuple[Node, Demo, TestClient]) -> None:
    node, demo, client = demo_client
    report = demo.reports["convoy"]
    assert client.get(f"/api/reports/{report}", headers=_login(client, "adam.admin")).status_code == 404
    denied = [e for e in _entries(node, object_id=report) if e[1] == "denied"]
    assert denied == [("report.read", "denied", (report,), "not_found")]


def test_failed_log_ins_bad_tokens_and_no_credentials_are_logged(demo_client: tuple[Node, Demo, TestClient]) -> None:
    node, _, client = demo_client
    assert client.post("/api/login", json={"username": "ana.analyst", "password": "wrong"}).status_code == 401
    assert client.post("/api/login", json={"username": "nobody", "password": "wrong"}).status_code == 401
    assert client.get("/api/reports", headers={"Authorization": "Bearer tl_forged"}).status_code == 401
    assert client.get("/api/counts").status_code == 401
    # A log-in names its principal as every other entry does, so "what did ana do" finds her failed log-ins.
    assert ("login", "denied") in {(a, o) for a, o, _, _ in _entries(node, actor="ana.analyst@US-DEMO-NARC")}
    assert _entries(node, actor="ana.analyst") == []
    assert ("login", "denied", ("principal:nobody",), "unauthorized") in _entries(node, actor="anonymous")
    refused = {(a, o, objects, rule) for a, o, objects, rule in _entries(node, actor="anonymous")}
    assert ("auth", "denied", ("/api/counts",), "no credentials") in refused
    forged = [rule for a, _, objects, rule in refused if a == "auth" and objects == ("/api/reports",)]
    assert forged and "no credentials" not in forged
