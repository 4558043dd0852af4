"""Three agencies' files through `tearline resolve`: relatives and namesakes stay apart, one person merges.

The files (`tests/data/resolve-agencies`, invented) came from an acceptance sweep that found a
father and son of one name, two namesakes born 25 years apart, and two brothers beside a
Canadian "Beto" merged, each on a shared name with a family phone or a maternal surname, their
dates of birth unlike in every way. And a file with no likely duplicate at all (one agency's own,
already deduplicated) ended in a traceback: Splink set the match prior to 0.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.resolve import model
from tearline.resolve.names import parse_full_name

DATA = Path(__file__).parents[1] / "data" / "resolve-agencies"
INPUTS = [("us.csv", "us.yaml"), ("mx.jsonl", "mx.json"), ("ca.csv", "ca.yaml")]


def _resolve(out: Path, inputs: list[tuple[Path, Path]]) -> dict[str, tuple[str, float]]:
    args = [arg for data, mapping in inputs for arg in (str(data), "--mapping", str(mapping))]
    result = CliRunner().invoke(app, ["resolve", *args, "--out", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    with out.open(encoding="utf-8") as rows:
        return {row["record_id"]: (row["entity_id"], float(row["match_probability"])) for row in csv.DictReader(rows)}


@pytest.fixture(scope="module")
def entities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, float]]:
    out = tmp_path_factory.mktemp("agencies") / "clusters.csv"
    return _resolve(out, [(DATA / data, DATA / mapping) for data, mapping in INPUTS])


def _together(entities: dict[str, tuple[str, float]], *records: str) -> bool:
    return len({entities[r][0] for r in records}) == 1


def test_every_record_of_the_three_files_gets_one_row(entities: dict[str, tuple[str, float]]) -> None:
    truth = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
    assert set(entities) == set(truth)


def test_one_person_written_three_ways_is_one_entity(entities: dict[str, tuple[str, float]]) -> None:
    # JOSE LUIS / HERNANDEZ-GARZA 07/03/1981; HERNÁNDEZ GARZA JOSÉ LUIS alias El Güero 03/07/1981; "Hernandez, Pepe"
    assert _together(entities, "US-001", "MX-001", "CA-001")
    assert _together(entities, "US-003", "MX-003", "CA-003")  # María de los Ángeles de la Fuente Ríos


@pytest.mark.parametrize(
    ("one", "other"),
    [("MX-022", "US-023"), ("US-020", "MX-021"), ("MX-011", "CA-012"), ("MX-011", "MX-012"), ("US-001", "US-002")],
    ids=["father-and-son-sharing-a-phone", "namesakes-born-25-years-apart", "roberto-and-beto-who-is-alberto",
         "two-brothers", "jose-luis-and-his-brother-jorge"],
)  # fmt: skip
def test_relatives_and_namesakes_are_never_merged(entities: dict[str, tuple[str, float]], one: str, other: str) -> None:
    assert not _together(entities, one, other)


def test_most_true_pairs_merge_and_none_false(entities: dict[str, tuple[str, float]]) -> None:
    truth: dict[str, str] = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
    records = sorted(truth)
    same = [(a, b) for i, a in enumerate(records) for b in records[i + 1 :] if truth[a] == truth[b]]
    false = [(a, b) for i, a in enumerate(records) for b in records[i + 1 :]
             if truth[a] != truth[b] and _together(entities, a, b)]  # fmt: skip
    assert false == []
    assert sum(_together(entities, a, b) for a, b in same) >= 0.9 * len(same)


def test_a_file_with_no_likely_duplicate_resolves_each_record_alone(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "subject_id,FIRST,LAST,DOB\nA1,JUAN,PEREZ,01/02/1980\nA2,ANA,LOPEZ,03/04/1985\nA3,LUIS,RUIZ,05/06/1990\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "people.json"
    mapping.write_text(json.dumps({"source": "usa", "fields": {
        "record_id": "subject_id", "given_names": "FIRST", "surname": "LAST",
        "dob": {"column": "DOB", "format": "%m/%d/%Y"}}}), encoding="utf-8")  # fmt: skip
    resolved = _resolve(tmp_path / "out.csv", [(people, mapping)])
    assert len({entity for entity, _ in resolved.values()}) == 3
    assert all(p == 0.0 for _, p in resolved.values())


def _pair(dob: int, national_id: int = -1, maternal: int = 4) -> pd.DataFrame:
    return pd.DataFrame([{"gamma_dob": dob, "gamma_national_id": national_id, "gamma_maternal": maternal}])


@pytest.mark.parametrize("dob", [-1, 1, 2, 3, 4, 5, 6])
def test_dates_of_birth_near_or_missing_are_no_veto(dob: int) -> None:
    assert not model.conflict(_pair(dob)).iloc[0]


def test_dates_of_birth_unlike_in_every_way_veto_a_merge_unless_the_national_id_agrees() -> None:
    assert model.conflict(_pair(model.DOB_UNLIKE_LEVEL)).iloc[0]
    assert not model.conflict(_pair(model.DOB_UNLIKE_LEVEL, national_id=model.NATIONAL_ID_EXACT_LEVEL)).iloc[0]
    assert not model.conflict(_pair(model.DOB_UNLIKE_LEVEL, national_id=model.NATIONAL_ID_ONE_EDIT_LEVEL)).iloc[0]
    # Cousins (maternal surnames unlike) stay a veto whatever the date, unless date and id both agree exactly.
    assert model.conflict(_pair(model.DOB_EXACT_LEVEL, maternal=0)).iloc[0]
    assert not model.conflict(_pair(model.DOB_EXACT_LEVEL, model.NATIONAL_ID_EXACT_LEVEL, maternal=0)).iloc[0]


@pytest.mark.parametrize(
    ("text", "given", "paternal", "maternal"),
    [
        ("Arturo Aguirre Martínez", ("ARTURO",), "AGUIRRE", "MARTINEZ"),
        ("Héctor Quintanilla Luna", ("HECTOR",), "QUINTANILLA", "LUNA"),
        ("Carlos Zamudio Quintero", ("CARLOS",), "ZAMUDIO", "QUINTERO"),
        ("Pedro Alberto Zamudio", ("PEDRO", "ALBERTO"), "ZAMUDIO", None),
        ("José Luis Hernández Garza", ("JOSE", "LUIS"), "HERNANDEZ", "GARZA"),
        ("Ricardo Tores Cervantes", ("RICARDO",), "TORES", "CERVANTES"),
    ],
    ids=["unlisted-paternal", "unlisted-paternal-before-a-name-that-is-also-given", "no-surname-listed",
         "second-given-name-then-an-unlisted-surname", "listed", "misspelt-paternal"],
)  # fmt: skip
def test_a_given_first_whole_name_ends_in_its_surnames_even_unlisted_ones(
    text: str, given: tuple[str, ...], paternal: str, maternal: str | None
) -> None:
    # The Mexican file writes whole names; a surname outside our list had been read as a second given name.
    name = parse_full_name(text)
    assert (name.given, name.paternal, name.maternal) == (given, paternal, maternal)


@pytest.mark.parametrize(
    ("address", "vetoed"),
    [("MONTERREY", True), ("6820 BONMOT PLACE ANYTOWN", False)],
    ids=["a-shared-town-is-no-answer-to-unlike-dates", "a-shared-street-address-beside-the-given-name-is"],
)
def test_a_street_address_overrules_unlike_dates_of_birth_and_a_town_does_not(address: str, vetoed: bool) -> None:
    # FEBRL's corrupted records replace a date of birth whole; its duplicates keep the street address.
    pair = _pair(model.DOB_UNLIKE_LEVEL).assign(gamma_given=8, gamma_address=6, address_l=address, address_r=address)
    assert bool(model.conflict(pair).iloc[0]) is vetoed
