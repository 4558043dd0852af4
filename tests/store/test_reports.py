"""The report write path: whole drafts or nothing, 28 CFR Part 23 fields, and immutable versions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.db.models import MarkingRow, Portion, Principal, Report, ReportVersion, StixObject
from tearline.errors import Forbidden, InvalidInput, NotFound
from tearline.fixtures import build_demo, us_marking
from tearline.markings.marking import Marking
from tearline.node import Node
from tearline.store import reader_versions, reads
from tearline.store.drafts import PORTION_TEXT_LIMIT, ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import create_report, edit_report, require_originator, withdraw_report
from tests.web.support import quick

__all__ = ["quick"]
pytestmark = pytest.mark.usefixtures("quick")


def _counts(node: Node) -> dict[str, int]:
    with node.db.read() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Report, ReportVersion, Portion, StixObject, MarkingRow)
        }


def _draft(node: Node, texts: list[str], **changes: object) -> ReportDraft:
    with node.db.read() as session:
        registry = node.registry(session)
    marking = us_marking(registry, ["USA", "MEX"])
    draft = ReportDraft(
        title=PortionDraft("Stash house in Reynosa", marking),
        portions=tuple(PortionDraft(t, marking) for t in texts),
        predicate="Reasonable suspicion of narcotics storage (fictional test case).",
        review_due=clock.now() + timedelta(days=90),
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def _create(node: Node, draft: ReportDraft, username: str = "ana.analyst") -> str:
    with node.db.write() as session:
        author = session.scalar(select(Principal).where(Principal.username == username))
        assert author is not None
        return create_report(session, draft, author, node.identity, node.registry(session)).stix_id


def _edit(node: Node, stix_id: str, draft: ReportDraft, sees_all: bool = True) -> int:
    with node.db.write() as session:
        editor = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert editor is not None
        version = edit_report(session, stix_id, draft, editor, node.identity, node.registry(session), sees_all)
        return version.number


def _view(node: Node, username: str, stix_id: str, version: int | None = None) -> reads.ReportView:
    with node.db.read() as session:
        principal = session.scalar(select(Principal).where(Principal.username == username))
        assert principal is not None
        session.expunge(principal)
    reader = node.reader(principal)
    with node.db.read() as session:
        return reader_versions.report_view(session, reader, node.table(session), stix_id, version)


def test_an_edit_makes_a_new_version_and_keeps_the_old_rows(node: Node) -> None:
    build_demo(node)
    stix_id = _create(node, _draft(node, ["Old paragraph one.", "Old paragraph two."]))
    before = _counts(node)
    assert _edit(node, stix_id, _draft(node, ["New paragraph."])) == 2
    after = _counts(node)
    assert after["report"] == before["report"]
    assert after["report_version"] == before["report_version"] + 1
    assert after["portion"] == before["portion"] + 2  # title and one portion; none deleted
    with node.db.read() as session:
        rows = session.execute(
            select(ReportVersion.number, Portion.text, Portion.is_current)
            .join(ReportVersion, ReportVersion.id == Portion.version_id)
            .join(Report, Report.id == Portion.report_id)
            .where(Report.stix_id == stix_id, Portion.is_title.is_(False))
            .order_by(ReportVersion.number, Portion.position)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "Old paragraph one.", False),
        (1, "Old paragraph two.", False),
        (2, "New paragraph.", True),
    ]


def test_current_reads_show_only_the_new_version(node: Node) -> None:
    build_demo(node)
    stix_id = _create(node, _draft(node, ["Old paragraph one.", "Old paragraph two."]))
    _edit(node, stix_id, _draft(node, ["New paragraph."]))
    view = _view(node, "ana.analyst", stix_id)
    assert (view.version, view.versions) == (2, 2)
    assert [p.text for p in view.portions] == ["New paragraph."]
    old = _view(node, "carla.auditor", stix_id, version=1)
    assert [p.text for p in old.portions] == ["Old paragraph one.", "Old paragraph two."]
    with node.db.read() as session:
        principal = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert principal is not None
        session.expunge(principal)
    reader = node.reader(principal)
    with node.db.read() as session:
        assert reads.search_portions(session, reader, "old paragraph", 10, 0).total == 0
        assert reads.search_portions(session, reader, "new paragraph", 10, 0).total == 1
        summary = next(
            r for r in reads.report_list(session, reader, node.table(session), 50, 0).items if r["id"] == stix_id
        )
    assert summary["portions"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"predicate": ""}, "predicate"),
        ({"predicate": "   "}, "predicate"),
        ({"review_due": datetime(2031, 12, 2, tzinfo=UTC)}, "review_due"),
        ({"review_due": datetime(2026, 11, 30, tzinfo=UTC)}, "review_due"),
        ({"review_due": datetime(2026, 12, 1, tzinfo=UTC)}, "review_due"),
    ],
    ids=["empty-predicate", "blank-predicate", "five-years-and-a-day", "in-the-past", "now"],
)
def test_28_cfr_23_fields_are_required(node: Node, changes: dict[str, object], field: str) -> None:
    build_demo(node)
    with clock.frozen_at(datetime(2026, 12, 1, tzinfo=UTC)):
        before = _counts(node)
        with pytest.raises(InvalidInput) as refused:
            _create(node, _draft(node, ["A paragraph."], **changes))
    assert [p.field for p in refused.value.problems] == [field]
    assert _counts(node) == before


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (datetime(2026, 12, 1, tzinfo=UTC), datetime(2031, 12, 1, tzinfo=UTC)),
        # Two leap days (2028-02-29, 2032-02-29) fall in these five years: 1827 days.
        (datetime(2027, 3, 1, tzinfo=UTC), datetime(2032, 3, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), datetime(2033, 2, 28, tzinfo=UTC)),
    ],
    ids=["one-leap-day", "two-leap-days", "from-29-february"],
)
def test_a_review_date_exactly_five_calendar_years_out_is_accepted(node: Node, today: datetime, due: datetime) -> None:
    build_demo(node)
    with clock.frozen_at(today):
        _create(node, _draft(node, ["A paragraph."], review_due=due))
        with pytest.raises(InvalidInput) as refused:
            _create(node, _draft(node, ["A paragraph."], review_due=due + timedelta(seconds=1)))
    assert [p.field for p in refused.value.problems] == ["review_due"]


def _bad(marking: Marking) -> Marking:
    """A marking that skipped `marking_from_dict`: REL TO without the originator's nation."""
    return replace(marking, rel_to=frozenset({"MEX"}))


