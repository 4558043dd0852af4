"""Mapping files and inputs of `tearline resolve`: bad input names the field and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tearline.errors import InvalidInput
from tearline.resolve.dates import BirthDate
from tearline.resolve.mapping import load_mapping, load_records, parse_mapping

USA = {"source": "usa", "phone_region": "US", "fields": {
    "record_id": "id", "given_names": ["FIRST", "MIDDLE"], "surname": "LAST",
    "dob": {"column": "DOB", "format": "%m/%d/%Y"}, "phones": "PHONE"}}


def _problems(err: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(p.field, p.reason) for p in err.value.problems}


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"fields": {"full_name": "n"}}, "source"),
        ({"source": "usa"}, "fields"),
        ({"source": "usa", "fields": {"name": "n"}}, "fields.name"),
        ({"source": "usa", "fields": {"full_name": 3}}, "fields.full_name"),
        ({"source": "usa", "fields": {"dob": "d"}}, "fields"),
        ({"source": "usa", "fields": {"full_name": "n", "dob": {"column": "d", "format": "dd/mm"}}},
         "fields.dob.format"),
        ({"source": "usa", "fields": {"full_name": "n"}, "phone_region": "FR"}, "phone_region"),
        ({"source": "usa", "fields": {"full_name": "n"}, "colour": "red"}, "colour"),
    ],
    ids=["no-source", "no-fields", "unknown-field", "not-a-column", "no-name-field", "bad-format", "bad-region",
         "unknown-option"],
)
def test_invalid_mapping_names_the_field(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(mapping, "map.json")
    assert field in {f for f, _ in _problems(err)}
    assert all(p.item == "map.json" for p in err.value.problems)


def test_yaml_and_json_mappings_read_alike(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "m.yaml").write_text(yaml.safe_dump(USA), encoding="utf-8")
    (tmp_path / "m.json").write_text(json.dumps(USA), encoding="utf-8")
    assert load_mapping(tmp_path / "m.yaml") == load_mapping(tmp_path / "m.json")
    assert load_mapping(tmp_path / "m.json").columns["given_names"] == ("FIRST", "MIDDLE")


def test_unparseable_mapping_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{source: ", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid json"):
        load_mapping(tmp_path / "m.json")


def test_csv_rows_become_records_with_joined_columns_and_formats(tmp_path: Path) -> None:
    (tmp_path / "us.csv").write_text(
        "id,FIRST,MIDDLE,LAST,DOB,PHONE\nU1,JOSE,LUIS,HERNANDEZ-GARZA,03/07/1981,(520) 555-0134\n", encoding="utf-8")
    [record] = load_records(tmp_path / "us.csv", parse_mapping(USA))
    assert record.record_id == "U1" and record.source == "usa"
    assert (record.name.given, record.name.paternal, record.name.maternal) == (("JOSE", "LUIS"), "HERNANDEZ", "GARZA")
    assert record.dob == BirthDate(1981, 3, 7)
    assert record.phones == ("+15205550134",)


def test_jsonl_rows_become_records(tmp_path: Path) -> None:
    mapping = parse_mapping({"source": "mex", "fields": {"record_id": "folio", "full_name": "nombre",
                                                          "dob": {"column": "nac", "format": "%d/%m/%Y"},
                                                          "phones": "tel"}})
    row = {"folio": "MX1", "nombre": "José Luis Hernández Garza, alias El Güero", "nac": "03/07/1981",
           "tel": ["662 123 4567", "+52 662 765 4321"]}
    (tmp_path / "mx.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    [record] = load_records(tmp_path / "mx.jsonl", mapping)
    assert record.dob == BirthDate(1981, 7, 3)
    assert record.name.aliases == ("GUERO",)
    assert record.phones == ("+526621234567", "+526627654321")


def test_missing_column_is_named_with_its_field(tmp_path: Path) -> None:
    (tmp_path / "us.csv").write_text("id,FIRST,LAST,DOB,PHONE\nU1,JOSE,HERNANDEZ,,\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(tmp_path / "us.csv", parse_mapping(USA))
    assert ("fields.given_names", f"names column 'MIDDLE', which {tmp_path / 'us.csv'} does not have") in _problems(err)


def test_bad_date_names_line_field_and_value(tmp_path: Path) -> None:
    (tmp_path / "us.csv").write_text(
        "id,FIRST,MIDDLE,LAST,DOB,PHONE\nU1,JOSE,,HERNANDEZ,31/12/1980,\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(tmp_path / "us.csv", parse_mapping(USA))
    [problem] = err.value.problems
    assert problem.field == "dob" and problem.item == f"{tmp_path / 'us.csv'}:2"
    assert problem.reason == "'31/12/1980' is not a date with format '%m/%d/%Y'"
