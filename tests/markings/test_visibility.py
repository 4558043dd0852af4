"""The visibility predicate (DESIGN §3.3, rules 1-7) and source-sensitive fields."""

from __future__ import annotations

import pytest

from tearline.markings import (
    DEFAULT_TABLE,
    Decision,
    EquivalenceTable,
    ItemFacts,
    Marking,
    Rule,
    Viewer,
    decide,
    marking_verdict,
    sees_source,
)

from .factories import marking, usa_mex_only_table, viewer


def see(
    v: Viewer,
    m: Marking,
    facts: ItemFacts | None = None,
    node: str = "USA",
    table: EquivalenceTable = DEFAULT_TABLE,
) -> Decision:
    return decide(v, m, facts or ItemFacts(), node, table)


def allowed(d: Decision) -> None:
    assert (d.allowed, d.rule) == (True, None)


def denied(d: Decision, rule: Rule) -> None:
    assert (d.allowed, d.rule) == (False, rule)


# --- rule 1: clearance -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nation", "clearance", "level", "seen"),
    [
        pytest.param("CAN", "PROTECTED A", "PROTECTED B", False, id="can-a-vs-b-same-common-level"),
        pytest.param("CAN", "PROTECTED B", "PROTECTED A", True, id="can-b-vs-a"),
        pytest.param("CAN", "PROTECTED C", "CONFIDENTIAL", False, id="can-c-vs-confidential"),
        pytest.param("CAN", "CONFIDENTIAL", "PROTECTED C", True, id="can-confidential-vs-c"),
        pytest.param("USA", "SECRET", "TOP SECRET", False, id="usa-below"),
        pytest.param("USA", "SECRET", "SECRET", True, id="usa-equal"),
        pytest.param("MEX", "CONFIDENCIAL", "SECRETA", False, id="mex-below"),
        pytest.param("MEX", "ULTRA SECRETA", "RESERVADA", True, id="mex-above"),
    ],
)
def test_same_nation_compares_national_ranks(nation: str, clearance: str, level: str, seen: bool) -> None:
    d = see(viewer(nation, clearance), marking(nation, level), node=nation)
    assert d.allowed is seen
    assert d.rule == (None if seen else Rule.CLEARANCE)


@pytest.mark.parametrize(
    ("nation", "clearance", "item_nation", "level", "seen"),
    [
        pytest.param("CAN", "PROTECTED A", "USA", "CUI", True, id="can-a-sees-usa-cui"),
        pytest.param("CAN", "PROTECTED B", "MEX", "CONFIDENCIAL", False, id="can-b-not-mex-confidencial"),
        pytest.param("CAN", "PROTECTED C", "USA", "CONFIDENTIAL", True, id="can-c-sees-usa-confidential"),
        pytest.param("MEX", "RESERVADA", "USA", "CONFIDENTIAL", False, id="mex-reservada-not-usa-confidential"),
        pytest.param("MEX", "SECRETA", "USA", "SECRET", True, id="mex-secreta-sees-usa-secret"),
        pytest.param("USA", "SECRET", "MEX", "ULTRA SECRETA", False, id="usa-secret-not-mex-ultra"),
        pytest.param("USA", "CUI", "CAN", "PROTECTED B", True, id="usa-cui-sees-can-protected-b"),
        pytest.param("USA", "UNCLASSIFIED", "MEX", "PÚBLICA", True, id="level-0"),
    ],
)
def test_cross_nation_compares_the_common_scale(
    nation: str, clearance: str, item_nation: str, level: str, seen: bool
) -> None:
    m = marking(item_nation, level)
    d = see(viewer(nation, clearance), m, node=item_nation)
    assert d.allowed is seen
    assert d.rule == (None if seen else Rule.CLEARANCE)


def test_unknown_clearance_label_denies() -> None:
    denied(see(viewer("USA", "COSMIC"), marking()), Rule.CLEARANCE)
    assert not see(viewer("CAN", "COSMIC"), marking()).allowed


def test_no_agreement_denies_across_nations() -> None:
    table = usa_mex_only_table(version=7)
    d = see(viewer("CAN", "TOP SECRET"), marking(level="UNCLASSIFIED"), table=table)
    denied(d, Rule.NO_AGREEMENT)
    assert d.table_version == 7


def test_pair_with_an_agreement_still_decides_under_a_partial_table() -> None:
    table = usa_mex_only_table()
    allowed(see(viewer("MEX", "SECRETA"), marking(), table=table))
    allowed(see(viewer("USA", "SECRET"), marking(), table=table))
    denied(see(viewer("CAN", "TOP SECRET"), marking("MEX", "PÚBLICA"), node="MEX", table=table), Rule.NO_AGREEMENT)


