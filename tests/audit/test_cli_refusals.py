"""`tearline audit ...` refusals and messages: bad servers, bad numbers, out-of-range sizes, forks,
the consistency command's sizes, trusting a log's key, and the witness's entries."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tearline.audit import log
from tearline.audit.checkpoint import Checkpoint, sign_checkpoint
from tearline.audit.keys import CosignatureSigner, Ed25519Signer
from tearline.audit.merkle import leaf_hash
from tearline.audit.search import Query, search
from tearline.audit.witness import witness_for
from tearline.cli.main import app
from tearline.db.audit_tables import AuditWitnessedLog
from tearline.node import Node
from tearline.store.principals import add_principal, issue_token
from tests.audit.support import checkpoint, event, fill, rekey
from tests.audit.test_api import serving
from tests.audit.test_witness import request
from tests.conftest import NodeFactory

ORIGIN = "tearline.usa.us-demo-narc/log"
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["audit", *args], env={"COLUMNS": "300", "NO_COLOR": "1"})


def one_line(text: str) -> str:
    return " ".join(text.split())


def refused(result: Result) -> str:
    """A clean refusal: exit 2, no traceback; returns what was said, on one line."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return one_line(result.output)


# --- verify --url against servers that are not tearline nodes ------------------------------------------

SIGNER = Ed25519Signer.generate(ORIGIN)
ENTRY = event(0).canonical()
NOTE = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(ENTRY)), [SIGNER])


