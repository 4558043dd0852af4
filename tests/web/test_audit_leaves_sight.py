"""An auditor reads the log's entries (GET /api/audit/leaves) only as far as the search would show
them (DESIGN §3.3: roles grant actions, never visibility), and still checks the whole log with
`tearline audit verify --url`. On SQLite and on PostgreSQL.

carla.auditor is not read into VU-HALCON; vera.auditor is. The entries about a report of the
vetted unit give carla their index and leaf hash, not their bytes (which name the report and carry
its banner); vera gets every entry's bytes.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tearline.audit import leaf_hash, log
from tearline.audit.event import AuditEvent
from tearline.cli.main import app
from tearline.fixtures import VETTED_UNIT
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.audit.support import sql
from tests.audit.test_api import serving
from tests.web.support import login, token_headers
from tests.web.test_console_audit_search import _halcon_report

PAGE = 1_000


@pytest.fixture
def vera(node: Node) -> dict[str, str]:
    """An auditor like carla, but read into the vetted unit."""
    with node.db.write() as session:
        add_principal(session, "vera.auditor", "USA", "US-DEMO-NARC", "SECRET", [VETTED_UNIT], ["auditor"])
    return token_headers(node, "vera.auditor")


def _leaves(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/audit/leaves", params={"start": 0, "limit": PAGE}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["size"] <= PAGE, "the test reads the log in one page"
    entries: list[dict[str, Any]] = body["leaves"]
    return entries


def _about(node: Node, object_id: str) -> list[int]:
    """The indexes of the entries naming `object_id`, from the log itself."""
    with node.db.read() as session:
        leaves = log.read_leaves(session, 0, log.log_size(session))
    return [leaf.index for leaf in leaves if object_id in AuditEvent.from_canonical(leaf.data).objects]


def test_an_auditor_gets_the_bytes_only_of_entries_she_may_see(
    client: TestClient, node: Node, vera: dict[str, str]
) -> None:
    ana, carla = login(client, "ana.analyst"), login(client, "carla.auditor")
    halcon = _halcon_report(client, ana)
    about_halcon = _about(node, halcon)
    assert about_halcon, "ana's writing and reading of the vetted report are in the log"
    withheld = {e["index"]: e for e in _leaves(client, carla) if e["data"] is None}
    assert set(about_halcon) <= set(withheld)
    for index in about_halcon:
        one = client.get(f"/api/audit/leaves/{index}", headers=carla).json()
        assert one == withheld[index]
        assert (one["data"], one["withheld"]) == (None, "hidden")
        with node.db.read() as session:
            assert base64.b64decode(one["hash"]) == log.read_leaf(session, index).hash  # to check the tree with
    given = [e for e in _leaves(client, carla) if e["data"] is not None]
    assert given and all(e["withheld"] is None for e in given)
    for entry in given:
        data = base64.b64decode(entry["data"])
        assert leaf_hash(data) == base64.b64decode(entry["hash"])
        assert VETTED_UNIT.encode() not in data and halcon.encode() not in data
    for index in about_halcon:
        full = client.get(f"/api/audit/leaves/{index}", headers=vera).json()
        assert full["withheld"] is None and halcon in AuditEvent.from_canonical(base64.b64decode(full["data"])).objects
    assert [e["index"] for e in _leaves(client, vera) if e["data"] is None] == []


def _verify(url: str, node: Node, headers: dict[str, str]) -> Any:
    token = headers["Authorization"].removeprefix("Bearer ")
    command = ["audit", "verify", "--url", url, "--vkey", log.verifier_key(node), "--token", token]
    return CliRunner().invoke(app, command)


def test_an_auditor_verifies_the_log_by_url_without_the_bytes_withheld_from_her(
    client: TestClient, node: Node
) -> None:
    ana, carla = login(client, "ana.analyst"), login(client, "carla.auditor")
    halcon = _halcon_report(client, ana)
    hidden = _about(node, halcon)[0]
    seen = next(e["index"] for e in _leaves(client, carla) if e["data"] is not None)
    with serving(node) as url:
        ok = _verify(url, node, carla)
        assert ok.exit_code == 0, ok.output
        withheld = sum(e["data"] is None for e in _leaves(client, carla) if e["index"] < _size(ok.output))
        assert f"({withheld} of them from their leaf hashes alone" in ok.output and withheld
        # Bytes she is given are still checked against their leaf hash...
        with node.db.read() as session:
            original = log.read_leaf(session, seen).data
        forged = original.replace(b'"outcome":"allowed"', b'"outcome":"denied"')
        assert forged != original
        sql(node, "UPDATE audit_leaf SET data = :d WHERE idx = :i", d=forged, i=seen)
        bad = _verify(url, node, carla)
        assert bad.exit_code == 2 and f"failed at entry {seen}:" in bad.output, bad.output
        sql(node, "UPDATE audit_leaf SET data = :d WHERE idx = :i", d=original, i=seen)
        # ...and a leaf hash she is given alone is held to the signed root.
        sql(node, "UPDATE audit_leaf SET hash = :h WHERE idx = :i", h=b"\x00" * 32, i=hidden)
        rewritten = _verify(url, node, carla)
    assert rewritten.exit_code == 2 and "was rewritten" in rewritten.output, rewritten.output


def _size(summary: str) -> int:
    """The number of entries a verify summary says it checked."""
    return int(summary.split("ok: ", 1)[1].split(" ", 1)[0])
