"""The Spanish-name standardisation layer: parsing, nicknames, phonetic keys, dates."""

from __future__ import annotations

import pytest

from tearline.resolve.dates import BirthDate, parse_birth_date
from tearline.resolve.names import alias_key, fold, name_keys, parse_full_name, parse_name
from tearline.resolve.phonetic import phonetic_key

HERNANDEZ_GARZA = (("JOSE", "LUIS"), "HERNANDEZ", "GARZA")


@pytest.mark.parametrize(
    "text",
    [
        "JOSE LUIS HERNANDEZ-GARZA",
        "José Luis Hernández Garza",
        "Hernández Garza, José Luis",
        "HERNANDEZ GARZA JOSE LUIS",
        "José Luis Hernández y Garza",
    ],
    ids=["us-hyphenated", "accented", "surname-comma-given", "official-order", "particle-y"],
)
def test_one_name_written_five_ways_parses_the_same(text: str) -> None:
    name = parse_full_name(text)
    assert (name.given, name.paternal, name.maternal) == HERNANDEZ_GARZA


def test_alias_is_taken_out_of_the_name_without_its_article() -> None:
    name = parse_full_name("José Luis Hernández Garza, alias El Güero")
    assert (name.given, name.paternal, name.maternal) == HERNANDEZ_GARZA
    assert name.aliases == ("GUERO",)
    assert parse_full_name('Lupe Treviño "La Flaca"').aliases == ("FLACA",)
    assert alias_key("El Güero") == alias_key("Güero") == "GUERO"


def test_particles_attach_to_the_surname_and_fused_forms_split() -> None:
    name = parse_full_name("María de los Ángeles de la Fuente Delgado")
    assert name.given == ("MARIA", "ANGELES")
    assert (name.paternal, name.maternal) == ("FUENTE", "DELGADO")
    assert name.particles == ("DE", "LA")
    fused = parse_full_name("Juan Delafuente")
    assert (fused.paternal, fused.particles) == ("FUENTE", ("DE", "LA"))
    assert parse_full_name("DE LEON RAMIREZ MARTHA").paternal == "LEON"


def test_maternal_surname_in_the_middle_name_field_is_the_maternal_surname() -> None:
    us = parse_name(given_names="JOSE GARZA", surname="HERNANDEZ")
    assert (us.given, us.paternal, us.maternal) == (("JOSE",), "HERNANDEZ", "GARZA")


def test_structured_fields_and_unknown_structure() -> None:
    mx = parse_name(given_names="José Luis", paternal_surname="Hernández", maternal_surname="Garza")
    assert (mx.given, mx.paternal, mx.maternal) == HERNANDEZ_GARZA
    two = parse_name(given_names="JOSE LUIS", surname="HERNANDEZ GARZA")
    assert (two.paternal, two.maternal) == ("HERNANDEZ", "GARZA")
    one = parse_name(given_names="JOSE", surname="HERNANDEZ")
    assert (one.paternal, one.maternal) == ("HERNANDEZ", None)


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [("Pepe", {"JOSE"}), ("Chuy", {"JESUS"}), ("Paco", {"FRANCISCO"}), ("Lupe", {"GUADALUPE"}),
     ("Chava", {"SALVADOR"}), ("Lalo", {"EDUARDO"}), ("Memo", {"GUILLERMO"}), ("Nacho", {"IGNACIO"})],
)
def test_nicknames_resolve_to_their_formal_name(nickname: str, formal: set[str]) -> None:
    keys = name_keys(parse_full_name(f"Hernandez, {nickname}"))
    assert set(keys["given_first_alts"]) == formal  # type: ignore[arg-type]


def test_beto_stands_for_alberto_or_roberto_and_nothing_else() -> None:
    alternatives = set(name_keys(parse_full_name("Beto Garza"))["given_first_alts"])  # type: ignore[arg-type]
    assert {"ALBERTO", "ROBERTO"} <= alternatives
    assert "JORGE" not in alternatives and "JOSE" not in alternatives


