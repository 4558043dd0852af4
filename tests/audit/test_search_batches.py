"""Search rows written in batches: every search answers as if every entry were indexed, on both databases.

Appends leave an entry's `audit_actor` and `audit_object` rows to a batch (`store.INDEX_BATCH`).
These tests make the batch small, so that a log of a few dozen entries has both indexed entries
and a waiting tail, and hold every search, paged, to a scan of the whole log.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from tearline.audit import log, store
from tearline.audit.event import AuditEvent
from tearline.audit.search import Hit, Query, search
from tearline.audit.store import indexed_entries, read_head, search_key
from tearline.db.audit_tables import AuditActor, AuditObject
from tearline.db.migrate import alembic_config
from tearline.errors import InvalidInput
from tearline.node import Node
from tests.audit.support import event
from tests.conftest import Templates

BATCH = 7
ACTORS = ["analyst0@US-DEMO-NARC", "analyst1@US-DEMO-NARC", "liaison@MX-DEMO-FGR", "x" * 300 + "@LONG", "nul\x00@A"]
# Quotes and backslashes (escaped in JSON), non-ASCII, longer than the column, and NUL, which
# PostgreSQL text cannot hold and SQLite's json_each stops at ("r\x00a" and "r\x00b" would meet).
OBJECTS = ["report--0001", "report--0002", 'report--"quoted"\\', "report--ñandú", "y" * 300, "r\x00a", "r\x00b"]


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "INDEX_BATCH", BATCH)


def _random_events(rng: random.Random, count: int, start: int) -> list[AuditEvent]:
    return [
        event(
            start + i,
            actor=rng.choice(ACTORS),
            objects=rng.sample(OBJECTS, rng.randint(0, 3)),
            outcome=rng.choice(["allowed", "denied"]),
        )
        for i in range(count)
    ]


def _append_randomly(node: Node, rng: random.Random, total: int) -> list[AuditEvent]:
    """Appends one at a time and in batches of up to 12; after each, fewer than BATCH entries wait."""
    events: list[AuditEvent] = []
    while len(events) < total:
        batch = _random_events(rng, min(rng.choice([1, 1, 2, 5, 12]), total - len(events)), len(events))
        with node.db.write() as session:
            log.record_many(session, batch, node.config.name)
        events += batch
        with node.db.read() as session:
            size, indexed = read_head(session).size, indexed_entries(session)
        assert size == len(events) and 0 <= size - indexed < BATCH
    return events


def _paged(node: Node, query: Query) -> list[int]:
    found: list[int] = []
    after = query.after
    while True:
        with node.db.read() as session:
            page = search(session, replace(query, after=after))
        found += [hit.index for hit in page.hits]
        if page.next_after is None:
            return found
        after = page.next_after


def test_the_search_rows_cover_exactly_the_indexed_entries(node: Node) -> None:
    events = _append_randomly(node, random.Random(1), 40)
    with node.db.read() as session:
        indexed = indexed_entries(session)
        actors = {tuple(row) for row in session.execute(select(AuditActor.actor, AuditActor.idx))}
        objects = {tuple(row) for row in session.execute(select(AuditObject.object_id, AuditObject.idx))}
    assert indexed >= BATCH
    assert actors == {(search_key(events[i].actor), i) for i in range(indexed)}
    assert objects == {(search_key(oid), i) for i in range(indexed) for oid in events[i].objects}


@pytest.mark.parametrize("seed", [2, 3])
def test_every_search_equals_a_scan_of_the_whole_log(node: Node, seed: int) -> None:
    rng = random.Random(seed)
    events = _append_randomly(node, rng, 45)
    queries = [Query(object_id=o, limit=rng.choice([1, 2, 3, 100])) for o in [*OBJECTS, "report--none"]]
    queries += [Query(actor=a, limit=rng.choice([1, 4, 100])) for a in ACTORS]
    queries += [Query(actor=ACTORS[0], object_id=OBJECTS[0], outcome="denied", limit=2)]
    queries += [Query(object_id=OBJECTS[1], after=20, limit=3)]
    for query in queries:
        expected = [i for i, e in enumerate(events) if i > query.after and query.matches(e)]
        assert _paged(node, query) == expected, query


def test_an_append_that_fills_the_batch_indexes_every_waiting_entry(node: Node) -> None:
    for i in range(BATCH - 1):
        with node.db.write() as session:
            log.record(session, event(i), node.config.name)
    with node.db.read() as session:
        assert indexed_entries(session) == 0
        assert [h.index for h in search(session, Query(actor=event(0).actor)).hits] == [0, 5]
    with node.db.write() as session:
        log.record_many(session, [event(BATCH - 1), event(BATCH)], node.config.name)
    with node.db.read() as session:
        assert indexed_entries(session) == BATCH + 1
        assert session.scalar(select(AuditActor.idx).order_by(AuditActor.idx.desc()).limit(1)) == BATCH


def test_a_tampered_waiting_entry_is_still_indexed_from_its_own_row_and_appends_go_on(node: Node) -> None:
    """The search rows come from the leaf row's columns, never from decoding its bytes."""
    with node.db.write() as session:
        log.record(session, event(0), node.config.name)
        session.execute(text("UPDATE audit_leaf SET data = :d WHERE idx = 0"), {"d": b"not json"})
    with node.db.write() as session:
        log.record_many(session, [event(i) for i in range(1, BATCH)], node.config.name)
    with node.db.read() as session:
        assert indexed_entries(session) == BATCH
        assert session.scalar(select(AuditObject.idx).order_by(AuditObject.idx).limit(1)) == 0


