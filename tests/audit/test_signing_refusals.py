"""The node refuses to sign a checkpoint over a history that contradicts one it signed before,
and `verify --data` names a checkpoint (not entry 0) when its signature is missing or bad."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tearline.audit import leaf_hash, log, verify_cosignature
from tearline.audit.keys import CosignatureSigner, Ed25519Signer
from tearline.audit.store import Frontier, node_key
from tearline.audit.witness import trust_log, witness_verifier_key
from tearline.cli.main import app
from tearline.db.audit_tables import AuditCheckpoint, AuditWitnessedLog
from tearline.node import Node
from tests.audit.support import checkpoint, event, fill, rekey, sql, sql_many
from tests.audit.test_api import serving
from tests.conftest import NodeFactory

runner = CliRunner()


def one_line(output: str) -> str:
    return " ".join(output.split())


def rewrite_consistently(node: Node, index: int, data: bytes) -> None:
    """An insider's rewrite of one entry, with every stored hash (leaf, nodes, head frontier) rebuilt to match."""
    with node.db.read() as session:
        entries = [leaf.data for leaf in log.read_leaves(session, 0, log.log_size(session))]
    entries[index] = data
    statements: list[tuple[str, dict[str, Any]]] = [("DELETE FROM audit_node", {})]
    frontier = Frontier(0)
    for i, entry in enumerate(entries):
        hashed = leaf_hash(entry)
        statements.append(
            ("UPDATE audit_leaf SET data = :d, hash = :h WHERE idx = :i", {"d": entry, "h": hashed, "i": i})
        )
        for level, position, node_hashed in frontier.push(hashed):
            statements.append(
                (
                    "INSERT INTO audit_node (key, hash) VALUES (:k, :h)",
                    {"k": node_key(level, position), "h": node_hashed},
                )
            )
    statements.append(("UPDATE audit_head SET frontier = :f", {"f": frontier.blob()}))
    sql_many(node, statements)


def stored_checkpoints(node: Node) -> int:
    with node.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0)


def test_an_honest_log_keeps_signing_larger_checkpoints(node: Node) -> None:
    fill(node, 5)
    assert checkpoint(node).checkpoint.size == 5
    fill(node, 7, start=5)
    assert checkpoint(node).checkpoint.size == 12
    fill(node, 1, start=12)
    assert checkpoint(node).checkpoint.size == 13
    assert stored_checkpoints(node) == 3


def test_no_checkpoint_is_signed_over_a_rewritten_history(node: Node) -> None:
    fill(node, 20)
    checkpoint(node)
    rewrite_consistently(node, 6, event(6, actor="someone-else@US-DEMO-NARC").canonical())
    fill(node, 3, start=20)  # the log grows after the rewrite: a new size would be signed
    with pytest.raises(log.LogTampered) as refused:
        checkpoint(node)
    said = refused.value.message
    assert "no longer matches its signed checkpoint of size 20" in said
    assert "tearline audit verify --data" in said
    assert "entry 0" not in said
    assert stored_checkpoints(node) == 1
    code = runner.invoke(app, ["audit", "checkpoint", "--data", str(node.data_dir)])
    assert code.exit_code == 2
    assert "signed checkpoint of size 20" in one_line(code.output)
    assert stored_checkpoints(node) == 1


def test_a_stored_root_changed_to_match_the_rewrite_is_caught_by_the_signature(node: Node) -> None:
    fill(node, 8)
    checkpoint(node)
    forged = event(2, outcome="denied").canonical()
    rewrite_consistently(node, 2, forged)
    with node.db.read() as session:
        root = log.root_at(session, 8)
    sql(node, "UPDATE audit_checkpoint SET root = :r WHERE size = 8", r=root)
    fill(node, 1, start=8)
    with pytest.raises(log.LogTampered, match="differs from its signed note"):
        checkpoint(node)
    assert stored_checkpoints(node) == 1


def signed(node: Node) -> None:
    fill(node, 6)
    checkpoint(node)
    fill(node, 4, start=6)
    checkpoint(node)


def test_a_wrong_vkey_names_the_checkpoint_not_entry_zero(node: Node) -> None:
    signed(node)
    other = Ed25519Signer.generate("tearline.usa.us-demo-narc/log").verifier
    result = runner.invoke(app, ["audit", "verify", "--data", str(node.data_dir), "--vkey", str(other)])
    assert result.exit_code == 2
    said = one_line(result.output)
    assert "checkpoint of size 6 carries no signature from the key tearline.usa.us-demo-narc/log+" in said
    assert "--vkey" in said
    assert "entry 0" not in said


