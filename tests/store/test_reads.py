"""Read paths in the store: what each reader gets is computed over what that reader may see.

Also the equivalence table as versioned data: a new version changes decisions at once, and a
partner's column changes only in a version that partner signed.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tearline import clock
from tearline.db.models import EquivalenceVersion, Principal
from tearline.errors import Forbidden, InvalidInput, NotFound
from tearline.fixtures import WORKSPACE, build_demo, us_marking
from tearline.markings.marking import Marking
from tearline.markings.scheme import Agreement, EquivalenceTable
from tearline.node import Node
from tearline.policy.host import add_member, workspace_by_slug
from tearline.store import reader_versions, reads
from tearline.store import registry as reg
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.filters import Reader
from tearline.store.principals import add_principal
from tearline.store.reports import create_report, edit_report
from tests.web.support import quick

__all__ = ["quick"]
pytestmark = pytest.mark.usefixtures("quick")


def _reader(node: Node, username: str) -> Reader:
    with node.db.read() as session:
        principal = session.scalar(select(Principal).where(Principal.username == username))
        assert principal is not None
        session.expunge(principal)
    return node.reader(principal)


def _markings(node: Node) -> dict[str, Marking]:
    with node.db.read() as session:
        registry = node.registry(session)
    return {
        "us-mx": us_marking(registry, ["USA", "MEX"]),
        "all": us_marking(registry, ["USA", "CAN", "MEX"]),
        "les": us_marking(registry, ["USA", "MEX"], controls=["LES"]),
        "name-hidden": us_marking(registry, ["USA", "CAN", "MEX"], source_fields=["name"], source_grade="C3"),
    }


def _store(node: Node, draft: ReportDraft, stix_id: str | None = None) -> str:
    with node.db.write() as session:
        ana = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert ana is not None
        registry = node.registry(session)
        if stix_id is None:
            return create_report(session, draft, ana, node.identity, registry).stix_id
        edit_report(session, stix_id, draft, ana, node.identity, registry, True)
        return stix_id


def _draft(title: Marking, *portions: tuple[str, Marking], objects: tuple[ObjectDraft, ...] = ()) -> ReportDraft:
    return ReportDraft(
        title=PortionDraft("Laboratory near Culiacán", title),
        portions=tuple(PortionDraft(text, m) for text, m in portions),
        objects=objects,
        predicate="Reasonable suspicion of synthetic drug production (fictional test case).",
        review_due=clock.now() + timedelta(days=90),
        workspace=WORKSPACE,
    )


def test_version_numbers_count_only_versions_the_reader_could_see(node: Node) -> None:
    build_demo(node)
    m = _markings(node)
    stix_id = _store(node, _draft(m["us-mx"], ("Version one, for everyone here.", m["us-mx"])))
    _store(node, _draft(m["les"], ("Version two, law enforcement only.", m["les"])), stix_id)
    _store(node, _draft(m["us-mx"], ("Version three, for everyone again.", m["us-mx"])), stix_id)
    # ian.intel is not law enforcement: version 2 never existed for him.
    ian_reader, ana_reader = _reader(node, "ian.intel"), _reader(node, "ana.analyst")
    with node.db.read() as session:
        ian = reader_versions.report_view(session, ian_reader, node.table(session), stix_id)
        ana = reader_versions.report_view(session, ana_reader, node.table(session), stix_id)
    assert (ian.version, ian.versions) == (2, 2)
    assert (ana.version, ana.versions) == (3, 3)
    assert ian.portions[0].text == ana.portions[0].text == "Version three, for everyone again."


def test_an_auditor_reads_earlier_versions_and_nobody_reads_past_the_last(node: Node) -> None:
    build_demo(node)
    m = _markings(node)
    stix_id = _store(node, _draft(m["us-mx"], ("First text.", m["us-mx"])))
    _store(node, _draft(m["us-mx"], ("Second text.", m["us-mx"])), stix_id)
    auditor = _reader(node, "carla.auditor")  # before the read snapshot: it may refresh the audience
    with node.db.read() as session:
        table = node.table(session)
        first = reader_versions.report_view(session, auditor, table, stix_id, 1)
        assert [p.text for p in first.portions] == ["First text."]
        assert (first.version, first.versions) == (1, 2)
        with pytest.raises(NotFound):
            reader_versions.report_view(session, auditor, table, stix_id, 3)


def test_a_relationship_shows_only_when_both_its_ends_show(node: Node) -> None:
    build_demo(node)
    m = _markings(node)
    known, unknown = f"identity--{uuid.uuid4()}", f"identity--{uuid.uuid4()}"
    objects = (
        ObjectDraft(known, "identity", {"name": "Ismael Trujano Vega"}, m["all"], name="Ismael Trujano Vega"),
        ObjectDraft(unknown, "identity", {"name": "Fidel Arredondo Ponce"}, m["us-mx"], name="Fidel Arredondo Ponce"),
        ObjectDraft(
            f"relationship--{uuid.uuid4()}",
            "relationship",
            {"relationship_type": "works-with"},
            m["all"],
            name="works-with",
            source_ref=known,
            target_ref=unknown,
        ),
    )
    _store(node, _draft(m["all"], ("A paragraph for all three.", m["all"]), objects=objects))
    chloe_reader, mateo_reader = _reader(node, "chloe.liaison"), _reader(node, "mateo.enlace")
    with node.db.read() as session:
        chloe = reads.object_list(session, chloe_reader, None, 100, 0)
        mateo = reads.object_list(session, mateo_reader, "relationship", 100, 0)
    names = {o.name for o in chloe.items}
    assert "Ismael Trujano Vega" in names
    assert "Fidel Arredondo Ponce" not in names and "works-with" not in names
    assert "works-with" in {o.name for o in mateo.items}


def test_a_source_sensitive_name_is_withheld_and_not_searchable(node: Node) -> None:
    build_demo(node)
    m = _markings(node)
    person = ObjectDraft(
        f"identity--{uuid.uuid4()}",
        "identity",
        {"name": "Casimiro Olvera Treviño", "identity_class": "individual"},
        m["name-hidden"],
        name="Casimiro Olvera Treviño",
    )
    _store(node, _draft(m["all"], ("A paragraph.", m["all"]), objects=(person,)))
    query = reads.SearchQuery(text="olvera")
    ana, ian = _reader(node, "ana.analyst"), _reader(node, "ian.intel")
    with node.db.read() as session:
        own = reads.search_objects(session, ana, query)
        other = reads.search_objects(session, ian, query)
        listed = reads.object_list(session, ian, "identity", 100, 0)
    assert [o.name for o in own.items] == ["Casimiro Olvera Treviño"]
    assert other.total == 0
    withheld = [o for o in listed.items if o.stix_id == person.stix_id]
    assert [(o.name, o.body["name"]) for o in withheld] == [("[withheld: source grade C3]",) * 2]
    assert "Olvera" not in repr(listed.items)


def test_a_foreign_reader_sees_only_items_in_their_current_workspaces(node: Node) -> None:
    build_demo(node)
    m = _markings(node)
    outside = replace(_draft(m["all"], ("Outside any workspace.", m["all"])), workspace=None)
    inside = _draft(m["all"], ("Inside the fusion centre.", m["all"]))
    _store(node, outside)
    _store(node, inside)
    chloe, ian = _reader(node, "chloe.liaison"), _reader(node, "ian.intel")
    with node.db.read() as session:
        hits = reads.search_portions(session, chloe, "the fusion centre", 10, 0).total
        missed = reads.search_portions(session, chloe, "outside any", 10, 0).total
        domestic = reads.search_portions(session, ian, "outside any", 10, 0).total
    assert (hits, missed, domestic) == (1, 0, 1)


def test_counts_leave_out_titles_and_hidden_reports(node: Node) -> None:
    build_demo(node)
    adam = _reader(node, "adam.admin")
    with node.db.read() as session:
        admin = reads.counts(session, adam)
        page = reads.report_list(session, adam, node.table(session), 50, 0)
    assert admin == {"reports": 1, "portions": 1, "objects": {}}
    assert page.total == 1 and len(page.items) == 1


# --- the equivalence table --------------------------------------------------------------------


def _table_with(node: Node, nation: str, label: str, level: int) -> EquivalenceTable:
    with node.db.read() as session:
        current = node.table(session)
    agreements = []
    for agreement in current.agreements:
        columns = {n: dict(c) for n, c in agreement.columns.items()}
        columns[nation][label] = level
        agreements.append(Agreement(agreement.name, agreement.nations, agreement.ceiling, columns))
    return EquivalenceTable(version=0, agreements=tuple(agreements))


def _convoy_portions(node: Node, username: str, stix_id: str) -> int:
    reader = _reader(node, username)
    with node.db.read() as session:
        try:
            return len(reader_versions.report_view(session, reader, node.table(session), stix_id).portions)
        except NotFound:
            return 0


def test_a_new_version_of_our_own_column_changes_decisions_at_once(node: Node) -> None:
    demo = build_demo(node)
    with node.db.write() as session:
        lucia = add_principal(session, "lucia.confidencial", "MEX", "MX-DEMO-FIA", "CONFIDENCIAL")
        add_member(session, workspace_by_slug(session, WORKSPACE), lucia)
    convoy = demo.reports["convoy"]
    assert _convoy_portions(node, "lucia.confidencial", convoy) == 0  # CONFIDENCIAL (2) < SECRET (3)
    assert _convoy_portions(node, "mateo.enlace", convoy) == 2
    with node.db.write() as session:
        version = reg.set_equivalence_table(
            session, node.identity, _table_with(node, "USA", "SECRET", 2), "adam.admin", frozenset()
        )
    assert version == 2
    with node.db.read() as session:
        assert node.table(session).version == 2
        assert node.table(session).agreements[0].common("USA", "SECRET") == 2
        stored = session.scalars(select(EquivalenceVersion.version).order_by(EquivalenceVersion.version)).all()
    assert list(stored) == [1, 2]
    # Existing audiences were invalidated: the same principal now sees the convoy portions.
    assert _convoy_portions(node, "lucia.confidencial", convoy) == 2


@pytest.mark.parametrize(("nation", "label"), [("MEX", "SECRETA"), ("CAN", "SECRET")], ids=["mex", "can"])
def test_a_partners_column_changes_only_in_a_version_it_signed(node: Node, nation: str, label: str) -> None:
    build_demo(node)
    changed = _table_with(node, nation, label, 4)
    with pytest.raises(Forbidden) as refused, node.db.write() as session:
        reg.set_equivalence_table(session, node.identity, changed, "adam.admin", frozenset())
    assert refused.value.rule == "equivalence-partner-signature"
    assert nation in refused.value.message
    with node.db.read() as session:
        assert node.table(session).version == 1
    # The other partner's signature does not count for this column.
    other = {"MEX": "CAN", "CAN": "MEX"}[nation]
    with pytest.raises(Forbidden), node.db.write() as session:
        reg.set_equivalence_table(session, node.identity, changed, "adam.admin", frozenset({other}))
    with node.db.write() as session:
        assert reg.set_equivalence_table(session, node.identity, changed, "adam.admin", frozenset({nation})) == 2
    with node.db.read() as session:
        assert node.table(session).agreements[0].common(nation, label) == 4


def test_an_unknown_label_in_our_column_is_refused(node: Node) -> None:
    build_demo(node)
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        reg.set_equivalence_table(
            session, node.identity, _table_with(node, "USA", "SECRETISH", 3), "adam.admin", frozenset()
        )
    assert refused.value.problems[0].field == "columns.USA"
    with node.db.read() as session:
        assert node.table(session).version == 1