def test_one_bad_portion_among_good_ones_refuses_the_whole_draft(node: Node) -> None:
    build_demo(node)
    good = _draft(node, ["First.", "Second.", "Third."])
    portions = list(good.portions)
    portions[1] = PortionDraft("Second.", _bad(portions[1].marking))
    before = _counts(node)
    with pytest.raises(InvalidInput) as refused:
        _create(node, replace(good, portions=tuple(portions)))
    assert [(p.item, p.field) for p in refused.value.problems] == [("portion 2", "marking.rel_to")]
    assert _counts(node) == before


def test_a_bad_object_refuses_the_whole_draft_and_every_problem_is_listed(node: Node) -> None:
    build_demo(node)
    good = _draft(node, ["First."])
    marking = good.title.marking
    person = f"identity--{uuid.uuid4()}"
    objects = (
        ObjectDraft(person, "identity", {"name": "Lázaro Benítez Orozco"}, marking, name="Lázaro Benítez Orozco"),
        ObjectDraft(f"identity--{uuid.uuid4()}", "identity", {"name": "x"}, _bad(marking), name="x"),
        ObjectDraft(
            f"relationship--{uuid.uuid4()}",
            "relationship",
            {"relationship_type": "knows"},
            marking,
            source_ref=person,
            target_ref=f"identity--{uuid.uuid4()}",
        ),
        ObjectDraft("weapon--1", "x-tearline-weapon", {}, marking),
    )
    before = _counts(node)
    with pytest.raises(InvalidInput) as refused:
        _create(node, replace(good, objects=objects, title=PortionDraft(" ", marking)))
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == ["marking.rel_to", "target_ref", "title", "type"]
    assert _counts(node) == before


def test_a_link_may_not_end_at_another_link(node: Node) -> None:
    """Rule 8 reads one level deep; a relationship or sighting pointing at a link is refused instead."""
    build_demo(node)
    good = _draft(node, ["First."])
    marking = good.title.marking
    person, place = f"identity--{uuid.uuid4()}", f"location--{uuid.uuid4()}"
    link, chained = f"relationship--{uuid.uuid4()}", f"relationship--{uuid.uuid4()}"
    objects = (
        ObjectDraft(person, "identity", {"name": "Lázaro Benítez Orozco"}, marking, name="Lázaro Benítez Orozco"),
        ObjectDraft(place, "location", {"name": "Nogales"}, marking, name="Nogales"),
        ObjectDraft(link, "relationship", {"relationship_type": "located-at"}, marking, source_ref=person,
                    target_ref=place),
        ObjectDraft(chained, "relationship", {"relationship_type": "related-to"}, marking, source_ref=person,
                    target_ref=link),
    )  # fmt: skip
    before = _counts(node)
    with pytest.raises(InvalidInput) as refused:
        _create(node, replace(good, objects=objects))
    (problem,) = refused.value.problems
    assert (problem.field, problem.item) == ("target_ref", chained) and "is a relationship" in problem.reason
    assert _counts(node) == before
    assert _create(node, replace(good, objects=objects[:3]))  # the same without the chained link is fine