def test_a_vkey_that_is_no_key_is_refused_naming_the_option(node: Node) -> None:
    signed(node)
    result = runner.invoke(app, ["audit", "verify", "--data", str(node.data_dir), "--vkey", "garbage"])
    assert result.exit_code == 2
    said = one_line(result.output)
    assert "--vkey: is not a verifier key" in said and "tearline audit vkey" in said, said
    assert "Traceback" not in result.output


def test_a_damaged_checkpoint_signature_is_named(node: Node) -> None:
    signed(node)
    with node.db.read() as session:
        note = session.get(AuditCheckpoint, 10)
        assert note is not None
        text = note.note
    body, _, sig_line = text.rstrip("\n").rpartition("\n")
    name, _, sig = sig_line.rpartition(" ")
    damaged = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    sql(node, "UPDATE audit_checkpoint SET note = :n WHERE size = 10", n=f"{body}\n{name} {damaged}\n")
    result = runner.invoke(app, ["audit", "verify", "--data", str(node.data_dir)])
    assert result.exit_code == 2
    said = one_line(result.output)
    assert "the signature of the stored checkpoint of size 10 by tearline.usa.us-demo-narc/log+" in said
    assert "is bad" in said
    assert "entry 0" not in said


# --- cosign: the witness key ---------------------------------------------------------------------------


@pytest.fixture
def witnessed(make_node: NodeFactory) -> Iterator[tuple[Node, Node]]:
    log_node = make_node()
    witness = rekey(make_node(), "MEX", "MX-DEMO-FGR")
    with witness.db.write() as session:
        trust_log(session, log.verifier_key(log_node))
    fill(log_node, 4)
    yield log_node, witness
    witness.close()


def stored_note(node: Node) -> str:
    with node.db.read() as session:
        return log.checkpoints(session, "tearline.usa.us-demo-narc/log")[-1].note


@pytest.mark.parametrize("which", ["log key", "log key as 0x04", "garbage"])
def test_cosign_refuses_a_key_that_is_not_the_partners_witness_key(witnessed: tuple[Node, Node], which: str) -> None:
    log_node, witness = witnessed
    own_name = log.node_log_signer(log_node).name
    key = {
        "log key": log.verifier_key(log_node),
        "log key as 0x04": str(CosignatureSigner.generate(own_name).verifier),
        "garbage": "not-a-key",
    }[which]
    before = checkpoint(log_node).note
    with serving(witness) as url:
        result = runner.invoke(app, ["audit", "cosign", url, "--witness-vkey", key, "--data", str(log_node.data_dir)])
    assert result.exit_code == 2, result.output
    said = one_line(result.output)
    assert "--witness-vkey" in said
    assert "tearline audit vkey --witness" in said or "not a verifier key" in said
    assert stored_note(log_node) == before
    with witness.db.read() as session:  # the witness was not even asked
        assert session.get(AuditWitnessedLog, own_name).size == 0  # type: ignore[union-attr]


def test_cosign_fails_when_the_answer_has_no_cosignature_by_the_given_key(witnessed: tuple[Node, Node]) -> None:
    log_node, witness = witnessed
    stranger = str(CosignatureSigner.generate("tearline.can.ca-demo-rcmp/witness").verifier)
    before = checkpoint(log_node).note
    with serving(witness) as url:
        result = runner.invoke(
            app, ["audit", "cosign", url, "--witness-vkey", stranger, "--data", str(log_node.data_dir)]
        )
    assert result.exit_code == 2, result.output
    said = one_line(result.output)
    assert "adds no valid cosignature by tearline.can.ca-demo-rcmp/witness+" in said
    assert "nothing was stored" in said
    assert stored_note(log_node) == before
    # The right key still works afterwards.
    with serving(witness) as url:
        good = runner.invoke(
            app,
            ["audit", "cosign", url, "--witness-vkey", witness_verifier_key(witness), "--data", str(log_node.data_dir)],
        )
    assert good.exit_code == 0, good.output
    assert verify_cosignature(stored_note(log_node), witness_verifier_key(witness)) > 0