def test_relative_keeps_a_different_given_name() -> None:
    jorge, jose = parse_full_name("Jorge Hernández Garza"), parse_full_name("José Luis Hernández Garza")
    assert (jorge.paternal, jorge.maternal) == (jose.paternal, jose.maternal)
    assert not set(name_keys(jorge)["given_alts"]) & set(name_keys(jose)["given_alts"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [("VASQUEZ", "VAZQUEZ"), ("BASQUEZ", "VAZQUEZ"), ("JIMENEZ", "XIMENEZ"), ("GIMENEZ", "JIMENEZ"),
     ("HERNANDEZ", "ERNANDES"), ("LLAMAS", "YAMAS"), ("CESAR", "SESAR"), ("QUINTANA", "KINTANA")],
    ids=["s-z", "b-v", "x-j", "g-j", "silent-h", "ll-y", "c-s", "qu-k"],
)
def test_spanish_phonetic_key_folds_sounds_alike(a: str, b: str) -> None:
    assert phonetic_key(a) == phonetic_key(b)


def test_phonetic_key_keeps_different_names_apart() -> None:
    assert phonetic_key("JORGE") != phonetic_key("JOSE")
    assert phonetic_key("GARZA") != phonetic_key("GARCIA")


def test_fold_removes_accents_and_keeps_name_punctuation() -> None:
    assert fold("Muñoz-Peña, José") == "MUNOZ-PENA, JOSE"


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("03/07/1981", "%d/%m/%Y", BirthDate(1981, 7, 3)),
        ("03/07/1981", "%m/%d/%Y", BirthDate(1981, 3, 7)),
        ("25/12/1980", None, BirthDate(1980, 12, 25)),
        ("12/25/1980", None, BirthDate(1980, 12, 25)),
        ("1980-12-25", None, BirthDate(1980, 12, 25)),
        ("19801225", None, BirthDate(1980, 12, 25)),
        ("1980", None, BirthDate(1980)),
    ],
    ids=["declared-dmy", "declared-mdy", "day-first-unambiguous", "month-first-unambiguous", "iso", "compact", "year"],
)
def test_dates_of_birth(text: str, fmt: str | None, expected: BirthDate) -> None:
    assert parse_birth_date(text, fmt) == expected


def test_a_non_date_is_none() -> None:
    assert parse_birth_date("31/02/1980", "%d/%m/%Y") is None
    assert parse_birth_date("unknown") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GARCIA DE LA CRUZ MARTHA LUISA", (("MARTHA", "LUISA"), "GARCIA", "CRUZ")),
        ("GARCIA DE LOS SANTOS BEATRIZ", (("BEATRIZ",), "GARCIA", "SANTOS")),
        ("CRUZ DE LEON TERESA LUISA", (("TERESA", "LUISA"), "CRUZ", "LEON")),
        ("SANTOS GARCIA JOSE", (("JOSE",), "SANTOS", "GARCIA")),
        ("Rosa María López Pérez", (("ROSA", "MARIA"), "LOPEZ", "PEREZ")),
        ("Ricardo Tores Cervantes", (("RICARDO",), "TORES", "CERVANTES")),
        ("RODRIGUEZ BARRAZA ARECELI", (("ARECELI",), "RODRIGUEZ", "BARRAZA")),
        ("María del Carmen Ortiz", (("MARIA", "CARMEN"), "ORTIZ", None)),
    ],
    ids=["given-like-surname-after-particle", "de-los-santos", "surname-first-opening-with-cruz",
         "given-like-first-surname", "given-first-rosa", "misspelt-paternal-keeps-its-place",
         "misspelt-given-keeps-its-place", "given-name-tail-after-particle"],
)
def test_ambiguous_and_misspelt_words_keep_their_place(text: str, expected: tuple[object, ...]) -> None:
    name = parse_full_name(text)
    assert (name.given, name.paternal, name.maternal) == expected


def test_a_curp_carries_the_date_of_birth_and_sex_a_record_lacks() -> None:
    from tearline.resolve.records import curp_birth, person_record

    assert curp_birth("GASA690219MSLXXX28") == (BirthDate(1969, 2, 19), "F")
    assert curp_birth("XEXX010101HNEXXXA4") == (BirthDate(2001, 1, 1), "M")  # a letter: born after 1999
    assert curp_birth("GASA691319MSLXXX28") is None  # month 13
    assert curp_birth("123-45-6789") is None
    record = person_record({"full_name": "Araceli García Sánchez", "national_id": "GASA690219MSLXXX28"}, "mex",
                           None, "MX")
    assert (record.dob, record.sex) == (BirthDate(1969, 2, 19), "F")
    dated = person_record({"full_name": "Araceli García Sánchez", "national_id": "GASA690219MSLXXX28", "sex": "F"},
                          "mex", BirthDate(1969, 2, 20), "MX")
    assert dated.dob == BirthDate(1969, 2, 20)  # the record's own date wins


def test_a_middle_initial_is_kept_apart_as_the_second_given_name_initial() -> None:
    initial = parse_name(given_names="Robert E", surname="Price")
    whole = parse_name(given_names="Robert Eric", surname="Price")
    assert initial.given == ("ROBERT",) and initial.initials == ("E",)
    assert name_keys(initial)["given2_initial"] == name_keys(whole)["given2_initial"] == "E"
    assert name_keys(parse_full_name("Hernández, José L."))["given2_initial"] == "L"
    # a maternal surname in the middle-name field is no second given name
    assert name_keys(parse_name(given_names="JOSE GARZA", surname="HERNANDEZ"))["given2_initial"] is None
