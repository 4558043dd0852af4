"""Banner roll-up and rendering (DESIGN §3.1 labels, §3.4 banners)."""

from __future__ import annotations

import pytest

from tearline.errors import MarkingError
from tearline.markings import DEFAULT_TABLE, Banner, Marking, banner_text, render, roll_up
from tearline.markings.banner import dissemination, portion_mark

from .factories import assert_names, marking, refusal, usa_mex_only_table

ALL = ("USA", "CAN", "MEX")


def banner(*markings: Marking, node: str = "USA") -> str:
    return banner_text(markings, node, DEFAULT_TABLE)


# --- roll-up ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "level"),
    [
        pytest.param([marking(level="CUI"), marking(level="SECRET"), marking(level="CONFIDENTIAL")], 3, id="usa-max"),
        pytest.param([marking(level="UNCLASSIFIED")], 0, id="single"),
        pytest.param([marking(level="CUI"), marking("MEX", "SECRETA")], 3, id="cross-nation-mex-higher"),
        pytest.param([marking(level="TOP SECRET"), marking("MEX", "SECRETA")], 4, id="cross-nation-usa-higher"),
        pytest.param([marking("CAN", "PROTECTED C"), marking("MEX", "RESERVADA")], 2, id="two-foreign-nations"),
    ],
)
def test_level_is_the_highest_on_the_common_scale(items: list[Marking], level: int) -> None:
    assert roll_up(items, "USA", DEFAULT_TABLE).common_level == level


def test_controls_and_compartments_are_unions() -> None:
    b = roll_up(
        [
            marking(controls={"ORCON"}, compartments={"VU-NORTE"}),
            marking(controls={"LES", "DP"}, compartments={"ALPHA"}),
            marking(),
        ],
        "USA",
        DEFAULT_TABLE,
    )
    assert b.controls == {"ORCON", "LES", "DP"}
    assert b.compartments == {"VU-NORTE", "ALPHA"}


def test_rel_to_is_the_intersection() -> None:
    b = roll_up(
        [marking(rel_to=ALL), marking(rel_to={"USA", "MEX"}), marking("MEX", "SECRETA", rel_to=ALL)],
        "USA",
        DEFAULT_TABLE,
    )
    assert b.rel_to == {"USA", "MEX"}


def test_empty_intersection_refused() -> None:
    items = [marking(rel_to={"USA"}, controls={"NOFORN"}), marking("MEX", "SECRETA", rel_to={"MEX", "CAN"})]
    assert_names(refusal(roll_up, items, "USA", DEFAULT_TABLE), "rel_to", "empty")
    refusal(banner_text, items, "USA", DEFAULT_TABLE)


def test_empty_product_refused() -> None:
    assert_names(refusal(roll_up, [], "USA", DEFAULT_TABLE), "banner", "empty")
    refusal(banner_text, iter(()), "USA", DEFAULT_TABLE)


def test_no_agreement_with_the_node_refuses_the_roll_up() -> None:
    problems = refusal(roll_up, [marking("CAN", "SECRET", rel_to={"CAN", "USA"})], "USA", usa_mex_only_table(7))
    assert_names(problems, "level", "CAN", "version 7")


def test_banner_as_dict() -> None:
    b = Banner(3, frozenset({"USA", "MEX"}), frozenset({"ORCON", "LES"}), frozenset({"VU-NORTE"}))
    assert b.as_dict() == {
        "common_level": 3,
        "rel_to": ["MEX", "USA"],
        "controls": ["LES", "ORCON"],
        "compartments": ["VU-NORTE"],
    }


