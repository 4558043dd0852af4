"""Inputs of `tearline resolve` that were taken silently and are now refused, exit 2: a column
named twice in a CSV header (one line), and a mapped record id left empty; and a mapping that is
no object, refused saying `mapping` once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.errors import InvalidInput
from tearline.resolve.mapping import parse_mapping

MAPPING = {"source": "county", "fields": {"record_id": "id", "full_name": "name", "dob": "dob"}}


def _resolve(tmp_path: Path, name: str, body: str, mapping: object = MAPPING,
             mapping_name: str = "m.json") -> tuple[int, list[str]]:
    (tmp_path / name).write_text(body, encoding="utf-8")
    (tmp_path / mapping_name).write_text(json.dumps(mapping), encoding="utf-8")
    args = [str(tmp_path / name), "--mapping", str(tmp_path / mapping_name), "--out", str(tmp_path / "c.csv")]
    result = CliRunner().invoke(app, ["resolve", *args], env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no traceback
    return result.exit_code, result.stderr.splitlines()


def test_a_column_named_twice_in_the_header_is_refused_naming_it_the_file_and_line_1(tmp_path: Path) -> None:
    body = "id,name,name,dob\n1,Mariela Quintanar,Osuna,1980-02-03\n2,Teodoro Ruelas,Villaseñor,1975-11-21\n"
    code, stderr = _resolve(tmp_path, "a.csv", body)
    assert code == 2 and len(stderr) == 1
    assert stderr[0].startswith(f"error: {tmp_path / 'a.csv'}:1: header: column 'name' is named 2 times (columns 2, 3)")
    assert not (tmp_path / "c.csv").exists()


def test_every_column_named_twice_in_the_header_is_named(tmp_path: Path) -> None:
    # Before, only the first ('name') was named: the header fixed for it was refused again for 'dob'.
    body = "id,name,name,dob,dob\n1,Mariela Quintanar,Osuna,1980-02-03,1980-02-03\n"
    code, stderr = _resolve(tmp_path, "a.csv", body)
    assert code == 2
    where = f"  - {tmp_path / 'a.csv'}:1: header:"
    assert [line.split(" (")[0] for line in stderr if line.startswith(where)] == [
        f"{where} column 'name' is named 2 times",
        f"{where} column 'dob' is named 2 times",
    ]
    assert not (tmp_path / "c.csv").exists()


def test_a_json_lines_object_naming_a_key_twice_is_refused_naming_the_key_and_line(tmp_path: Path) -> None:
    body = ('{"id": "1", "name": "Mariela Quintanar Osuna", "dob": "1980-02-03"}\n'
            '{"id": "2", "name": "Teodoro Villaseñor", "name": "Ruelas", "dob": "1975-11-21"}\n')
    code, stderr = _resolve(tmp_path, "a.jsonl", body)
    assert code == 2 and len(stderr) == 1, stderr
    assert stderr[0].startswith(f"error: {tmp_path / 'a.jsonl'}:2: line: names the key 'name' twice"), stderr
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize(("name", "body"), [
    ("a.csv", "id,name,dob\n1,Mariela Quintanar Osuna,1980-02-03\n,Teodoro Villaseñor Ruelas,1975-11-21\n"),
    ("a.jsonl", '{"id": "1", "name": "Mariela Quintanar Osuna", "dob": "1980-02-03"}\n'
                '{"name": "Teodoro Villaseñor Ruelas"}\n{"id": "", "name": "Anselmo Ibarrola Tejeda"}\n'),
], ids=["csv-empty-cell", "jsonl-missing-and-empty"])
def test_a_mapped_record_id_with_no_value_is_refused_naming_the_line(tmp_path: Path, name: str, body: str) -> None:
    code, stderr = _resolve(tmp_path, name, body)
    assert code == 2
    lines = [3] if name.endswith(".csv") else [2, 3]
    refused = [line for line in stderr if "record_id: has no value (column 'id')" in line]
    assert [line.split(": ")[0].removeprefix("  - ") for line in refused] == [f"{tmp_path / name}:{n}" for n in lines]
    assert not (tmp_path / "c.csv").exists()


def test_without_record_id_in_the_mapping_records_are_named_source_and_line(tmp_path: Path) -> None:
    fields = {"full_name": "name", "dob": "dob"}
    body = "name,dob\nMariela Quintanar Osuna,1980-02-03\nTeodoro Villaseñor Ruelas,1975-11-21\n"
    code, _ = _resolve(tmp_path, "a.csv", body, {"source": "county", "fields": fields})
    assert code == 0
    rows = (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["county:2", "county:3"]


def test_help_says_how_records_are_named() -> None:
    result = CliRunner().invoke(app, ["resolve", "--help"], env={"COLUMNS": "300", "NO_COLOR": "1"})
    said = " ".join(result.output.split())
    assert "record_id column (a row with no value is refused), or source:LINE without" in said


def test_a_mapping_that_is_no_object_says_mapping_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_mapping([1])
    assert refused.value.message == "mapping: must be an object with 'source' and 'fields'"
    assert [p.item for p in refused.value.problems] == [None]  # printed as `item: field: reason`, once
    with pytest.raises(InvalidInput) as refused:
        parse_mapping({"source": "county"})
    assert refused.value.message == "invalid mapping" and refused.value.problems[0].item is None


def test_a_mapping_file_that_is_no_object_names_the_file_then_mapping(tmp_path: Path) -> None:
    code, stderr = _resolve(tmp_path, "a.csv", "id,name\n1,Mariela Quintanar\n", [1])
    assert code == 2
    assert stderr == [f"error: {tmp_path / 'm.json'}: mapping: must be an object with 'source' and 'fields'"]
