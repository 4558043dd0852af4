"""Tearline generation on the demo scenario (DESIGN §3.5 and §5 step 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tearline import clock
from tearline.fixtures import build_demo, us_marking
from tearline.markings.release import Maker, Recipient, Withheld
from tearline.node import Node
from tearline.release.tearline import TearlineContext, TearlineRefused, tearline_for
from tearline.store.content import version_content
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.reports import create_report


def _tearline(node: Node, report: str, recipient: Recipient):  # type: ignore[no-untyped-def]
    with node.db.read() as session:
        content = version_content(session, report)
        ctx = TearlineContext(
            Maker("USA", "US-DEMO-NARC"), node.registry(session), node.table(session), (), clock.now()
        )
        return tearline_for(content, recipient, ctx)


def test_mexico_gets_the_convoy_and_port_contact_not_the_source_or_the_vetted_unit(node: Node) -> None:
    demo = build_demo(node)
    t = _tearline(node, demo.reports["convoy"], Recipient("MEX", "MX-DEMO-FIA"))
    kept = [k.text for k in t.kept if k.kind == "portion"]
    assert [k.number for k in t.kept if k.kind == "portion"] == [1, 2]  # renumbered, no gaps
    assert kept[0].startswith("Three tractor-trailers") and kept[1].startswith("The network's buyer")
    withheld = {(w.kind, w.position): w.rule for w in t.withheld}
    assert withheld == {("portion", 3): Withheld.NOT_RELEASABLE, ("portion", 4): Withheld.COMPARTMENT}
    assert t.banner == "SECRET//LES//REL TO USA, MEX"


def test_les_portion_needs_a_law_enforcement_recipient_agency(node: Node) -> None:
    demo = build_demo(node)
    t = _tearline(node, demo.reports["convoy"], Recipient("MEX"))
    assert ("portion", 1, Withheld.LES) in {(w.kind, w.position, w.rule) for w in t.withheld}


def test_compartment_kept_only_for_an_owning_agency(node: Node) -> None:
    demo = build_demo(node)
    t = _tearline(node, demo.reports["convoy"], Recipient("MEX", "MX-DEMO-UIS"))
    assert any(k.kind == "portion" and k.original_position == 4 for k in t.kept)
    assert "VU-HALCON" in t.banner


def test_relationships_whose_ends_stay_home_are_withheld(node: Node) -> None:
    demo = build_demo(node)
    t = _tearline(node, demo.reports["convoy"], Recipient("CAN", "CA-DEMO-BORDER"))
    assert all(k.stix_type != "relationship" for k in t.kept)
    assert t.banner == "SECRET//REL TO USA, CAN, MEX"


def test_an_empty_tearline_is_refused_with_its_reason(node: Node) -> None:
    demo = build_demo(node)
    with node.db.write() as session:
        registry = node.registry(session)
        noforn = us_marking(registry, ["USA"], controls=["NOFORN"])
        draft = ReportDraft(
            title=PortionDraft("Home only", noforn),
            portions=(PortionDraft("Stays home.", noforn),),
            predicate="fictional",
            review_due=clock.now() + timedelta(days=30),
        )
        report = create_report(session, draft, demo.principals["ana.analyst"], node.identity, registry).stix_id
    with pytest.raises(TearlineRefused, match="nothing of this report may go to MEX/MX-DEMO-FIA"):
        _tearline(node, report, Recipient("MEX", "MX-DEMO-FIA"))


def test_source_sensitive_text_becomes_the_grade(node: Node) -> None:
    demo = build_demo(node)
    with node.db.write() as session:
        registry = node.registry(session)
        sourced = us_marking(registry, ["USA", "MEX"], source_fields=["text"], source_grade="C3")
        draft = ReportDraft(
            title=PortionDraft("Courier route", us_marking(registry, ["USA", "MEX"])),
            portions=(PortionDraft("Told by a courier's cousin.", sourced),),
            predicate="fictional",
            review_due=clock.now() + timedelta(days=30),
        )
        report = create_report(session, draft, demo.principals["ana.analyst"], node.identity, registry).stix_id
    t = _tearline(node, report, Recipient("MEX", "MX-DEMO-FIA"))
    assert [k.text for k in t.kept if k.kind == "portion"] == ["[source grade C3]"]