# --- rendering -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "node", "text"),
    [
        pytest.param([marking()], "USA", "SECRET//REL TO USA, CAN, MEX", id="usa-ism-order"),
        pytest.param([marking("MEX", "SECRETA")], "MEX", "SECRETA//REL TO MEX, CAN, USA", id="mex-node-first"),
        pytest.param([marking("CAN", "SECRET")], "CAN", "SECRET//REL TO CAN, MEX, USA", id="can-node-first"),
        pytest.param([marking(rel_to={"USA", "MEX"})], "USA", "SECRET//REL TO USA, MEX", id="two-nations"),
        pytest.param([marking(rel_to={"USA"}, controls={"NOFORN"})], "USA", "SECRET//NOFORN", id="noforn"),
        pytest.param(
            [marking(rel_to={"USA", "MEX"}), marking(rel_to={"USA", "CAN"})],
            "USA",
            "SECRET//NOFORN",
            id="noforn-iff-intersection-is-node-without-control",
        ),
        pytest.param(
            [marking(rel_to={"USA"}, controls={"NOFORN", "ORCON"}), marking()],
            "USA",
            "SECRET//ORCON//NOFORN",
            id="noforn-rendered-once-after-controls",
        ),
        pytest.param(
            [marking(controls={"ORCON"}), marking(controls={"LES"}), marking(controls={"DP"})],
            "USA",
            "SECRET//DP/LES/ORCON//REL TO USA, CAN, MEX",
            id="controls-a-z",
        ),
        pytest.param(
            [marking(compartments={"VU-NORTE"}), marking(compartments={"ALPHA"}), marking(compartments={"HALCON"})],
            "USA",
            "SECRET//ALPHA/HALCON/VU-NORTE//REL TO USA, CAN, MEX",
            id="compartments-a-z",
        ),
        pytest.param(
            [marking(level="TOP SECRET", controls={"ORCON"}, compartments={"VU-NORTE"}, rel_to={"USA", "MEX"})],
            "USA",
            "TOP SECRET//VU-NORTE//ORCON//REL TO USA, MEX",
            id="full-order",
        ),
        pytest.param(
            [marking("MEX", "SECRETA", rel_to={"MEX", "USA"})],
            "USA",
            "SECRET//REL TO USA, MEX",
            id="foreign-item-in-node-labels",
        ),
        pytest.param([marking(level="UNCLASSIFIED")], "MEX", "PÚBLICA//REL TO MEX, CAN, USA", id="mex-level-0"),
    ],
)
def test_render(items: list[Marking], node: str, text: str) -> None:
    assert banner(*items, node=node) == text


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([marking(level="CUI")], id="usa-cui"),
        pytest.param([marking("MEX", "RESERVADA")], id="mex-reservada"),
        pytest.param([marking("CAN", "PROTECTED A")], id="can-protected-a"),
        pytest.param([marking("CAN", "PROTECTED A"), marking("CAN", "PROTECTED B")], id="can-a-and-b"),
    ],
)
def test_can_node_renders_common_level_1_as_protected_b(items: list[Marking]) -> None:
    assert banner(*items, node="CAN") == "PROTECTED B//REL TO CAN, MEX, USA"


def test_can_node_renders_common_level_2_as_confidential() -> None:
    assert banner(marking("CAN", "PROTECTED C"), node="CAN") == "CONFIDENTIAL//REL TO CAN, MEX, USA"


@pytest.mark.parametrize(
    ("node", "text"),
    [
        pytest.param("USA", "SECRET//REL TO USA, CAN, MEX", id="usa"),
        pytest.param("MEX", "SECRETA//REL TO MEX, CAN, USA", id="mex"),
        pytest.param("CAN", "SECRET//REL TO CAN, MEX, USA", id="can"),
    ],
)
def test_cross_nation_roll_up_uses_the_common_scale(node: str, text: str) -> None:
    items = [marking(level="CUI"), marking("MEX", "SECRETA"), marking("CAN", "PROTECTED C")]
    assert banner(*items, node=node) == text


def test_render_refuses_a_level_the_node_has_no_label_for() -> None:
    b = Banner(9, frozenset({"USA"}), frozenset(), frozenset())
    assert_names(refusal(render, b, "USA", DEFAULT_TABLE), "level", "9")


def test_render_refuses_when_the_node_is_in_no_agreement() -> None:
    b = Banner(1, frozenset({"CAN"}), frozenset(), frozenset())
    with pytest.raises(MarkingError):
        render(b, "CAN", usa_mex_only_table())


@pytest.mark.parametrize(
    ("rel_to", "node", "text"),
    [
        pytest.param({"USA"}, "USA", "NOFORN", id="only-node"),
        pytest.param({"MEX", "USA", "CAN"}, "USA", "REL TO USA, CAN, MEX", id="node-first"),
        pytest.param({"MEX", "USA", "CAN"}, "MEX", "REL TO MEX, CAN, USA", id="mex-first"),
    ],
)
def test_dissemination(rel_to: set[str], node: str, text: str) -> None:
    assert dissemination(frozenset(rel_to), node) == text


def test_portion_mark_in_the_originators_own_labels() -> None:
    m = marking("MEX", "SECRETA", rel_to={"USA", "MEX"}, controls={"ORCON"}, compartments={"VU-NORTE"})
    assert portion_mark(m, "USA", DEFAULT_TABLE) == "(SECRETA//VU-NORTE//ORCON//REL TO USA, MEX)"
    assert portion_mark(m, "MEX", DEFAULT_TABLE) == "(SECRETA//VU-NORTE//ORCON//REL TO MEX, USA)"


@pytest.mark.parametrize("node", ALL)
@pytest.mark.parametrize("originator", ALL)
def test_a_portion_mark_lists_rel_to_in_the_order_of_the_nodes_banner(originator: str, node: str) -> None:
    # On the Mexican node a US portion read `REL TO USA, MEX` under a banner `REL TO MEX, USA`.
    levels = {"USA": "SECRET", "CAN": "SECRET", "MEX": "SECRETA"}
    m = marking(originator, levels[originator], rel_to=ALL, controls={"LES"})
    mark = portion_mark(m, node, DEFAULT_TABLE)
    assert mark == f"({levels[originator]}//LES//{dissemination(m.rel_to, node)})"
    assert mark.endswith(banner(m, node=node).split("//")[-1] + ")")


def test_a_noforn_portion_stays_noforn_on_any_node() -> None:
    noforn = marking("USA", rel_to={"USA"}, controls={"NOFORN"})
    assert {portion_mark(noforn, node, DEFAULT_TABLE) for node in ALL} == {"(SECRET//NOFORN)"}