def test_migrating_down_and_up_keeps_every_search_answer(node: Node) -> None:
    """0010 -> 0009 gives the waiting entries their object rows; 0009 -> 0010 indexes everything."""
    events = _append_randomly(node, random.Random(4), 20)
    config = alembic_config(node.db.url)
    node.db.engine.dispose()
    command.downgrade(config, "0009")
    command.upgrade(config, "head")
    node.db.engine.dispose()
    with node.db.read() as session:
        assert indexed_entries(session) == len(events)
    for oid in OBJECTS:
        assert _paged(node, Query(object_id=oid)) == [i for i, e in enumerate(events) if oid in e.objects]
    for actor in ACTORS:
        assert _paged(node, Query(actor=actor)) == [i for i, e in enumerate(events) if e.actor == actor]
    assert "search columns and rows match" in _verify(node)  # 0010 filled `objects` from each entry's bytes


def test_a_waiting_entry_is_found_by_any_object_id_however_json_spells_it(node: Node) -> None:
    with node.db.write() as session:
        log.record(session, event(0, objects=OBJECTS[2:]), node.config.name)
    with node.db.read() as session:
        assert indexed_entries(session) == 0
        for oid in OBJECTS[2:]:
            assert [h.index for h in search(session, Query(object_id=oid)).hits] == [0], oid
        assert search(session, Query(object_id=OBJECTS[2][:-1])).hits == []


def test_ids_that_agree_up_to_a_nul_are_indexed_and_found_apart(node: Node) -> None:
    """A NUL would stop every later append if it reached the search tables; it goes in as U+FFFD."""
    with node.db.write() as session:
        log.record(session, event(0, actor=ACTORS[4], objects=["r\x00a", "r\x00b"]), node.config.name)
        log.record_many(session, [event(i) for i in range(1, BATCH)], node.config.name)
    with node.db.write() as session:
        log.record(session, event(BATCH), node.config.name)  # appends go on after the batch
    with node.db.read() as session:
        assert indexed_entries(session) == BATCH
        for oid in ["r\x00a", "r\x00b"]:
            assert [h.index for h in search(session, Query(object_id=oid)).hits] == [0], oid
        assert search(session, Query(object_id="r\x00c")).hits == []
        assert [h.index for h in search(session, Query(actor=ACTORS[4])).hits] == [0]


