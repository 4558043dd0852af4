"""`tearline audit ...` outputs, and `tearline audit verify` catching an insider's rewrite of the log."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from typer.testing import CliRunner

from tearline.audit import TlogProof, leaf_hash, log, open_checkpoint, verify_consistency
from tearline.audit.store import Frontier, node_key
from tearline.cli.main import app
from tearline.node import Node
from tests.audit.support import checkpoint, event, fill, sql, sql_many

ORIGIN = "tearline.usa.us-demo-narc/log"
runner = CliRunner()


def audit(node: Node, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args, "--data", str(node.data_dir)])
    return result.exit_code, result.output


def message(output: str) -> str:
    """An error as one line (the console wraps it)."""
    return " ".join(output.split())


def test_checkpoint_vkey_prove_and_consistency_print_c2sp_texts(node: Node) -> None:
    fill(node, 9)
    code, vkey = audit(node, "vkey")
    assert code == 0 and vkey == log.verifier_key(node) + "\n"
    code, note = audit(node, "checkpoint")
    assert code == 0
    old, _ = open_checkpoint(note, [vkey.strip()], ORIGIN)
    fill(node, 6, start=9)
    code, text = audit(node, "prove", "11")
    assert code == 0
    proof = TlogProof.parse(text)
    assert proof.extra == event(11).canonical()
    new, _ = proof.verify(leaf_hash(proof.extra), [vkey.strip()], ORIGIN)
    result = runner.invoke(app, ["audit", "consistency", str(old.size), "--data", str(node.data_dir)])
    assert result.exit_code == 0
    hashes = [base64.b64decode(line) for line in result.stdout.splitlines()]  # stderr says which sizes
    assert verify_consistency(old.size, new.size, old.root_hash, new.root_hash, hashes)
    assert audit(node, "vkey", "--witness")[1].startswith("tearline.usa.us-demo-narc/witness+")
    code, out = audit(node, "prove", "99")
    assert code == 2 and "no entry 99" in out


def test_verify_passes_on_an_honest_log(node: Node) -> None:
    checkpoint(node)
    fill(node, 40)
    checkpoint(node)
    code, out = audit(node, "verify")
    assert code == 0, out
    assert "ok: 40 entries recomputed" in out


def signed_log(node: Node) -> None:
    fill(node, 10)
    checkpoint(node)
    fill(node, 10, start=10)
    checkpoint(node)


def test_a_rewritten_entry_is_named(node: Node) -> None:
    signed_log(node)
    forged = event(7, actor="someone-else@US-DEMO-NARC").canonical()
    sql(node, "UPDATE audit_leaf SET data = :data WHERE idx = 7", data=forged)
    code, out = audit(node, "verify")
    assert code == 2
    assert "failed at entry 7:" in out


def test_an_entry_rewritten_with_its_leaf_hash_is_caught_by_the_subtree_above_it(node: Node) -> None:
    signed_log(node)
    forged = event(7, actor="someone-else@US-DEMO-NARC").canonical()
    sql(node, "UPDATE audit_leaf SET data = :data, hash = :hash WHERE idx = 7", data=forged, hash=leaf_hash(forged))
    code, out = audit(node, "verify")
    assert code == 2
    assert "failed at entries 6..7:" in out


def test_a_consistently_rewritten_tree_still_fails_against_the_signed_checkpoint(node: Node) -> None:
    signed_log(node)
    with node.db.read() as session:
        entries = [leaf.data for leaf in log.read_leaves(session, 0, 20)]
    entries[14] = event(14, outcome="denied").canonical()
    # Rebuild every stored hash so that the tables agree with themselves; only the signature can't follow.
    rewrite: list[tuple[str, dict[str, Any]]] = [("DELETE FROM audit_node", {})]
    frontier = Frontier(0)
    for index, data in enumerate(entries):
        rewrite.append(
            ("UPDATE audit_leaf SET data = :d, hash = :h WHERE idx = :i", {"d": data, "h": leaf_hash(data), "i": index})
        )
        for level, position, hashed in frontier.push(leaf_hash(data)):
            rewrite.append(
                ("INSERT INTO audit_node (key, hash) VALUES (:k, :h)", {"k": node_key(level, position), "h": hashed})
            )
    rewrite.append(("UPDATE audit_head SET frontier = :f", {"f": frontier.blob()}))
    sql_many(node, rewrite)
    code, out = audit(node, "verify")
    assert code == 2
    assert "failed at entries 10..19:" in message(out)
    assert "the signed checkpoint says" in message(out)


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["DELETE FROM audit_leaf WHERE idx = 12"], "failed at entry 12:"),
        (["DELETE FROM audit_node WHERE key = 13 * 64 + 1"], "failed at entries 12..13:"),
        (["DELETE FROM audit_leaf WHERE idx >= 15", "UPDATE audit_head SET size = 15"], "entries 15..19"),
        (["UPDATE audit_checkpoint SET note = replace(note, '\n20\n', '\n21\n')"], "checkpoint of size 20"),
    ],
)
def test_missing_and_forged_rows_are_caught(node: Node, statements: list[str], expected: str) -> None:
    signed_log(node)
    for statement in statements:
        sql(node, statement)
    if "size = 15" in statements[-1]:
        # A truncation must leave a head that looks right: rebuild its frontier for 15 entries.
        with node.db.read() as session:
            frontier = Frontier(0)
            for leaf in log.read_leaves(session, 0, 15):
                frontier.push(leaf.hash)
        sql(node, "UPDATE audit_head SET frontier = :f", f=frontier.blob())
    code, out = audit(node, "verify")
    assert code == 2, out
    assert expected in out
