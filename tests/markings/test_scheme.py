"""National schemes and the equivalence table (DESIGN §3.1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tearline.markings import DEFAULT_TABLE, Agreement, EquivalenceTable, decide
from tearline.markings.scheme import (
    CONTROLS,
    NATIONAL_LABELS,
    TLP1_ONLY,
    TLP2_CONTROLS,
    TRILATERAL,
    national_rank,
)
from tearline.markings.visibility import ItemFacts

from .factories import marking, usa_mex_only_table, viewer

# The shipped default table, row by row as DESIGN §3.1 writes it.
DESIGN_TABLE = {
    0: {"USA": ["UNCLASSIFIED"], "CAN": ["UNCLASSIFIED"], "MEX": ["PÚBLICA"]},
    1: {"USA": ["CUI"], "CAN": ["PROTECTED A", "PROTECTED B"], "MEX": ["RESERVADA"]},
    2: {"USA": ["CONFIDENTIAL"], "CAN": ["PROTECTED C", "CONFIDENTIAL"], "MEX": ["CONFIDENCIAL"]},
    3: {"USA": ["SECRET"], "CAN": ["SECRET"], "MEX": ["SECRETA"]},
    4: {"USA": ["TOP SECRET"], "CAN": ["TOP SECRET"], "MEX": ["ULTRA SECRETA"]},
}
DESIGN_CELLS = [
    pytest.param(nation, label, level, id=f"{nation}-{label}")
    for level, row in DESIGN_TABLE.items()
    for nation, labels in row.items()
    for label in labels
]


@pytest.mark.parametrize(("nation", "label", "level"), DESIGN_CELLS)
def test_default_table_matches_design(nation: str, label: str, level: int) -> None:
    assert DEFAULT_TABLE.agreement(nation, nation) is not None
    assert TRILATERAL.common(nation, label) == level


def test_default_table_has_no_other_labels() -> None:
    for nation in ("USA", "CAN", "MEX"):
        listed = {lbl for row in DESIGN_TABLE.values() for lbl in row[nation]}
        assert set(TRILATERAL.columns[nation]) == listed == set(NATIONAL_LABELS[nation])


@pytest.mark.parametrize(
    ("nation", "order"),
    [
        pytest.param("USA", ["UNCLASSIFIED", "CUI", "CONFIDENTIAL", "SECRET", "TOP SECRET"], id="USA"),
        pytest.param(
            "CAN",
            ["UNCLASSIFIED", "PROTECTED A", "PROTECTED B", "PROTECTED C", "CONFIDENTIAL", "SECRET", "TOP SECRET"],
            id="CAN",
        ),
        pytest.param("MEX", ["PÚBLICA", "RESERVADA", "CONFIDENCIAL", "SECRETA", "ULTRA SECRETA"], id="MEX"),
    ],
)
def test_national_ranks_in_listed_order(nation: str, order: list[str]) -> None:
    assert [national_rank(nation, lbl) for lbl in order] == list(range(len(order)))


@pytest.mark.parametrize(
    ("nation", "label"),
    [("USA", "PROTECTED A"), ("MEX", "SECRET"), ("CAN", "CUI"), ("FRA", "SECRET"), ("USA", "secret")],
)
def test_national_rank_of_a_foreign_or_unknown_label_is_none(nation: str, label: str) -> None:
    assert national_rank(nation, label) is None


@pytest.mark.parametrize(("a", "b"), [("USA", "CAN"), ("USA", "MEX"), ("CAN", "MEX"), ("MEX", "USA")])
def test_default_trilateral_serves_every_pair_with_ceiling_3(a: str, b: str) -> None:
    agreement = DEFAULT_TABLE.agreement(a, b)
    assert agreement is TRILATERAL
    assert agreement.ceiling == 3


def test_no_agreement_for_a_pair_outside_every_agreement() -> None:
    table = usa_mex_only_table()
    assert table.agreement("USA", "MEX") is not None
    assert table.agreement("CAN", "USA") is None
    assert table.agreement("MEX", "CAN") is None


@pytest.mark.parametrize(
    ("nation", "level", "label"),
    [
        pytest.param("CAN", 1, "PROTECTED B", id="can-1-protected-b"),
        pytest.param("CAN", 2, "CONFIDENTIAL", id="can-2-confidential"),
        pytest.param("CAN", 0, "UNCLASSIFIED", id="can-0"),
        pytest.param("USA", 3, "SECRET", id="usa-3"),
        pytest.param("MEX", 0, "PÚBLICA", id="mex-0"),
        pytest.param("MEX", 4, "ULTRA SECRETA", id="mex-4"),
    ],
)
def test_highest_label_is_the_highest_ranked_at_the_level(nation: str, level: int, label: str) -> None:
    assert TRILATERAL.highest_label(nation, level) == label


@pytest.mark.parametrize(("nation", "level"), [("USA", 5), ("USA", -1), ("FRA", 1)])
def test_highest_label_none_when_no_label_at_the_level(nation: str, level: int) -> None:
    assert TRILATERAL.highest_label(nation, level) is None


def test_highest_label_ignores_column_order() -> None:
    reordered = Agreement("x", frozenset({"CAN"}), 3, {"CAN": {"PROTECTED B": 1, "PROTECTED A": 1}})
    assert reordered.highest_label("CAN", 1) == "PROTECTED B"


@pytest.mark.parametrize(
    "table",
    [pytest.param(DEFAULT_TABLE, id="default"), pytest.param(usa_mex_only_table(), id="usa-mex-only")],
)
def test_table_round_trips_through_dict_and_json(table: EquivalenceTable) -> None:
    data = table.as_dict()
    assert EquivalenceTable.from_dict(data) == table
    assert EquivalenceTable.from_dict(json.loads(json.dumps(data))) == table
    assert EquivalenceTable.from_dict(data).as_dict() == data


def test_table_as_dict_is_plain_and_sorted() -> None:
    data: dict[str, Any] = json.loads(json.dumps(DEFAULT_TABLE.as_dict()))
    assert data["version"] == 1
    (agreement,) = data["agreements"]
    assert agreement["nations"] == ["CAN", "MEX", "USA"]
    assert agreement["ceiling"] == 3
    assert list(agreement["columns"]) == ["CAN", "MEX", "USA"]


def test_column_digest_changes_only_for_the_changed_nation() -> None:
    data = DEFAULT_TABLE.as_dict()
    data["version"] = 2
    data["agreements"][0]["columns"]["MEX"]["RESERVADA"] = 2  # type: ignore[index]
    changed = EquivalenceTable.from_dict(data)
    assert changed.column_digest("MEX") != DEFAULT_TABLE.column_digest("MEX")
    assert changed.column_digest("USA") == DEFAULT_TABLE.column_digest("USA")
    assert changed.column_digest("CAN") == DEFAULT_TABLE.column_digest("CAN")


@pytest.mark.parametrize(
    ("table", "seen"),
    [
        pytest.param(DEFAULT_TABLE, True, id="default-v1"),
        pytest.param(usa_mex_only_table(version=7), False, id="usa-mex-v7"),
    ],
)
def test_decision_logs_the_table_version(table: EquivalenceTable, seen: bool) -> None:
    d = decide(viewer("CAN", "TOP SECRET"), marking(), ItemFacts(), "USA", table)
    assert d.allowed is seen
    assert d.table_version == table.version


def test_decision_logs_the_table_version_when_allowed_and_denied_alike() -> None:
    table = usa_mex_only_table(version=42)
    allowed = decide(viewer("MEX", "ULTRA SECRETA"), marking(), ItemFacts(), "USA", table)
    denied = decide(viewer("MEX", "RESERVADA"), marking(), ItemFacts(), "USA", table)
    assert (allowed.allowed, denied.allowed) == (True, False)
    assert allowed.table_version == denied.table_version == 42


def test_controls_are_the_closed_list() -> None:
    assert set(CONTROLS) == {"NOFORN", "ORCON", "LES", "DP"}


@pytest.mark.parametrize(
    ("tlp", "adds"),
    [
        pytest.param("CLEAR", set(), id="clear"),
        pytest.param("GREEN", set(), id="green"),
        pytest.param("AMBER", set(), id="amber"),
        pytest.param("AMBER+STRICT", {"ORCON"}, id="amber-strict"),
        pytest.param("RED", {"ORCON", "NOFORN"}, id="red"),
    ],
)
def test_tlp2_mapping(tlp: str, adds: set[str]) -> None:
    assert TLP2_CONTROLS[tlp] == adds
    assert adds <= set(CONTROLS)


def test_tlp1_white_is_not_a_tlp2_label() -> None:
    assert "WHITE" in TLP1_ONLY
    assert "WHITE" not in TLP2_CONTROLS