def test_same_nation_needs_no_agreement() -> None:
    allowed(see(viewer("CAN", "SECRET"), marking("CAN", "SECRET"), node="CAN", table=usa_mex_only_table()))


# --- rule 2: rel_to --------------------------------------------------------------------------------------


def test_viewer_nation_must_be_in_rel_to() -> None:
    denied(see(viewer("MEX", "ULTRA SECRETA"), marking(rel_to={"USA", "CAN"})), Rule.REL_TO)
    denied(see(viewer("CAN", "TOP SECRET"), marking(rel_to={"USA"}, controls={"NOFORN"})), Rule.REL_TO)
    allowed(see(viewer("MEX", "ULTRA SECRETA"), marking(rel_to={"USA", "MEX"})))


# --- rule 3: compartments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "needed", "seen"),
    [
        pytest.param(set(), set(), True, id="none-needed"),
        pytest.param({"VU-NORTE"}, set(), True, id="extra-held"),
        pytest.param(set(), {"VU-NORTE"}, False, id="none-held"),
        pytest.param({"VU-NORTE"}, {"VU-NORTE", "ALPHA"}, False, id="one-of-two"),
        pytest.param({"VU-NORTE", "ALPHA", "HALCON"}, {"VU-NORTE", "ALPHA"}, True, id="superset"),
    ],
)
def test_viewer_must_hold_every_compartment(held: set[str], needed: set[str], seen: bool) -> None:
    d = see(viewer("USA", compartments=held), marking(compartments=needed))
    assert d.allowed is seen
    assert d.rule == (None if seen else Rule.COMPARTMENT)


# --- rule 4: ORCON and LES -------------------------------------------------------------------------------


def test_orcon_originator_agency_sees_without_cover() -> None:
    allowed(see(viewer("USA", agency="US-DRUGS"), marking(controls={"ORCON"})))


def test_orcon_other_agency_needs_cover() -> None:
    v, m = viewer("USA", agency="US-INTEL"), marking(controls={"ORCON"})
    denied(see(v, m), Rule.ORCON)
    allowed(see(v, m, ItemFacts(orcon_covered=True)))


def test_orcon_foreign_agency_needs_cover() -> None:
    v, m = viewer("MEX", "ULTRA SECRETA", agency="MX-FISCALIA"), marking(controls={"ORCON"})
    denied(see(v, m), Rule.ORCON)
    allowed(see(v, m, ItemFacts(orcon_covered=True)))


def test_orcon_cover_of_another_kind_does_not_count() -> None:
    v, m = viewer("USA", agency="US-INTEL"), marking(controls={"ORCON"})
    denied(see(v, m, ItemFacts(consent_covered=True)), Rule.ORCON)


def test_les_needs_a_law_enforcement_agency() -> None:
    m = marking(controls={"LES"})
    denied(see(viewer("USA", agency="US-INTEL"), m), Rule.LES)
    allowed(see(viewer("USA", agency="US-DRUGS"), m))
    allowed(see(viewer("CAN", "TOP SECRET", agency="CA-POLICE"), m))
    denied(see(viewer("CAN", "TOP SECRET", agency="CA-INTEL"), m), Rule.LES)


# --- rule 5: live ----------------------------------------------------------------------------------------


def test_not_live_denies_even_the_originator() -> None:
    denied(see(viewer("USA"), marking(), ItemFacts(live=False)), Rule.NOT_LIVE)
    denied(see(viewer("USA"), marking(controls={"ORCON"}), ItemFacts(live=False)), Rule.NOT_LIVE)


# --- rule 6: third-party rule ----------------------------------------------------------------------------


def test_third_party_viewer_of_a_received_item_needs_consent() -> None:
    item = marking("MEX", "SECRETA", rel_to={"MEX", "USA", "CAN"})
    canadian = viewer("CAN", "TOP SECRET")
    denied(see(canadian, item, node="USA"), Rule.THIRD_PARTY)
    allowed(see(canadian, item, ItemFacts(consent_covered=True), node="USA"))


@pytest.mark.parametrize("nation", ["USA", "MEX"])
def test_node_and_originator_nations_need_no_consent(nation: str) -> None:
    item = marking("MEX", "SECRETA", rel_to={"MEX", "USA", "CAN"})
    allowed(see(viewer(nation, "SECRET" if nation == "USA" else "SECRETA"), item, node="USA"))


def test_own_item_needs_no_consent_for_a_partner() -> None:
    allowed(see(viewer("CAN", "TOP SECRET"), marking(rel_to={"USA", "CAN", "MEX"}), node="USA"))


