"""What an append sends: packed binary arrays on PostgreSQL, and search columns as they always were."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import orjson
import psycopg
import pytest
from sqlalchemy import select

from tearline.audit import log
from tearline.audit.pg_arrays import bytea_array, int8_array, text_array
from tearline.audit.store import ACTION_CUT, OUTCOME_CUT, LeafFacts, search_columns, search_key
from tearline.clock import as_utc
from tearline.db.audit_tables import AuditLeaf
from tearline.node import Node
from tests.audit.support import event
from tests.conftest import _pg_admin


@pytest.fixture
def pg() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with _pg_admin() as conn:
        yield conn


@pytest.mark.postgres
def test_packed_arrays_arrive_as_postgresql_reads_them(pg: psycopg.Connection[tuple[object, ...]]) -> None:
    ints = [0, 1, -1, 2**63 - 1, -(2**63)]
    blobs = [b"", b"\x00", bytes(range(256)) * 3]
    texts = ["", "é\u4e2d\U0001f600", "\ufffd" * 300, "a,b{c}\"d'"]
    row = pg.execute(
        "SELECT %b::bigint[], %b::bytea[], %b::text[], %b::bigint[], %b::bytea[], %b::text[]",
        (int8_array(ints), bytea_array(blobs), text_array(texts), int8_array([]), bytea_array([]), text_array([])),
    ).fetchone()
    assert row == (ints, blobs, texts, [], [], [])


@pytest.mark.postgres
def test_unnest_pairs_the_packed_columns_row_by_row(pg: psycopg.Connection[tuple[object, ...]]) -> None:
    rows = pg.execute(
        "SELECT * FROM unnest(%b::bigint[], %b::bytea[], %b::text[])",
        (int8_array([7, 8, 9]), bytea_array([b"x", b"", b"zz"]), text_array(["a", "", "c"])),
    ).fetchall()
    assert rows == [(7, b"x", "a"), (8, b"", ""), (9, b"zz", "c")]


def _columns_before(facts: LeafFacts) -> tuple[str, str, str, int, str]:
    """The search columns as every stored entry has them (the code before the fast paths)."""
    objects = orjson.dumps(list(dict.fromkeys(search_key(oid) for oid in facts.objects))).decode()
    at = round(as_utc(facts.at).timestamp() * 1_000_000)
    action, outcome = search_key(facts.action, ACTION_CUT), search_key(facts.outcome, OUTCOME_CUT)
    return search_key(facts.actor), action, outcome, at, objects


def test_search_columns_are_unchanged_for_naive_aware_and_repeated_ids() -> None:
    rng = random.Random(7)
    zones = [None, UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
    id_lists: list[list[str]] = [[], ["r1"], ["r1", "r1"], ["r2", "r1", "r2"], ["n\x00" * 200], ["x" * 300, "y"]]
    for _ in range(2_000):
        moment = datetime(1990, 1, 1) + timedelta(microseconds=rng.randrange(10**16))
        at = moment.replace(tzinfo=rng.choice(zones))
        facts = LeafFacts("a\x00" * 200, "b" * 100, "allowed", at, rng.choice(id_lists))
        assert search_columns(facts) == _columns_before(facts)


def test_a_group_stores_every_column_as_sent(node: Node) -> None:
    events = [event(i) for i in range(70)]
    with node.db.write() as session:
        log.record_many(session, events, node.config.name)
    with node.db.read() as session:
        rows = session.execute(select(AuditLeaf).order_by(AuditLeaf.idx)).scalars().all()
        stored = [(r.idx, bytes(r.data), r.actor, r.action, r.outcome, r.at_us, r.objects) for r in rows]
    expected = []
    for index, one in enumerate(events):
        data, facts = log.encode(one, node.config.name)
        expected.append((index, data, *search_columns(facts)))
    assert stored == expected