def _fake(mode: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if mode == "html" or (mode == "html-leaves" and self.path.startswith("/api/audit/leaves")):
                body, kind = b"<html>hello</html>", "text/html"
            elif self.path.startswith("/api/audit/vkey"):
                body, kind = str(SIGNER.verifier).encode() + b"\n", "text/plain"
            elif self.path.startswith("/api/audit/checkpoint"):
                body, kind = NOTE.encode(), "text/plain"
            elif mode == "no-data":
                body, kind = b'{"size": 1, "start": 0, "leaves": [{"index": 0}]}', "application/json"
            else:
                body, kind = b'{"size": 1, "start": 0, "leaves": {"0": 1}}', "application/json"
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _fake(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("fake_server", "wrong"),
    [
        ("html", "not a verifier key"),
        ("html-leaves", "not JSON (text/html"),
        ("no-data", "an entry without `data`"),
        ("not-a-list", "without a `leaves` list"),
    ],
    indirect=["fake_server"],
)
def test_a_server_that_is_not_a_tearline_node_is_named_not_a_traceback(fake_server: str, wrong: str) -> None:
    said = refused(run("verify", "--url", fake_server, "--token", "t"))
    assert f"{fake_server} is not a tearline audit API" in said
    assert wrong in said


@pytest.mark.parametrize("fake_server", ["html"], indirect=True)
def test_a_plain_html_checkpoint_is_not_a_tearline_api_even_with_a_vkey(fake_server: str) -> None:
    said = refused(run("verify", "--url", fake_server, "--vkey", str(SIGNER.verifier)))
    assert f"{fake_server} is not a tearline audit API" in said and "/api/audit/checkpoint" in said


# --- numbers and files ---------------------------------------------------------------------------------


def test_an_index_past_what_an_entry_holds_and_a_missing_previous_file_are_refused(tmp_path: Path) -> None:
    said = refused(run("prove", "9223372036854775808", "--data", str(tmp_path)))
    assert "index" in said and "9007199254740991" in said
    said = refused(run("consistency", "1", "--new", str(2**63), "--data", str(tmp_path)))
    assert "--new" in said
    said = refused(run("verify", "--url", "http://127.0.0.1:9", "--previous", str(tmp_path / "nonexistent")))
    assert "--previous" in said and "does not exist" in said


def test_out_of_range_sizes_and_indexes_say_what_is_valid(node: Node) -> None:
    fill(node, 26)
    data = str(node.data_dir)
    said = refused(run("consistency", "27", "--data", data))
    assert "the old size must be from 0 to 26" in said and "the audit log has 26 entries" in said
    said = refused(run("prove", "99999", "--data", data))
    assert "no entry 99999: it has 26 entries (its indexes are 0 to 25)" in said
    said = refused(run("consistency", "3", "--new", "40", "--data", data))
    assert "the audit log has 26 entries; there is no tree of size 40 (sizes are 0 to 26)" in said


def test_consistency_says_on_stderr_which_sizes_it_proves(node: Node) -> None:
    fill(node, 10)
    first = checkpoint(node).checkpoint
    fill(node, 6, start=10)
    data = str(node.data_dir)
    latest = run("consistency", "4", "--data", data)
    assert latest.exit_code == 0, latest.output
    assert "consistency proof from size 4 (root " in latest.stderr and "to size 16 (root " in latest.stderr
    with node.db.read() as session:
        assert latest.stdout.split() == [base64.b64encode(h).decode() for h in log.prove_consistency(session, 4, 16)]
    to_first = run("consistency", "4", "--new", "10", "--data", data)
    assert to_first.exit_code == 0, to_first.output
    root = base64.b64encode(first.root_hash).decode()
    assert f"to size 10 (root {root})" in one_line(to_first.stderr)
    with node.db.read() as session:
        assert len(to_first.stdout.split()) == len(log.prove_consistency(session, 4, 10))


# --- forks ---------------------------------------------------------------------------------------------


def test_a_fork_since_a_kept_checkpoint_is_said_plainly(make_node: NodeFactory, tmp_path: Path) -> None:
    honest, forked = make_node(), make_node()  # one key (the test template's), two histories
    fill(honest, 12)
    fill(forked, 5, start=100)
    kept = tmp_path / "kept-checkpoint.txt"
    kept.write_text(checkpoint(forked).note, encoding="utf-8")
    with honest.db.write() as session:
        token = issue_token(session, add_principal(session, "insp", "USA", "US-DEMO-NARC", "SECRET", roles=["auditor"]))
    with serving(honest) as url:
        result = run(
            "verify", "--url", url, "--vkey", log.verifier_key(honest), "--token", token, "--previous", str(kept)
        )
    said = refused(result)
    assert f"is not append-only since the checkpoint in {kept} (size 5)" in said
    assert "forked" in said and "rewritten" in said and "keep both checkpoints" in said
    assert f"\n{ORIGIN}\n" in result.stderr  # the latest checkpoint, to keep with the other
    assert "does not lead to the old root" not in said.split("(")[0]


# --- trust-log -----------------------------------------------------------------------------------------


def trust_entries(node: Node) -> list[dict[str, object]]:
    with node.db.read() as session:
        hits = search(session, Query(object_id=ORIGIN, action="audit.witness.trust")).hits
    return [dict(h.event.detail or {}) for h in hits]


def test_trust_log_refuses_to_replace_a_key_without_replace_and_logs_every_change(node: Node) -> None:
    data = str(node.data_dir)
    first, second = Ed25519Signer.generate(ORIGIN).verifier, Ed25519Signer.generate(ORIGIN).verifier
    assert run("trust-log", str(first), "--data", data).exit_code == 0
    assert [d["vkey"] for d in trust_entries(node)] == [str(first)]
    said = refused(run("trust-log", str(second), "--data", data))
    assert "already witnesses tearline.usa.us-demo-narc/log with another key" in said and "--replace" in said
    with node.db.read() as session:
        assert session.get(AuditWitnessedLog, ORIGIN).vkey == str(first)  # type: ignore[union-attr]
    assert len(trust_entries(node)) == 1
    again = run("trust-log", str(first), "--data", data)
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert len(trust_entries(node)) == 1
    replaced = run("trust-log", str(second), "--replace", "--data", data)
    assert replaced.exit_code == 0, replaced.output
    with node.db.read() as session:
        assert session.get(AuditWitnessedLog, ORIGIN).vkey == str(second)  # type: ignore[union-attr]
    entries = trust_entries(node)
    assert [(d["vkey"], d["previous_vkey"]) for d in entries] == [(str(first), None), (str(second), str(first))]
    assert all("os_account" in d for d in entries)


def test_trust_log_refuses_a_witness_key(node: Node) -> None:
    cosigner = CosignatureSigner.generate("tearline.can.ca-demo-rcmp/witness").verifier
    said = refused(run("trust-log", str(cosigner), "--data", str(node.data_dir)))
    assert "type 0x01" in said
    assert trust_entries(node) == []


# --- the witness's entries -----------------------------------------------------------------------------


def test_witness_entries_name_the_node_as_every_other_entry_does(make_node: NodeFactory) -> None:
    log_node = make_node()
    witness = rekey(make_node(), "MEX", "MX-DEMO-FGR")
    try:
        result = run("trust-log", log.verifier_key(log_node), "--data", str(witness.data_dir))
        assert result.exit_code == 0, result.output
        fill(log_node, 3)
        witness_for(witness, request(log_node, 0).to_text())
        with witness.db.read() as session:
            hits = search(session, Query(object_id=ORIGIN, action="audit.witness.cosign")).hits
        assert [h.event.node for h in hits] == ["MEX/MX-DEMO-FGR"]  # as journal entries name it
    finally:
        witness.close()