def _verify(node: Node) -> str:
    with node.db.read() as session:
        return log.verify_log(session, log.verifier_key(node)).summary()


@pytest.mark.parametrize(
    ("tamper", "index"),
    [
        ("DELETE FROM audit_object WHERE idx = 3", 3),  # hides entry 3 from "who saw this report"
        ("UPDATE audit_actor SET actor = 'someone@else' WHERE idx = 2", 2),
        ("INSERT INTO audit_actor (actor, idx) VALUES ('ghost@A', 4)", 4),
        ("INSERT INTO audit_object (object_id, idx) VALUES ('report--9999', 12)", 12),  # past `indexed`
        ("UPDATE audit_leaf SET actor = 'someone@else' WHERE idx = 5", 5),
        ("UPDATE audit_leaf SET objects = '[]' WHERE idx = 11", 11),  # a waiting entry's column
        ("UPDATE audit_leaf SET at_us = at_us + 1 WHERE idx = 1", 1),
    ],
)
def test_verify_names_the_first_entry_whose_search_columns_or_rows_were_changed(
    node: Node, tamper: str, index: int
) -> None:
    """The Merkle tree does not cover these; verify derives them from each entry's bytes instead."""
    for first, count in ((0, BATCH), (BATCH, 5)):  # entries 0-6 indexed, 7-11 waiting
        with node.db.write() as session:
            batch = [event(i, objects=[OBJECTS[i % 2]]) for i in range(first, first + count)]
            log.record_many(session, batch, node.config.name)
    with node.db.read() as session:
        assert indexed_entries(session) == BATCH
    assert "search columns and rows match" in _verify(node)
    with node.db.write() as session:
        session.execute(text(tamper))
    with pytest.raises(log.LogTampered) as caught:
        _verify(node)
    assert caught.value.index == index, caught.value.message


def test_a_question_that_is_not_unicode_text_is_refused_naming_the_field(node: Node) -> None:
    with node.db.read() as session, pytest.raises(InvalidInput) as caught:
        search(session, Query(object_id="report--\ud800"))  # a lone surrogate: no event can hold one
    assert [p.field for p in caught.value.problems] == ["object_id"]


def test_verify_reports_its_progress_through_both_passes(node: Node) -> None:
    with node.db.write() as session:
        log.record_many(session, [event(i) for i in range(23)], node.config.name)
    seen: list[tuple[str, int, int]] = []
    with node.db.read() as session:
        log.verify_log(session, log.verifier_key(node), batch=10, progress=lambda *step: seen.append(step))
    assert seen == [(step, done, 23) for step in ("entries", "search columns") for done in (10, 20, 23)]


def test_migrating_a_sqlite_log_whose_search_keys_hold_nul_replaces_it(templates: Templates, tmp_path: Path) -> None:
    """Before 0010, SQLite stored NUL in the search columns as given; 0010 makes them search keys."""
    node = templates.sqlite_node(tmp_path / "node")
    try:
        with node.db.write() as session:
            log.record_many(
                session, [event(i, actor=ACTORS[4], objects=["r\x00a"]) for i in range(3)], node.config.name
            )
        config = alembic_config(node.db.url)
        node.db.engine.dispose()
        command.downgrade(config, "0009")
        with node.db.write() as session:  # as appends before 0010 wrote them
            session.execute(text("UPDATE audit_leaf SET actor = :a"), {"a": ACTORS[4]})
            session.execute(text("UPDATE audit_object SET object_id = :o"), {"o": "r\x00a"})
        node.db.engine.dispose()
        command.upgrade(config, "head")
        assert "search columns and rows match" in _verify(node)
        assert [h.index for h in _search(node, Query(object_id="r\x00a"))] == [0, 1, 2]
    finally:
        node.close()


def _search(node: Node, query: Query) -> list[Hit]:
    with node.db.read() as session:
        return search(session, query).hits
