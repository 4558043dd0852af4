"""One node witnesses another's log (C2SP tlog-witness), and catches a fork.

Node A (USA) keeps the log; node W (MEX) witnesses it. Nodes made from the test template share
A's key and origin, so a third node F with other entries is A's log forked: same key, other history.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.audit import NoteError, ProofError, log, sign_checkpoint, verify_cosignature
from tearline.audit.checkpoint import Checkpoint
from tearline.audit.keys import Ed25519Signer
from tearline.audit.remote import request_cosignature
from tearline.audit.search import Query, search
from tearline.audit.witness import (
    AddCheckpoint,
    ForkDetected,
    StaleOldSize,
    trust_log,
    witness_for,
    witness_verifier_key,
)
from tearline.db.audit_tables import AuditFork
from tearline.errors import Forbidden, InvalidInput, NotFound
from tearline.node import Node
from tearline.web.app import create_app
from tests.audit.support import checkpoint, fill, rekey
from tests.conftest import NodeFactory

ORIGIN = "tearline.usa.us-demo-narc/log"


@pytest.fixture
def nodes(make_node: NodeFactory) -> Iterator[tuple[Node, Node]]:
    log_node = make_node()
    witness = rekey(make_node(), "MEX", "MX-DEMO-FGR")
    with witness.db.write() as session:
        assert trust_log(session, log.verifier_key(log_node)) == ORIGIN
    yield log_node, witness
    witness.close()


def request(node: Node, old: int) -> AddCheckpoint:
    signed = checkpoint(node)
    with node.db.read() as session:
        proof = log.prove_consistency(session, old, signed.checkpoint.size)
    return AddCheckpoint(old, proof, signed.note)


def test_the_witness_cosigns_each_extension_and_the_log_keeps_the_cosignature(nodes: tuple[Node, Node]) -> None:
    log_node, witness = nodes
    fill(log_node, 10)
    first = witness_for(witness, request(log_node, 0).to_text())
    assert verify_cosignature(first.note, witness_verifier_key(witness)) > 0
    assert first.line.startswith("— tearline.mex.mx-demo-fgr/witness ")
    fill(log_node, 7, start=10)
    second = witness_for(witness, request(log_node, 10).to_text())
    assert second.checkpoint.size == 17
    with log_node.db.write() as session:
        log.add_cosignature(session, second.note, witness_verifier_key(witness), log.verifier_key(log_node))
    served = checkpoint(log_node).note
    assert second.line in served
    verify_cosignature(served, witness_verifier_key(witness))
    with witness.db.read() as session:
        cosigns = search(session, Query(actor=ORIGIN, action="audit.witness.cosign")).hits
    assert [h.event.outcome for h in cosigns] == ["allowed", "allowed"]


def test_a_stale_old_size_gets_the_size_last_cosigned(nodes: tuple[Node, Node]) -> None:
    log_node, witness = nodes
    fill(log_node, 4)
    witness_for(witness, request(log_node, 0).to_text())
    fill(log_node, 4, start=4)
    with pytest.raises(StaleOldSize) as stale:
        witness_for(witness, request(log_node, 2).to_text())
    assert (stale.value.status, stale.value.latest_size) == (409, 4)


def test_a_forked_history_is_refused_kept_as_evidence_and_logged(make_node: NodeFactory) -> None:
    log_node, forked = make_node(), make_node()
    witness = rekey(make_node(), "MEX", "MX-DEMO-FGR")
    with witness.db.write() as session:
        trust_log(session, log.verifier_key(log_node))
    fill(log_node, 15)
    witness_for(witness, request(log_node, 0).to_text())
    fill(forked, 20, start=500)  # same key, other entries
    offered = request(forked, 15)
    with pytest.raises(ForkDetected) as fork:
        witness_for(witness, offered.to_text())
    assert "fork detected in the log tearline.usa.us-demo-narc/log" in fork.value.message
    assert "no valid consistency proof from the cosigned size 15 to 20" in fork.value.message
    with witness.db.read() as session:
        evidence = session.scalars(select(AuditFork)).one()
        logged = search(session, Query(actor=ORIGIN, action="audit.witness.fork")).hits
    assert evidence.offered_checkpoint == offered.checkpoint
    assert evidence.cosigned_checkpoint is not None and "\n15\n" in evidence.cosigned_checkpoint
    assert [h.event.outcome for h in logged] == ["denied"]
    # The honest log still extends what was cosigned.
    fill(log_node, 5, start=15)
    assert witness_for(witness, request(log_node, 15).to_text()).checkpoint.size == 20
    witness.close()


def test_the_same_size_with_another_root_is_a_fork(make_node: NodeFactory) -> None:
    log_node, forked = make_node(), make_node()
    witness = rekey(make_node(), "CAN", "CA-DEMO-RCMP")
    with witness.db.write() as session:
        trust_log(session, log.verifier_key(log_node))
    fill(log_node, 6)
    fill(forked, 6, start=900)
    witness_for(witness, request(log_node, 0).to_text())
    with pytest.raises(ForkDetected, match="size 6 was cosigned with another root"):
        witness_for(witness, request(forked, 6).to_text())
    witness.close()


def test_unknown_logs_bad_signatures_and_bad_requests(nodes: tuple[Node, Node]) -> None:
    log_node, witness = nodes
    fill(log_node, 3)
    good = request(log_node, 0)
    stranger = Ed25519Signer("tearline.can.unknown/log", b"\x07" * 32)
    unknown = sign_checkpoint(Checkpoint(stranger.name, 0, bytes(32)), [stranger])
    with pytest.raises(NotFound):
        witness_for(witness, AddCheckpoint(0, [], unknown).to_text())
    impostor = Ed25519Signer(ORIGIN, b"\x08" * 32)  # the right name, not the right key
    forged = sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), [impostor])
    with pytest.raises(Forbidden):
        witness_for(witness, AddCheckpoint(0, [], forged).to_text())
    for body in (
        "old 0\n" + good.checkpoint,
        "old 01\n\n" + good.checkpoint,
        "old 0\nnot-base64\n\n" + good.checkpoint,
    ):
        with pytest.raises(InvalidInput) as bad:
            witness_for(witness, body)
        assert bad.value.status == 400
    with pytest.raises(InvalidInput):
        witness_for(witness, AddCheckpoint(5, [], good.checkpoint).to_text())  # old size past the checkpoint
    with pytest.raises(ProofError):
        witness_for(witness, AddCheckpoint(0, [bytes(32)], good.checkpoint).to_text())
    with pytest.raises(NoteError):
        verify_cosignature(good.checkpoint, witness_verifier_key(witness))  # nothing was cosigned


def test_the_witness_over_http(nodes: tuple[Node, Node]) -> None:
    log_node, witness = nodes
    client = TestClient(create_app(witness))
    fill(log_node, 5)
    ok = client.post("/api/audit/witness/add-checkpoint", content=request(log_node, 0).to_text())
    assert ok.status_code == 200, ok.text
    assert ok.text.startswith("— tearline.mex.mx-demo-fgr/witness ")
    stale = client.post("/api/audit/witness/add-checkpoint", content=request(log_node, 0).to_text())
    assert (stale.status_code, stale.headers["content-type"], stale.text) == (409, "text/x.tlog.size", "5\n")
    assert client.get("/api/audit/witness/vkey").text == witness_verifier_key(witness) + "\n"
    malformed = client.post("/api/audit/witness/add-checkpoint", content="old x\n\n")
    assert malformed.status_code == 400


def test_a_node_has_its_checkpoint_cosigned_by_a_partner_over_http(nodes: tuple[Node, Node]) -> None:
    log_node, witness = nodes
    partner = TestClient(create_app(witness))
    fill(log_node, 6)
    assert request_cosignature(log_node, partner, witness_verifier_key(witness)) == 6
    fill(log_node, 3, start=6)
    # The log does not know what the witness last cosigned: the 409 tells it, and it proves from there.
    assert request_cosignature(log_node, partner, witness_verifier_key(witness)) == 9
    served = TestClient(create_app(log_node)).get("/api/audit/checkpoint").text
    assert verify_cosignature(served, witness_verifier_key(witness)) > 0
