"""A reader's audience snapshot: written into its queries, taken again when it may have changed.

The differential test (`test_differential.py`) holds every form of the SQL filter to the per-item
decision; these tests cover when a snapshot is taken, what an old one still admits, and how the
counters that date snapshots move.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import bindparam, func, select

from tearline.db.among import MarkingAmong
from tearline.db.driver import compile_for_driver, fetch_column
from tearline.db.models import Grant, MarkingRow, Portion, Principal, UTCDateTime
from tearline.fixtures import build_demo, us_marking
from tearline.node import Node
from tearline.store import audience
from tearline.store import registry as reg
from tearline.store.filters import now_param, portion_visible
from tearline.store.principals import update_principal
from tearline.store.reads import portion_count, portion_page
from tests.store.test_reads import _draft, _reader, _store, quick

__all__ = ["quick"]
pytestmark = pytest.mark.usefixtures("quick")


def _marking_count(node: Node) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(MarkingRow)) or 0


def _portion_ids(node: Node, text: str) -> set[int]:
    with node.db.read() as session:
        return set(session.scalars(select(Portion.id).where(Portion.text == text)))


def test_a_reader_made_before_a_marking_was_stored_still_sees_what_it_marks(node: Node) -> None:
    build_demo(node)
    before = _reader(node, "ana.analyst")
    with node.db.read() as session:
        fresh = us_marking(node.registry(session), ["USA", "CAN", "MEX"], source_grade="B2")
    markings = _marking_count(node)
    _store(node, _draft(fresh, ("Stored after the reader was made.", fresh)))
    assert _marking_count(node) == markings + 1  # the marking is new to the node
    stored = _portion_ids(node, "Stored after the reader was made.")

    with node.db.read() as session:
        assert stored <= set(portion_page(session, before, 10_000))
        seen_before = portion_count(session, before)
    after = _reader(node, "ana.analyst")
    assert after.audience is not before.audience  # the generation moved: a new snapshot
    assert after.audience is not None and after.audience.newest > before.audience.newest  # type: ignore[union-attr]
    with node.db.read() as session:
        assert portion_count(session, after) == seen_before


def test_a_snapshot_is_reused_until_its_stamp_moves(node: Node) -> None:
    build_demo(node)
    first, second = _reader(node, "ana.analyst"), _reader(node, "ana.analyst")
    assert first.audience is not None and second.audience is first.audience
    with node.db.write() as session:
        reg.bump_policy_epoch(session)
    third = _reader(node, "ana.analyst")
    assert third.audience is not first.audience
    assert third.audience is not None and third.audience.known == first.audience.known


def test_an_audience_too_large_for_constants_is_probed_instead(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    build_demo(node)
    written = _reader(node, "ana.analyst")
    monkeypatch.setattr(audience, "SNAPSHOT_LIMIT", 0)
    with node.db.write() as session:
        reg.bump_policy_epoch(session)
    probed = _reader(node, "ana.analyst")
    assert written.audience is not None and probed.audience is None
    with node.db.read() as session:
        assert portion_page(session, probed, 500) == portion_page(session, written, 500)
        assert portion_count(session, probed) == portion_count(session, written) > 0


@pytest.mark.parametrize("counter", ["policy_epoch", "audience_generation"])
def test_two_transactions_bumping_a_counter_at_once_move_it_twice(node: Node, counter: str) -> None:
    bump = reg.bump_policy_epoch if counter == "policy_epoch" else reg.bump_audience_generation
    read = reg.policy_epoch if counter == "policy_epoch" else reg.audience_generation
    with node.db.read() as session:
        start = read(session)
    first_bumped, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with node.db.write() as session:
                bump(session)
                first_bumped.set()
                release_first.wait(10)
        except BaseException as err:  # reported below
            errors.append(err)
            first_bumped.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_bumped.wait(10)
    second = threading.Thread(target=lambda: _bump_in_write(node, bump))
    second.start()  # waits for the first transaction (its row lock, or SQLite's write lock)
    second.join(0.3)
    release_first.set()
    thread.join(10)
    second.join(10)
    assert not errors
    with node.db.read() as session:
        assert read(session) == start + 2


def _bump_in_write(node: Node, bump: object) -> None:
    with node.db.write() as session:
        bump(session)  # type: ignore[operator]


def test_the_constants_are_written_as_each_database_runs_them_fastest(node: Node) -> None:
    dialect = node.db.engine.dialect
    column = Portion.__table__.c.marking_id
    walking = MarkingAmong(column, (3, 5, 8), 12, walk=True)
    by_marking = MarkingAmong(column, (3, 5, 8), 12, walk=False)
    sql = [str(e.compile(dialect=dialect)) for e in (walking, by_marking)]
    if dialect.name == "sqlite":
        assert sql[0] == "(+portion.marking_id IN (3,5,8) OR +portion.marking_id > 12)"
        assert sql[1] == "(portion.marking_id IN (SELECT id FROM marking WHERE id IN (3,5,8) OR id > 12))"
    else:
        assert sql[0] == sql[1] == "(portion.marking_id = ANY('{3,5,8}'::integer[]) OR portion.marking_id > 12)"
    with pytest.raises(TypeError):
        MarkingAmong(column, ("3; DROP TABLE portion",), None, walk=True)  # type: ignore[arg-type]


def test_a_driver_statement_pages_as_sqlalchemy_would(node: Node) -> None:
    build_demo(node)
    reader = _reader(node, "ana.analyst")
    with node.db.read() as session:
        through_sqlalchemy = list(
            session.scalars(select(Portion.id).where(portion_visible(reader)).order_by(Portion.id).limit(7))
        )
        assert through_sqlalchemy and portion_page(session, reader, 7) == through_sqlalchemy
        after = through_sqlalchemy[2]
        assert portion_page(session, reader, 3, after) == through_sqlalchemy[3:6]
    live = select(Grant.id).where(Grant.id > bindparam("after", value=0), Grant.expires_at > now_param(reader))
    driven = compile_for_driver(live, node.db.engine.dialect)
    values = driven.parameters({"after": 5, "now": reader.now, "unused": 1})
    named = dict(zip(driven.positions, values, strict=True)) if driven.positions else values
    assert isinstance(named, dict) and named["after"] == 5 and "unused" not in named
    # The time goes through the column type's processor (on SQLite, UTC without a zone).
    assert named["now"] == UTCDateTime().bind_processor(node.db.engine.dialect)(reader.now)
    assert (named["now"].tzinfo is None) == (node.db.dialect == "sqlite")
    with node.db.read() as session:
        assert fetch_column(session, driven, {"after": 0, "now": reader.now}) == []  # no grant exists


def test_a_snapshot_taken_before_an_audience_is_recomputed_is_not_kept_after(node: Node) -> None:
    build_demo(node)
    with node.db.read() as session:
        secret = us_marking(node.registry(session), ["USA", "CAN", "MEX"])
    _store(node, _draft(secret, ("Secret, for ana until her clearance drops.", secret)))
    stored = _portion_ids(node, "Secret, for ana until her clearance drops.")
    ana = _reader(node, "ana.analyst")
    with node.db.read() as session:
        assert stored <= set(portion_page(session, ana, 10_000))
    with node.db.write() as session:
        row = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert row is not None
        update_principal(session, row, clearance="CONFIDENTIAL")
    # A request that reads the stamp after the change but before ana's audience is recomputed:
    # its snapshot holds the old rows, and must not be what the next reader gets.
    with node.db.read() as session:
        node._snapshot(session, ana.principal_id)
    after = _reader(node, "ana.analyst")
    with node.db.read() as session:
        assert not stored & set(portion_page(session, after, 10_000))
        assert portion_count(session, after) < portion_count(session, ana)