def test_orcon_cover_is_not_consent_for_the_third_party_rule() -> None:
    item = marking("MEX", "SECRETA", rel_to={"MEX", "USA", "CAN"})
    denied(see(viewer("CAN", "TOP SECRET"), item, ItemFacts(orcon_covered=True), node="USA"), Rule.THIRD_PARTY)


# --- rule 7: foreign principals and workspaces -----------------------------------------------------------


def test_foreign_viewer_outside_allowed_workspace_denied() -> None:
    v = viewer("MEX", "ULTRA SECRETA")
    denied(see(v, marking(), ItemFacts(in_allowed_workspace=False)), Rule.WORKSPACE)
    allowed(see(v, marking(), ItemFacts(in_allowed_workspace=True)))


def test_workspace_rule_does_not_apply_to_the_node_nation() -> None:
    allowed(see(viewer("USA"), marking(), ItemFacts(in_allowed_workspace=False)))


def test_workspace_membership_never_widens_rules_1_to_6() -> None:
    inside = ItemFacts(in_allowed_workspace=True)
    denied(see(viewer("MEX", "RESERVADA"), marking(), inside), Rule.CLEARANCE)
    denied(see(viewer("MEX", "ULTRA SECRETA"), marking(rel_to={"USA"}), inside), Rule.REL_TO)
    denied(see(viewer("MEX", "ULTRA SECRETA"), marking(compartments={"VU-NORTE"}), inside), Rule.COMPARTMENT)
    item = marking("MEX", "SECRETA", rel_to={"MEX", "USA", "CAN"})
    denied(see(viewer("CAN", "TOP SECRET"), item, inside), Rule.THIRD_PARTY)


# --- the rule named, and the split into marking verdict + item facts -------------------------------------


@pytest.mark.parametrize(
    ("rule", "number"),
    [
        (Rule.NO_AGREEMENT, "1"),
        (Rule.CLEARANCE, "1"),
        (Rule.REL_TO, "2"),
        (Rule.COMPARTMENT, "3"),
        (Rule.ORCON, "4"),
        (Rule.LES, "4"),
        (Rule.NOT_LIVE, "5"),
        (Rule.THIRD_PARTY, "6"),
        (Rule.WORKSPACE, "7"),
        (Rule.RELATIONSHIP_END, "8"),
    ],
    ids=lambda x: str(x),
)
def test_rule_value_names_the_design_rule(rule: Rule, number: str) -> None:
    assert rule.value.split("-", 1)[0] == number


def test_marking_verdict_flags_the_cover_needed() -> None:
    item = marking("MEX", "SECRETA", rel_to={"MEX", "USA", "CAN"}, controls={"ORCON"})
    v = marking_verdict(viewer("CAN", "TOP SECRET"), item, "USA", DEFAULT_TABLE)
    assert (v.allowed, v.needs_orcon_cover, v.needs_consent_cover) == (True, True, True)
    own = marking_verdict(viewer("MEX", "SECRETA", agency="MX-FISCALIA"), item, "USA", DEFAULT_TABLE)
    assert (own.allowed, own.needs_orcon_cover, own.needs_consent_cover) == (True, False, False)


def test_decide_agrees_with_the_marking_verdict_when_it_denies() -> None:
    v, m = viewer("MEX", "RESERVADA"), marking()
    verdict = marking_verdict(v, m, "USA", DEFAULT_TABLE)
    assert (verdict.allowed, verdict.rule) == (False, Rule.CLEARANCE)
    covered = ItemFacts(orcon_covered=True, consent_covered=True)
    denied(see(v, m, covered), Rule.CLEARANCE)


# --- source-sensitive fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "source_compartment", "shown"),
    [
        pytest.param(viewer("USA", agency="US-DRUGS"), None, True, id="originator-agency"),
        pytest.param(viewer("USA", agency="US-INTEL"), None, False, id="same-nation-other-agency"),
        pytest.param(viewer("MEX", "ULTRA SECRETA"), None, False, id="partner"),
        pytest.param(viewer("USA", agency="US-DRUGS"), "HALCON", False, id="originator-without-source-compartment"),
        pytest.param(
            viewer("USA", agency="US-DRUGS", compartments={"HALCON"}), "HALCON", True, id="originator-with-it"
        ),
        pytest.param(
            viewer("USA", agency="US-INTEL", compartments={"HALCON"}), "HALCON", False, id="compartment-not-agency"
        ),
    ],
)
def test_sees_source(v: Viewer, source_compartment: str | None, shown: bool) -> None:
    m = marking(source_fields=("handler",), source_grade="B2", source_compartment=source_compartment)
    assert sees_source(v, m) is shown
