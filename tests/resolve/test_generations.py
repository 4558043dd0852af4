"""A father and son of one name at one home: a generational suffix (Jr, hijo, Sr, padre, II) keeps
them apart, in a batch and as they arrive, while one person whose date of birth was mistyped at the
same home still merges (docs/resolve.md, "Merging"). Every person here is invented.
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.db.resolve_tables import ResolveDecision
from tearline.node import Node
from tearline.resolve import batch, bench, incremental, model
from tearline.resolve.dates import BirthDate
from tearline.resolve.names import parse_name, split_generation
from tearline.resolve.records import PersonRecord, person_record

AGENCIES = Path(__file__).parents[1] / "data" / "resolve-agencies"
HOME = "1418 ZARAGOZA ST LAREDO TX"
HOUSEHOLDS = [
    # a father without a suffix and his son with one, one phone and one home
    ("H-01", "ERNESTO", "VILLALOBOS TREVINO", "03/14/1958", "(956) 555-0142", HOME),
    ("H-02", "ERNESTO", "VILLALOBOS TREVINO JR", "09/02/1986", "(956) 555-0142", HOME),
    # a father and son who both carry theirs
    ("H-03", "ROGELIO", "CANTU SALINAS SR", "11/23/1961", "(956) 555-0177", "702 GUERRERO AVE LAREDO TX"),
    ("H-04", "ROGELIO", "CANTU SALINAS JR", "06/08/1989", "(956) 555-0177", "702 GUERRERO AVE LAREDO TX"),
    # one person, his date of birth mistyped once (1979 as 1997, 21 as 12), at one home
    ("H-05", "MARTIN", "SALAZAR OCHOA", "05/21/1979", "(956) 555-0190", "2210 MORELOS ST LAREDO TX"),
    ("H-06", "MARTIN", "SALAZAR OCHOA", "05/12/1997", "(956) 555-0190", "2210 MORELOS ST LAREDO TX"),
]


@pytest.mark.parametrize(
    ("text", "rest", "generation"),
    [("Ernesto Villalobos Treviño Jr.", "Ernesto Villalobos Treviño", "JR"),
     ("VILLALOBOS TREVIÑO ERNESTO HIJO", "VILLALOBOS TREVIÑO ERNESTO", "JR"),
     ("Villalobos Treviño, Ernesto (padre)", "Villalobos Treviño, Ernesto", "SR"),
     ("John Price III", "John Price", "III"),
     ("Ernesto Villalobos Treviño", "Ernesto Villalobos Treviño", None),
     ("Jr", "Jr", None)],
    ids=["jr", "hijo", "padre-in-parentheses", "roman", "none", "a-suffix-alone-is-no-name's-suffix"],
)  # fmt: skip
def test_a_generational_suffix_is_read_apart_from_the_name(text: str, rest: str, generation: str | None) -> None:
    assert split_generation(text) == (rest, generation)


def test_a_suffix_is_no_maternal_surname() -> None:
    # "JR" had been read as the maternal surname, so the son's name disagreed with his own records.
    name = parse_name(given_names="ERNESTO", surname="VILLALOBOS TREVINO JR")
    assert (name.given, name.paternal, name.maternal, name.generation) == (("ERNESTO",), "VILLALOBOS", "TREVINO",
                                                                           "JR")


@pytest.fixture(scope="module")
def entities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("households")
    data, mapping = folder / "households.csv", folder / "households.json"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("subject_id", "FIRST", "LAST", "DOB", "PHONE", "ADDRESS"))
        writer.writerows(HOUSEHOLDS)
    mapping.write_text(json.dumps({"source": "county", "phone_region": "US", "fields": {
        "record_id": "subject_id", "given_names": "FIRST", "surname": "LAST",
        "dob": {"column": "DOB", "format": "%m/%d/%Y"}, "phones": "PHONE", "address": "ADDRESS"}}),
        encoding="utf-8")  # fmt: skip
    inputs = [(data, mapping)] + [(AGENCIES / d, AGENCIES / m) for d, m in
                                  (("us.csv", "us.yaml"), ("mx.jsonl", "mx.json"), ("ca.csv", "ca.yaml"))]
    out = folder / "clusters.csv"
    args = [arg for d, m in inputs for arg in (str(d), "--mapping", str(m))]
    result = CliRunner().invoke(app, ["resolve", *args, "--out", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    with out.open(encoding="utf-8") as rows:
        return {row["record_id"]: row["entity_id"] for row in csv.DictReader(rows)}


@pytest.mark.parametrize(("father", "son"), [("H-01", "H-02"), ("H-03", "H-04")], ids=["jr-only", "sr-and-jr"])
def test_a_father_and_son_of_one_name_at_one_home_stay_apart(entities: dict[str, str], father: str,
                                                             son: str) -> None:
    assert entities[father] != entities[son]


def test_one_person_with_a_mistyped_date_of_birth_at_one_home_still_merges(entities: dict[str, str]) -> None:
    assert entities["H-05"] == entities["H-06"]


@pytest.fixture(scope="module")
def resolver() -> incremental.IncrementalResolver:
    return incremental.IncrementalResolver(batch.resolve(bench.spanish(families=300, seed=4).records).trained)


def _person(name: str, dob: BirthDate, phone: str, address: str, alias: str = "") -> tuple[str, PersonRecord]:
    values = {"full_name": name, "phones": phone, "address": address, "sex": "masculino", "aliases": alias}
    return f"identity--{uuid.uuid4()}", person_record(values, "mex", dob, "MX")


def test_a_son_with_a_suffix_arriving_beside_his_father_goes_to_review_explained(
    node: Node, resolver: incremental.IncrementalResolver
) -> None:
    # One name, phone, home, sex and family nickname: enough for the model to score a merge (0.95).
    home = "Calle Zaragoza 1418, Col. Centro, Nuevo Laredo"
    father = _person("Ernesto Villalobos Treviño", BirthDate(1958, 3, 14), "867 555 0142", home, "El Chato")
    son = _person("Ernesto Villalobos Treviño Jr.", BirthDate(1986, 9, 2), "867 555 0142", home, "El Chato")
    with node.db.write() as session:
        [first] = resolver.add(session, [father], "analyst@MX")
        [second] = resolver.add(session, [son], "analyst@MX")
        assert second.entity_id != first.entity_id and not second.merged_with and second.reviews
        review = session.get(ResolveDecision, second.reviews[0])
        assert review is not None and review.kind == "review" and review.state == "pending"
        assert review.probability >= model.UPPER_THRESHOLD  # held back by the suffix, not by the score
        levels = {e["comparison"]: e["level"] for e in review.explanation}
        assert levels["generation"] in ("none / JR", "JR / none") and levels["dob"] == "all other"
        assert levels["phone"].startswith("a phone in common")


def test_the_son_arriving_again_with_a_mistyped_date_merges_with_himself_not_his_father(
    node: Node, resolver: incremental.IncrementalResolver
) -> None:
    home = "Calle Morelos 2210, Col. Centro, Nuevo Laredo"
    father = _person("Martín Salazar Ochoa", BirthDate(1961, 11, 23), "867 555 0190", home)
    son = _person("Martín Salazar Ochoa hijo", BirthDate(1989, 6, 8), "867 555 0190", home)
    again = _person("SALAZAR OCHOA MARTIN JR", BirthDate(1989, 8, 6), "867 555 0190", home)  # day and month swapped
    with node.db.write() as session:
        [older] = resolver.add(session, [father], "analyst@MX")
        [younger] = resolver.add(session, [son], "analyst@MX")
        [twice] = resolver.add(session, [again], "analyst@MX")
        assert younger.entity_id != older.entity_id
        assert twice.entity_id == younger.entity_id and twice.merged_with == [son[0]]
        merge = session.scalar(select(ResolveDecision).where(ResolveDecision.kind == "merge"))
        assert merge is not None and merge.probability >= model.UPPER_THRESHOLD
        assert {e["comparison"]: e["level"] for e in merge.explanation}["generation"] == "JR / JR"
