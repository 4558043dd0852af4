"""The log in the node's database, on SQLite and PostgreSQL: append, prove, sign, verify, search."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tearline.audit import MemoryTree, TlogProof, leaf_hash, log, open_checkpoint, verify_consistency, verify_inclusion
from tearline.audit.event import AuditEvent
from tearline.audit.search import Query, search
from tearline.audit.store import read_head
from tearline.db.audit_tables import AuditCheckpoint, AuditLeaf
from tearline.errors import NotFound
from tearline.node import Node
from tests.audit.support import checkpoint, event, fill
from tests.conftest import NodeFactory


def memory_tree(entries: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for data in entries:
        tree.append(data)
    return tree


def test_record_returns_consecutive_indexes_and_stores_the_canonical_bytes(node: Node) -> None:
    with node.db.write() as session:
        first = log.record(session, event(0), node.config.name)
        rest = log.record_many(session, [event(1), event(2)], node.config.name)
    assert (first, rest) == (0, [1, 2])
    with node.db.read() as session:
        stored = log.read_leaf(session, 1)
        assert log.log_size(session) == 3
    assert stored.data == event(1).canonical()
    assert stored.hash == leaf_hash(event(1).canonical())
    assert AuditEvent.from_canonical(stored.data) == event(1)


def test_an_entry_commits_with_its_transaction_or_not_at_all(node: Node) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused), node.db.write() as session:
        log.record(session, event(0), node.config.name)
        raise Refused  # the action failed, so its entry must go too
    with node.db.write() as session:
        index = log.record(session, event(1), node.config.name)
    assert index == 0  # no hole where the rolled-back entry was
    with node.db.read() as session:
        assert log.read_leaf(session, 0).data == event(1).canonical()


def test_the_node_name_is_written_into_an_event_that_names_no_node(node: Node) -> None:
    with node.db.write() as session:
        log.record(session, event(0, node=""), node.config.name)
    with node.db.read() as session:
        stored = AuditEvent.from_canonical(log.read_leaf(session, 0).data)
    assert stored.node == node.config.name


def test_roots_and_proofs_from_the_database_equal_memory_trees(node: Node) -> None:
    entries = fill(node, 300, batch=37)
    tree = memory_tree(entries)
    with node.db.read() as session:
        for size in (1, 2, 3, 5, 8, 64, 100, 255, 256, 257, 300):
            assert log.root_at(session, size) == tree.root(size)
            for index in {0, size // 3, size // 2, size - 1}:
                assert log.prove_inclusion(session, index, size) == tree.inclusion_proof(index, size)
            for old in {0, 1, size // 3, size - 1, size}:
                assert log.prove_consistency(session, old, size) == tree.consistency_proof(old, size)


def test_single_and_batched_appends_build_the_same_tree(make_node: NodeFactory) -> None:
    one, other = make_node(), make_node()
    for i in range(40):
        with one.db.write() as session:
            log.record(session, event(i), one.config.name)
    fill(other, 40, batch=13)
    with one.db.read() as a, other.db.read() as b:
        assert log.root_at(a, 40) == log.root_at(b, 40)
        assert read_head(a).blob() == read_head(b).blob()


def test_proofs_past_the_log_are_refused(node: Node) -> None:
    fill(node, 5)
    with node.db.read() as session:
        with pytest.raises(NotFound):
            log.prove_inclusion(session, 5, 5)
        with pytest.raises(NotFound):
            log.prove_consistency(session, 2, 6)
        with pytest.raises(NotFound):
            log.read_leaf(session, 5)


def test_no_entry_is_too_big(node: Node) -> None:
    # MISP drops changes over 64 KB; a 3 MB entry must go in, and prove, like any other.
    big = event(0, detail={"text": "x" * 3_000_000})
    with node.db.write() as session:
        log.record(session, big, node.config.name)
        log.record(session, event(1), node.config.name)
    signed = checkpoint(node)
    with node.db.read() as session:
        assert log.read_leaf(session, 0).data == big.canonical()
        proof = log.prove_inclusion(session, 0, 2)
    assert verify_inclusion(leaf_hash(big.canonical()), 0, 2, proof, signed.checkpoint.root_hash)


def test_checkpoints_are_signed_stored_and_reissued_only_when_the_log_grows(node: Node) -> None:
    empty = checkpoint(node)
    assert empty.checkpoint.size == 0
    fill(node, 10)
    first = checkpoint(node)
    assert checkpoint(node).note == first.note
    fill(node, 3, start=10)
    second = checkpoint(node)
    vkey = log.verifier_key(node)
    assert vkey.startswith("tearline.usa.us-demo-narc/log+")
    opened, _ = open_checkpoint(second.note, [vkey], "tearline.usa.us-demo-narc/log")
    assert (opened.size, opened.root_hash) == (13, second.checkpoint.root_hash)
    with node.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 3
        proof = log.prove_consistency(session, 10, 13)
    assert verify_consistency(10, 13, first.checkpoint.root_hash, second.checkpoint.root_hash, proof)


def test_a_tlog_proof_verifies_offline_from_its_own_text(node: Node) -> None:
    fill(node, 21)
    with node.db.write() as session:
        text = log.tlog_proof(session, log.node_log_signer(node), 13).to_text()
    proof = TlogProof.parse(text)
    assert proof.extra is not None
    assert AuditEvent.from_canonical(proof.extra) == event(13)
    opened, _ = proof.verify(leaf_hash(proof.extra), [log.verifier_key(node)], "tearline.usa.us-demo-narc/log")
    assert opened.size == 21


def test_verify_log_recomputes_everything(node: Node) -> None:
    checkpoint(node)  # of the empty log
    fill(node, 70)
    checkpoint(node)
    fill(node, 5, start=70)
    with node.db.read() as session:
        report = log.verify_log(session, log.verifier_key(node), batch=16)
    assert (report.size, report.checkpoints, report.signed_size) == (75, 2, 70)
    assert "5 newer entries" in report.summary()


def test_concurrent_writers_leave_no_gap_and_no_duplicate(node: Node) -> None:
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(15):
                with node.db.write() as session:
                    log.record(session, event(worker * 100 + i), node.config.name)
        except BaseException as exc:  # reported below, with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with node.db.read() as session:
        indexes = session.scalars(select(AuditLeaf.idx).order_by(AuditLeaf.idx)).all()
        assert indexes == list(range(60))
    checkpoint(node)
    with node.db.read() as session:
        assert log.verify_log(session, log.verifier_key(node)).size == 60


def test_search_answers_who_saw_an_object_and_what_an_actor_saw(node: Node) -> None:
    report = "report--0003"
    events = [
        event(0, objects=[report, "report--0004"]),
        event(1, actor="liaison@US-DEMO-NARC", objects=[report], outcome="denied", rule="rule 7: workspace"),
        event(2, objects=["report--0009"]),
        event(3, actor="x" * 400 + "@A", objects=[report]),  # longer than the index column
    ]
    with node.db.write() as session:
        log.record_many(session, events, node.config.name)
    with node.db.read() as session:
        who = search(session, Query(object_id=report))
        liaison = search(session, Query(actor="liaison@US-DEMO-NARC"))
        denied = search(session, Query(object_id=report, outcome="denied"))
        long_actor = search(session, Query(actor="x" * 400 + "@A"))
        paged = search(session, Query(object_id=report, limit=1, after=0))
    assert [h.index for h in who.hits] == [0, 1, 3]
    assert [(h.index, h.event.outcome, h.event.rule) for h in liaison.hits] == [(1, "denied", "rule 7: workspace")]
    assert [h.index for h in denied.hits] == [1]
    assert [h.index for h in long_actor.hits] == [3]
    assert [h.index for h in paged.hits] == [1] and paged.next_after == 1


def test_the_origin_is_a_valid_key_name_for_any_agency() -> None:
    assert log.log_origin("MEX", "Fiscalía General / UIF") == "tearline.mex.fiscal-a-general---uif/log"
    assert log.log_origin("CAN", "RCMP") == "tearline.can.rcmp/log"


def test_a_checkpoint_is_never_signed_from_a_read_session(node: Node) -> None:
    """Signing in a read snapshot failed only when a server wrote meanwhile; it is refused every time."""
    fill(node, 3)
    with node.db.read() as session, pytest.raises(RuntimeError, match=r"Database\.write"):
        log.latest_checkpoint(session, log.node_log_signer(node))
