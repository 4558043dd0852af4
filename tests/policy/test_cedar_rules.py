"""The Cedar form of rules 1-4 and 6 decides exactly as the markings engine (DESIGN §3.3).

This differential test is what makes the benchmark's per-item Cedar baseline the same rule as the
bulk SQL filter: both are held to `tearline.markings.visibility.decide`.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tearline.markings import DEFAULT_TABLE, EquivalenceTable, ItemFacts, Marking, Viewer, decide
from tearline.markings.scheme import CONTROLS, NATIONAL_LABELS, TRILATERAL, Agreement
from tearline.policy.cedar_rules import POLICY_ID, CedarVisibility, visibility_policy

NATIONS = ("USA", "CAN", "MEX")
# Fictional agencies: (nation, law enforcement); the rules read the viewer's own flag.
AGENCIES = {
    "US-DRUGS": "USA",
    "US-INTEL": "USA",
    "CA-POLICE": "CAN",
    "CA-INTEL": "CAN",
    "MX-FISCALIA": "MEX",
    "MX-INTEL": "MEX",
}
COMPARTMENTS = ("VU-NORTE", "HALCON", "ALPHA")
_FIRST_AGENCY = {"USA": "US-DRUGS", "CAN": "CA-POLICE", "MEX": "MX-FISCALIA"}

# Live, uncovered, not received, in a workspace the viewer may enter: rules 5 and 7 pass.
FACTS = ItemFacts(live=True, orcon_covered=False, consent_covered=False, in_allowed_workspace=True)


def viewer(
    nation: str = "USA", clearance: str = "TOP SECRET", agency: str | None = None, compartments: tuple[str, ...] = ()
) -> Viewer:
    chosen = agency or _FIRST_AGENCY[nation]
    return Viewer(nation, chosen, clearance, frozenset(compartments), law_enforcement=chosen in _FIRST_AGENCY.values())


def marking(
    nation: str = "USA",
    level: str = "SECRET",
    rel_to: tuple[str, ...] = NATIONS,
    controls: tuple[str, ...] = (),
    compartments: tuple[str, ...] = (),
) -> Marking:
    return Marking(
        nation, _FIRST_AGENCY[nation], level, frozenset(rel_to), frozenset(controls), frozenset(compartments)
    )


def usa_mex_only_table() -> EquivalenceTable:
    """A single USA-MEX agreement: CAN meets no one."""
    columns = {n: TRILATERAL.columns[n] for n in ("USA", "MEX")}
    agreement = Agreement(name="usa-mex", nations=frozenset({"USA", "MEX"}), ceiling=2, columns=columns)
    return EquivalenceTable(version=7, agreements=(agreement,))


def _partial_table() -> EquivalenceTable:
    """A trilateral agreement whose CAN column lacks PROTECTED C: that label meets nothing."""
    columns = {n: dict(c) for n, c in TRILATERAL.columns.items()}
    del columns["CAN"]["PROTECTED C"]
    agreement = Agreement(name="partial", nations=TRILATERAL.nations, ceiling=3, columns=columns)
    return EquivalenceTable(version=9, agreements=(agreement,))


TABLES = {"default": DEFAULT_TABLE, "usa-mex-only": usa_mex_only_table(), "partial": _partial_table()}


@cache
def cedar(node: str, table: str) -> CedarVisibility:
    return CedarVisibility(node, TABLES[table])


agencies_of = {n: sorted(a for a, nation in AGENCIES.items() if nation == n) for n in NATIONS}
compartment_sets = st.frozensets(st.sampled_from(COMPARTMENTS), max_size=3)


@st.composite
def viewers(draw: st.DrawFn) -> Viewer:
    nation = draw(st.sampled_from(NATIONS))
    return Viewer(
        nation=nation,
        agency=draw(st.sampled_from(agencies_of[nation])),
        clearance=draw(st.sampled_from(NATIONAL_LABELS[nation])),
        compartments=draw(compartment_sets),
        law_enforcement=draw(st.booleans()),
    )


@st.composite
def markings(draw: st.DrawFn) -> Marking:
    """Any marking the rules may meet, including ones validation would refuse (the rules must still agree)."""
    nation = draw(st.sampled_from(NATIONS))
    return Marking(
        originator_nation=nation,
        originator_agency=draw(st.sampled_from(agencies_of[nation])),
        level=draw(st.sampled_from(NATIONAL_LABELS[nation])),
        rel_to=draw(st.frozensets(st.sampled_from(NATIONS))),
        controls=draw(st.frozensets(st.sampled_from(sorted(CONTROLS)))),
        compartments=draw(compartment_sets),
    )


@settings(max_examples=2000, deadline=None)
@given(
    v=viewers(),
    m=markings(),
    node=st.sampled_from(NATIONS),
    table=st.sampled_from(sorted(TABLES)),
)
def test_cedar_decides_as_the_markings_engine(v: Viewer, m: Marking, node: str, table: str) -> None:
    expected = decide(v, m, FACTS, node, TABLES[table]).allowed
    assert cedar(node, table).decide(v, m) is expected


@settings(max_examples=50, deadline=None)
@given(v=viewers(), ms=st.lists(markings(), min_size=1, max_size=40), node=st.sampled_from(NATIONS))
def test_a_batch_decides_each_item_as_alone(v: Viewer, ms: list[Marking], node: str) -> None:
    rules = cedar(node, "default")
    principal = rules.principal("p", v)
    batch = rules.decide_batch(principal, [(str(i), rules.item_attrs_json(m)) for i, m in enumerate(ms)])
    assert batch == [decide(v, m, FACTS, node, DEFAULT_TABLE).allowed for m in ms]


@pytest.mark.parametrize(
    ("v", "m", "seen"),
    [
        pytest.param(viewer("USA", "SECRET"), marking("USA", "SECRET"), True, id="same-nation-equal"),
        pytest.param(viewer("CAN", "PROTECTED A"), marking("CAN", "PROTECTED B"), False, id="national-rank"),
        pytest.param(viewer("MEX", "SECRETA"), marking("USA", "SECRET", ("USA", "MEX")), True, id="common-scale"),
        pytest.param(viewer("MEX", "SECRETA"), marking("USA", "SECRET", ("USA", "CAN")), False, id="rel-to"),
        pytest.param(viewer("USA"), marking(compartments=("HALCON",)), False, id="compartment"),
        pytest.param(viewer("USA", compartments=("HALCON",)), marking(compartments=("HALCON",)), True, id="member"),
        pytest.param(viewer("USA", agency="US-INTEL"), marking(controls=("ORCON",)), False, id="orcon-uncovered"),
        pytest.param(viewer("USA", agency="US-INTEL"), marking(controls=("LES",)), False, id="les"),
        pytest.param(viewer("CAN", "TOP SECRET"), marking("MEX", "SECRETA"), False, id="third-party"),
    ],
)
def test_named_cases(v: Viewer, m: Marking, seen: bool) -> None:
    assert decide(v, m, FACTS, "USA", DEFAULT_TABLE).allowed is seen
    assert cedar("USA", "default").decide(v, m) is seen


def test_the_policy_is_one_named_permit() -> None:
    text = visibility_policy("USA")
    assert text.count("permit(") == 1
    assert f'@id("{POLICY_ID}")' in text
    assert "forbid" not in text
