"""/api/audit: checkpoints and proofs for anyone, entries and search for auditors only, all logged."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tearline.audit import leaf_hash, log, open_checkpoint, verify_consistency, verify_inclusion
from tearline.audit.event import AuditEvent
from tearline.audit.remote import RemoteError, verify_remote
from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.node import Node
from tearline.store.principals import add_principal, issue_token
from tearline.web.app import create_app
from tests.audit.support import checkpoint, fill, sql

ORIGIN = "tearline.usa.us-demo-narc/log"


@dataclass
class Api:
    node: Node
    client: TestClient
    auditor: dict[str, str]
    analyst: dict[str, str]


def _token(node: Node, username: str, roles: list[str]) -> dict[str, str]:
    with node.db.write() as session:
        principal = add_principal(session, username, "USA", "US-DEMO-NARC", "SECRET", roles=roles)
        return {"Authorization": f"Bearer {issue_token(session, principal)}"}


@pytest.fixture
def api(node: Node) -> Iterator[Api]:
    fill(node, 12)
    with TestClient(create_app(node)) as client:
        yield Api(node, client, _token(node, "inspector", ["auditor"]), _token(node, "analyst1", ["analyst"]))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_checkpoint_and_keys_are_public_text(api: Api) -> None:
    response = api.client.get("/api/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    vkey = api.client.get("/api/audit/vkey").text.strip()
    opened, _ = open_checkpoint(response.text, [vkey], ORIGIN)
    assert opened.size == 12


def test_proofs_verify_against_the_signed_checkpoint(api: Api) -> None:
    signed = checkpoint(api.node)
    root = signed.checkpoint.root_hash
    inclusion = api.client.get("/api/audit/proof/inclusion", params={"index": 5}).json()
    assert (inclusion["size"], inclusion["checkpoint"]) == (12, signed.note)
    with api.node.db.read() as session:
        leaf = log.read_leaf(session, 5)
    assert verify_inclusion(leaf.hash, 5, 12, [b64(h) for h in inclusion["hashes"]], root)
    fill(api.node, 4, start=12)
    consistency = api.client.get("/api/audit/proof/consistency", params={"old": 12}).json()
    newer = checkpoint(api.node).checkpoint
    assert consistency["new"] == 16
    assert verify_consistency(12, 16, root, newer.root_hash, [b64(h) for h in consistency["hashes"]])
    at_size = api.client.get("/api/audit/proof/inclusion", params={"index": 1, "size": 3}).json()
    assert at_size["size"] == 3 and at_size["checkpoint"] is None
    assert api.client.get("/api/audit/proof/inclusion", params={"index": 20}).status_code == 404


def test_entries_are_for_auditors_and_every_read_or_refusal_is_logged(api: Api) -> None:
    refused = api.client.get("/api/audit/leaves/3", headers=api.analyst)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "audit.auditor-role"
    assert api.client.get("/api/audit/leaves/3").status_code == 401
    refusal = api.client.get("/api/audit/leaves/12", headers=api.auditor).json()  # the analyst's, above
    data = b64(refusal["data"])
    assert leaf_hash(data) == b64(refusal["hash"]) and refusal["withheld"] is None
    assert AuditEvent.from_canonical(data).actor == "analyst1@US-DEMO-NARC"
    # Entry 3's banner covers a report the auditor does not see (none here): as in a search, its
    # bytes (which hold the banner) are withheld, its leaf hash is not.
    entry = api.client.get("/api/audit/leaves/3", headers=api.auditor).json()
    assert (entry["data"], entry["withheld"]) == (None, "hidden")
    with api.node.db.read() as session:
        assert b64(entry["hash"]) == log.read_leaf(session, 3).hash
    page = api.client.get("/api/audit/leaves", params={"start": 10, "limit": 50}, headers=api.auditor).json()
    assert [e["index"] for e in page["leaves"]] == list(range(10, page["size"]))
    with api.node.db.read() as session:
        reads = search(session, Query(action="audit.leaf.read", actor="analyst1@US-DEMO-NARC")).hits
    assert [(h.event.outcome, h.event.rule) for h in reads] == [("denied", "audit.auditor-role")]


def test_auditors_search_who_saw_a_report_and_what_a_principal_saw(api: Api) -> None:
    who = api.client.get("/api/audit/search", params={"object": "report--0003"}, headers=api.auditor).json()
    assert [h["index"] for h in who["hits"]] == [3]
    assert who["hits"][0]["event"]["actor"] == "analyst3@US-DEMO-NARC"
    what = api.client.get("/api/audit/search", params={"actor": "analyst2@US-DEMO-NARC"}, headers=api.auditor).json()
    assert [h["event"]["objects"] for h in what["hits"]] == [["report--0002"], ["report--0007"]]
    denied = api.client.get("/api/audit/search", params={"object": "report--0003"}, headers=api.analyst)
    assert denied.status_code == 403 and denied.json()["rule"] == "audit.auditor-role"
    assert api.client.get("/api/audit/search", headers=api.auditor).status_code == 422


def test_a_partner_verifies_the_log_over_the_api(api: Api) -> None:
    earlier = checkpoint(api.node).note
    fill(api.node, 30, start=12)
    api.client.headers.update(api.auditor)
    remote = verify_remote(api.client, log.verifier_key(api.node), previous=earlier)
    assert remote.report.size >= 42 and not remote.key_from_node
    api.client.headers.update(api.analyst)
    with pytest.raises(RemoteError, match="403"):
        verify_remote(api.client)


@contextmanager
def serving(node: Node) -> Iterator[str]:
    """The node's app on a loopback port, for as long as the block runs."""
    server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_cli_verifies_a_node_by_url(api: Api) -> None:
    vkey = log.verifier_key(api.node)
    token = api.auditor["Authorization"].removeprefix("Bearer ")
    with serving(api.node) as url:
        ok = CliRunner().invoke(app, ["audit", "verify", "--url", url, "--vkey", vkey, "--token", token])
        sql(api.node, "UPDATE audit_leaf SET data = :d WHERE idx = 4", d=b'{"forged":true}')
        bad = CliRunner().invoke(app, ["audit", "verify", "--url", url, "--vkey", vkey, "--token", token])
    assert ok.exit_code == 0, ok.output
    assert "ok: 12 entries recomputed" in ok.output
    assert bad.exit_code == 2
    assert "failed at entry 4:" in bad.output