def test_a_report_id_is_stored_once(node: Node) -> None:
    build_demo(node)
    stix_id = _create(node, _draft(node, ["First."]))
    with pytest.raises(InvalidInput) as refused:
        _create(node, _draft(node, ["Again."], stix_id=stix_id))
    assert [p.field for p in refused.value.problems] == ["id"]


def test_an_edit_refused_whole_keeps_the_current_version(node: Node) -> None:
    build_demo(node)
    stix_id = _create(node, _draft(node, ["First."]))
    before = _counts(node)
    bad = _draft(node, ["Edited."])
    bad = replace(bad, portions=(PortionDraft("Edited.", _bad(bad.title.marking)),))
    with pytest.raises(InvalidInput):
        _edit(node, stix_id, bad)
    assert _counts(node) == before
    view = _view(node, "ana.analyst", stix_id)
    assert (view.version, [p.text for p in view.portions]) == (1, ["First."])


@pytest.mark.parametrize("case", ["missing", "hidden-part"])
def test_an_edit_of_a_missing_or_partly_hidden_report_is_not_found(node: Node, case: str) -> None:
    demo = build_demo(node)
    stix_id = f"report--{uuid.uuid4()}" if case == "missing" else demo.reports["convoy"]
    before = _counts(node)
    with pytest.raises(NotFound, match=f"no report {stix_id}"):
        _edit(node, stix_id, _draft(node, ["Edited."]), sees_all=case == "missing")
    assert _counts(node) == before


def test_a_withdrawn_report_leaves_every_read_path(node: Node) -> None:
    demo = build_demo(node)
    with node.db.write() as session:
        withdraw_report(session, demo.reports["convoy"], "source compromised")
    with pytest.raises(NotFound):
        _view(node, "ana.analyst", demo.reports["convoy"])
    with node.db.read() as session:
        ana = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert ana is not None
        session.expunge(ana)
    reader = node.reader(ana)
    with node.db.read() as session:
        assert reads.counts(session, reader) == {"reports": 1, "portions": 1, "objects": {}}


def test_only_the_originator_agency_may_edit_and_the_edit_originates_with_it(node: Node) -> None:
    build_demo(node)
    stix_id = _create(node, _draft(node, ["Written by a NARC analyst."]))
    with node.db.read() as session:
        ian = session.scalar(select(Principal).where(Principal.username == "ian.intel"))
        ana = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert ian is not None and ana is not None
        with pytest.raises(Forbidden) as refused:
            require_originator(session, stix_id, _draft(node, ["Edited."]), ian, node.table(session))
        assert refused.value.rule == "originator"
        require_originator(session, stix_id, _draft(node, ["Edited."]), ana, node.table(session))
        registry = node.registry(session)
    intel = replace(us_marking(registry, ["USA", "MEX"]), originator_agency="US-DEMO-INTEL")
    foreign_title = replace(_draft(node, ["Edited."]), title=PortionDraft("Stash house in Reynosa", intel))
    with node.db.read() as session, pytest.raises(InvalidInput) as invalid:
        require_originator(session, stix_id, foreign_title, ana, node.table(session))
    assert [(p.item, p.field) for p in invalid.value.problems] == [("title", "marking.originator")]


def test_a_portion_longer_than_a_portion_may_be_is_refused_whole_on_every_way_in(node: Node) -> None:
    """The store's own check, which the API, STIX and CSV ways in share (naming `portion N`, from 1)."""
    build_demo(node)
    good = _draft(node, ["First.", "Second."])
    too_long = "x" * (PORTION_TEXT_LIMIT + 1)
    before = _counts(node)
    with pytest.raises(InvalidInput) as refused:
        _create(node, replace(good, portions=(good.portions[0], replace(good.portions[1], text=too_long))))
    assert [(p.item, p.field) for p in refused.value.problems] == [("portion 2", "text")]
    with pytest.raises(InvalidInput) as refused:
        _create(node, replace(good, title=replace(good.title, text=too_long)))
    assert [(p.item, p.field) for p in refused.value.problems] == [(None, "title")]
    assert _counts(node) == before
    stix_id = _create(node, good)
    with pytest.raises(InvalidInput):
        _edit(node, stix_id, replace(good, portions=(replace(good.portions[0], text=too_long),)))
    assert _create(node, replace(good, portions=(replace(good.portions[0], text="y" * PORTION_TEXT_LIMIT),)))
