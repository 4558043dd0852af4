"""Validation of a marking (DESIGN §3.1, §3.2): refuse with the field and the value, never normalise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tearline import clock
from tearline.errors import MarkingError
from tearline.markings import Marking, marking_from_dict, validate_marking

from .factories import NOW, assert_names, marking, mex_raw, raw, refusal, registry


def parse(data: Any, node: str = "USA", partners: Any = None) -> Marking:
    with clock.frozen_at(NOW):
        return marking_from_dict(data, registry(node, partners))


def reserved(until: datetime | str | None, **more: Any) -> dict[str, Any]:
    data = mex_raw(level="RESERVADA", **more)
    if until is not None:
        data["reserved_until"] = until.isoformat() if isinstance(until, datetime) else until
    return data


# --- refusals: (raw marking, registry partners or None, field, values the reason must name) -------------

REFUSALS = [
    pytest.param(raw(level="PROTECTED B"), None, "level", ["PROTECTED B", "USA"], id="label-of-another-nation-usa"),
    pytest.param(mex_raw(level="SECRET"), None, "level", ["SECRET", "MEX"], id="label-of-another-nation-mex"),
    pytest.param(
        raw(originator={"nation": "CAN", "agency": "CA-POLICE"}, level="CUI", rel_to=["CAN"]),
        None,
        "level",
        ["CUI", "CAN"],
        id="label-of-another-nation-can",
    ),
    pytest.param(raw(level="SECRETISH"), None, "level", ["SECRETISH"], id="unknown-label"),
    pytest.param(raw(level="secret"), None, "level", ["secret"], id="label-wrong-case-not-normalised"),
    pytest.param(mex_raw(level="PUBLICA"), None, "level", ["PUBLICA"], id="label-without-accent-not-normalised"),
    pytest.param(raw(level=None), None, "level", ["''"], id="label-missing"),
    pytest.param(raw(rel_to=["USA", "FRA"]), None, "rel_to", ["FRA"], id="rel-to-unknown-nation"),
    pytest.param(raw(rel_to=["USA", "CAN"]), ["MEX"], "rel_to", ["CAN"], id="rel-to-non-partner-nation"),
    pytest.param(raw(rel_to=["USA", "mex"]), None, "rel_to", ["mex"], id="rel-to-lowercase-not-normalised"),
    pytest.param(
        raw(originator={"nation": "FRA", "agency": "US-DRUGS"}, rel_to=["FRA"]),
        None,
        "originator.nation",
        ["FRA"],
        id="originator-unknown-nation",
    ),
    pytest.param(
        raw(originator={"nation": "CAN", "agency": "CA-POLICE"}, rel_to=["CAN", "USA"]),
        ["MEX"],
        "originator.nation",
        ["CAN"],
        id="originator-non-partner-nation",
    ),
    pytest.param(
        raw(originator={"nation": "USA", "agency": "MX-FISCALIA"}),
        None,
        "originator.agency",
        ["MX-FISCALIA", "MEX", "USA"],
        id="originator-agency-of-another-nation",
    ),
    pytest.param(
        raw(originator={"nation": "USA", "agency": "NOBODY"}),
        None,
        "originator.agency",
        ["NOBODY"],
        id="unknown-agency",
    ),
    pytest.param(raw(originator=None), None, "originator", ["required"], id="originator-missing"),
    pytest.param(raw(controls=["FOUO"]), None, "controls", ["FOUO"], id="unknown-control"),
    pytest.param(raw(controls=["noforn"], rel_to=["USA"]), None, "controls", ["noforn"], id="control-lowercase"),
    pytest.param(raw(compartments=["VU-SUR"]), None, "compartments", ["VU-SUR"], id="unknown-compartment"),
    pytest.param(
        raw(source_compartment="GHOST"), None, "source_compartment", ["GHOST"], id="unknown-source-compartment"
    ),
    pytest.param(raw(rel_to=[]), None, "rel_to", ["empty"], id="rel-to-empty"),
    pytest.param(raw(rel_to=None), None, "rel_to", ["empty"], id="rel-to-missing"),
    pytest.param(raw(rel_to="USA"), None, "rel_to", ["list"], id="rel-to-not-a-list"),
    pytest.param(raw(rel_to=["CAN", "MEX"]), None, "rel_to", ["USA"], id="rel-to-without-originator-nation"),
    pytest.param(
        raw(controls=["NOFORN"], rel_to=["USA", "MEX"]), None, "controls", ["NOFORN", "MEX"], id="noforn-with-others"
    ),
    pytest.param(raw(tlp="WHITE"), None, "tlp", ["WHITE", "TLP 1.0"], id="tlp1-white"),
    pytest.param(raw(tlp="TLP:WHITE"), None, "tlp", ["TLP:WHITE"], id="tlp1-white-prefixed"),
    pytest.param(raw(tlp="PURPLE"), None, "tlp", ["PURPLE"], id="tlp-unknown"),
    pytest.param(raw(tlp="RED"), None, "controls", ["NOFORN", "CAN", "MEX"], id="tlp-red-is-noforn-with-others"),
    pytest.param(reserved(None), None, "reserved_until", ["RESERVADA"], id="reservada-without-reserved-until"),
    pytest.param(reserved(NOW + timedelta(days=6 * 365)), None, "reserved_until", ["5 years"], id="reservada-6y"),
    pytest.param(reserved("next spring"), None, "reserved_until", ["next spring"], id="reserved-until-not-a-time"),
    pytest.param(
        mex_raw(reserved_until=(NOW + timedelta(days=30)).isoformat()),
        None,
        "reserved_until",
        ["RESERVADA"],
        id="reserved-until-on-another-level",
    ),
]


@pytest.mark.parametrize(("data", "partners", "field", "values"), REFUSALS)
def test_refused_naming_field_and_value(data: dict[str, Any], partners: Any, field: str, values: list[str]) -> None:
    problems = refusal(parse, data, "USA", partners)
    assert_names(problems, f"marking.{field}", *values)


@pytest.mark.parametrize("grade", ["G1", "A7", "A0", "b2", "B", "B22", "2B", " B2", "B2\n", "B-2"])
def test_bad_admiralty_grade_refused(grade: str) -> None:
    assert_names(refusal(parse, raw(source_grade=grade)), "marking.source_grade", repr(grade))


@pytest.mark.parametrize("grade", ["A1", "B2", "C3", "F6"])
def test_admiralty_grade_accepted(grade: str) -> None:
    assert parse(raw(source_grade=grade, source_fields=["handler"])).source_grade == grade


def test_every_problem_is_reported_at_once() -> None:
    problems = refusal(parse, raw(level="SECRETISH", rel_to=["CAN"], controls=["FOUO"], compartments=["VU-SUR"]))
    fields = {p.field for p in problems}
    assert {"marking.level", "marking.rel_to", "marking.controls", "marking.compartments"} <= fields


def test_where_prefixes_the_field() -> None:
    with pytest.raises(MarkingError) as caught, clock.frozen_at(NOW):
        marking_from_dict(raw(level="X"), registry(), where="portions[2].marking")
    assert caught.value.problems[0].field == "portions[2].marking.level"


def test_not_an_object_refused() -> None:
    assert_names(refusal(parse, ["USA"]), "marking", "object")


def test_a_misspelt_field_is_refused_naming_it_and_the_known_fields_not_dropped() -> None:
    # `control` for `controls`: dropped, NOFORN went with it and the portion was read abroad.
    data = raw(rel_to=["USA", "MEX"], controls=None, control=["NOFORN"])
    problems = refusal(parse, data)
    assert [p.field for p in problems] == ["marking.control"]
    assert_names(problems, "marking.control", "not a marking field", "controls", "originator", "rel_to", "tlp")


def test_an_unknown_originator_field_is_refused_naming_it() -> None:
    data = raw(originator={"nation": "USA", "agency": "US-DRUGS", "agnecy": "US-OTHER"})
    problems = refusal(parse, data)
    assert [p.field for p in problems] == ["marking.originator.agnecy"]
    assert_names(problems, "marking.originator.agnecy", "not a field of the originator", "nation, agency")


def test_every_unknown_field_is_listed_beside_the_other_problems() -> None:
    data = raw(level="SECRETISH", extra=1, originator={"nation": "USA", "agency": "US-DRUGS", "unit": "x"})
    fields = {p.field for p in refusal(parse, data)}
    assert fields == {"marking.level", "marking.extra", "marking.originator.unit"}


# --- accepted markings -----------------------------------------------------------------------------------


def test_valid_marking_parses_exactly() -> None:
    m = parse(raw(controls=["ORCON", "LES"], compartments=["VU-NORTE"], source_grade="B2", source_fields=["handler"]))
    assert m == marking(
        controls={"ORCON", "LES"}, compartments={"VU-NORTE"}, source_grade="B2", source_fields=("handler",)
    )


def test_noforn_alone_with_originator_nation_accepted() -> None:
    assert parse(raw(controls=["NOFORN"], rel_to=["USA"])).rel_to == {"USA"}


@pytest.mark.parametrize("control", ["NOFORN", "ORCON", "LES", "DP"])
def test_each_listed_control_accepted(control: str) -> None:
    rel_to = ["USA"] if control == "NOFORN" else ["USA", "MEX"]
    assert parse(raw(controls=[control], rel_to=rel_to)).controls == {control}


def test_node_nation_itself_is_valid_in_rel_to_and_originator() -> None:
    m = parse(mex_raw(rel_to=["MEX"]), node="MEX", partners=["USA"])
    assert m.rel_to == {"MEX"}


# --- TLP 2.0 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN", "AMBER", "TLP:AMBER", "amber"])
def test_tlp_clear_green_amber_add_nothing(tlp: str) -> None:
    m = parse(raw(tlp=tlp, controls=["LES"]))
    assert m.controls == {"LES"}
    assert m.level == "SECRET"
    assert m.rel_to == {"USA", "CAN", "MEX"}


@pytest.mark.parametrize("tlp", ["AMBER+STRICT", "TLP:AMBER+STRICT"])
def test_tlp_amber_strict_adds_orcon(tlp: str) -> None:
    m = parse(raw(tlp=tlp))
    assert m.controls == {"ORCON"}
    assert m.rel_to == {"USA", "CAN", "MEX"}


def test_tlp_red_adds_orcon_and_noforn() -> None:
    m = parse(raw(tlp="RED", rel_to=["USA"]))
    assert m.controls == {"ORCON", "NOFORN"}
    assert m.rel_to == {"USA"}


def test_tlp_never_lowers_a_national_marking() -> None:
    m = parse(raw(level="TOP SECRET", tlp="CLEAR", controls=["ORCON"], compartments=["VU-NORTE"], rel_to=["USA"]))
    assert m.level == "TOP SECRET"
    assert m.controls == {"ORCON"}
    assert m.compartments == {"VU-NORTE"}
    assert m.rel_to == {"USA"}


def test_validate_refuses_tlp1_on_a_built_marking() -> None:
    assert_names(refusal(validate_marking, marking(tlp="WHITE"), registry()), "marking.tlp", "WHITE")


@pytest.mark.parametrize(
    ("tlp", "controls", "missing"),
    [
        pytest.param("RED", (), "NOFORN", id="red-without-controls"),
        pytest.param("RED", ("NOFORN",), "ORCON", id="red-without-orcon"),
        pytest.param("AMBER+STRICT", (), "ORCON", id="amber-strict-without-orcon"),
    ],
)
def test_validate_refuses_tlp_without_its_controls(tlp: str, controls: tuple[str, ...], missing: str) -> None:
    m = marking(rel_to={"USA"}, controls=controls, tlp=tlp)
    assert_names(refusal(validate_marking, m, registry()), "marking.controls", missing)


# --- MEX RESERVADA: reserved for at most five years ------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "limit"),
    [
        pytest.param(NOW, datetime(2030, 3, 1, 12, tzinfo=UTC), id="one-leap-day"),
        pytest.param(datetime(2027, 3, 1, tzinfo=UTC), datetime(2032, 3, 1, tzinfo=UTC), id="two-leap-days"),
        pytest.param(datetime(2024, 2, 29, tzinfo=UTC), datetime(2029, 2, 28, tzinfo=UTC), id="from-29-february"),
    ],
)
def test_reservada_up_to_exactly_five_years(now: datetime, limit: datetime) -> None:
    reg = registry()
    with clock.frozen_at(now):
        assert marking_from_dict(reserved(limit), reg).reserved_until == limit
        problems = refusal(marking_from_dict, reserved(limit + timedelta(seconds=1)), reg)
    assert_names(problems, "marking.reserved_until", "5 years")


def test_reservada_reserved_until_keeps_its_instant_in_utc() -> None:
    m = parse(reserved("2026-01-01T06:00:00-06:00"))
    assert m.reserved_until == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_validate_accepts_naive_reserved_until_as_utc() -> None:
    m = marking("MEX", "RESERVADA", rel_to={"MEX"}, reserved_until=datetime(2026, 1, 1))
    with clock.frozen_at(NOW):
        assert validate_marking(m, registry()) is m


# --- never normalised ------------------------------------------------------------------------------------


def test_validate_returns_the_marking_unchanged() -> None:
    m = marking(controls={"ORCON"})
    with clock.frozen_at(NOW):
        assert validate_marking(m, registry()) is m


@pytest.mark.parametrize(
    "m",
    [
        pytest.param(marking(level="secret"), id="lowercase-label"),
        pytest.param(marking(rel_to={"USA", "MEX"}, controls={"NOFORN"}), id="noforn-with-others"),
        pytest.param(marking(rel_to={"MEX"}), id="rel-to-without-originator"),
        pytest.param(marking(rel_to=set()), id="empty-rel-to"),
    ],
)
def test_invalid_built_marking_refused_not_repaired(m: Marking) -> None:
    with clock.frozen_at(NOW):
        refusal(validate_marking, m, registry())


def test_digest_ignores_set_order_and_parses_back_equal() -> None:
    a = parse(raw(rel_to=["MEX", "USA", "CAN"], controls=["ORCON", "LES"]))
    b = parse(raw(rel_to=["USA", "CAN", "MEX"], controls=["LES", "ORCON"]))
    assert a.digest() == b.digest()
    assert parse(a.as_dict()) == a
