"""Input handling of `tearline resolve`'s mappings and files: sex codes, the dob spec and formats, text
encodings, broken and empty files, repeated record ids. Every refusal names the file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tearline.errors import InvalidInput
from tearline.resolve.dates import BirthDate, parse_birth_date, read_birth_date
from tearline.resolve.mapping import load_records, parse_mapping
from tearline.resolve.records import normalise_sex, read_sex

MEX = {"source": "mex", "fields": {"record_id": "folio", "full_name": "nombre", "sex": "sexo"}}


def _mapping(**fields: object) -> dict[str, object]:
    return {"source": "mex", "fields": {"record_id": "folio", "full_name": "nombre", **fields}}


def _problems(err: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(p.field, p.reason) for p in err.value.problems}


def _jsonl(path: Path, *rows: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# 1. Sex codes: M is mujer (female) in the Mexican H/M convention, male in the English M/F one.


def test_a_mapping_declaring_h_m_reads_m_as_female(tmp_path: Path) -> None:
    mapping = parse_mapping(_mapping(sex={"column": "sexo", "codes": "H/M"}))
    data = _jsonl(
        tmp_path / "mx.jsonl",
        {"folio": "MX1", "nombre": "Rosa Elvira Quintero", "sexo": "M"},
        {"folio": "MX2", "nombre": "Tadeo Quintero Lira", "sexo": "H"},
    )
    assert [r.sex for r in load_records(data, mapping)] == ["F", "M"]


def test_without_codes_the_convention_is_m_f(tmp_path: Path) -> None:
    mapping = parse_mapping(_mapping(sex="sexo"))
    assert mapping.sex_codes == "M/F"
    data = _jsonl(
        tmp_path / "us.jsonl",
        {"folio": "U1", "nombre": "Rosa Quintero", "sexo": "F"},
        {"folio": "U2", "nombre": "Tadeo Quintero", "sexo": "M"},
        {"folio": "U3", "nombre": "Ixchel Quintero", "sexo": "Mujer"},
        {"folio": "U4", "nombre": "Onofre Quintero", "sexo": ""},
        {"folio": "U5", "nombre": "Rufina Quintero", "sexo": "U"},
    )
    assert [r.sex for r in load_records(data, mapping)] == ["F", "M", "F", None, None]


def test_a_code_of_the_other_convention_is_refused_with_the_line_and_what_to_declare(tmp_path: Path) -> None:
    """An H/M file mapped without codes: its M (mujer) would silently be male; the H gives it away."""
    data = _jsonl(
        tmp_path / "mx.jsonl",
        {"folio": "MX1", "nombre": "Tadeo Quintero Lira", "sexo": "H"},
        {"folio": "MX2", "nombre": "Rosa Quintero Lira", "sexo": "M"},
    )
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(MEX))
    [problem] = err.value.problems
    assert (problem.field, problem.item) == ("sex", f"{data}:1")
    assert "'H' is not one of the source's sex codes M/F" in problem.reason and '"codes": "H/M"' in problem.reason


def test_a_sex_value_outside_the_codes_is_refused_like_a_bad_date(tmp_path: Path) -> None:
    data = _jsonl(
        tmp_path / "mx.jsonl",
        {"folio": "MX1", "nombre": "Tadeo Quintero Lira", "sexo": "F"},
        {"folio": "MX2", "nombre": "Rosa Quintero Lira", "sexo": "Q"},
    )
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(_mapping(sex={"column": "sexo", "codes": "H/M"})))
    assert [(p.field, p.item) for p in err.value.problems] == [("sex", f"{data}:1"), ("sex", f"{data}:2")]
    assert "'F' is not one of the source's sex codes H/M (H male, M female)" in err.value.problems[0].reason


def test_an_unknown_sex_convention_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(_mapping(sex={"column": "sexo", "codes": "X/Y"}))
    assert {f for f, _ in _problems(err)} == {"fields.sex.codes"}


def test_free_text_sex_without_a_convention_reads_as_before() -> None:
    """STIX persons and the benchmarks' records declare no convention: unchanged."""
    assert [normalise_sex(v) for v in ("M", "H", "F", "W", "Mujer", "?")] == ["M", "M", "F", "F", "F", None]
    assert normalise_sex("M", "H/M") == "F" and read_sex("hombre", "H/M") == "M"


# 2. The dob spec's keys.


def test_an_unknown_key_of_the_dob_spec_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(_mapping(dob={"column": "nac", "fromat": "%d/%m/%Y"}))
    assert _problems(err) == {("fields.dob.fromat", "is not an option of fields.dob (column, format)")}


def test_a_dob_spec_without_column_says_which_keys_are_allowed() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(_mapping(dob={"col": "nac", "fmt": "%d/%m/%Y"}))
    problems = _problems(err)
    assert {f for f, _ in problems} == {"fields.dob.col", "fields.dob.fmt", "fields.dob.column"}
    assert all("(column, format)" in reason for _, reason in problems)
    assert not any("non-empty list" in reason for _, reason in problems)


def test_an_unknown_key_of_the_sex_spec_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(_mapping(sex={"column": "sexo", "code": "H/M"}))
    assert ("fields.sex.code", "is not an option of fields.sex (column, codes)") in _problems(err)


# 6. Dates read with a declared format.


def test_a_two_digit_year_follows_the_formatless_rule() -> None:
    assert read_birth_date("03/07/45", "%d/%m/%y") == BirthDate(1945, 7, 3)
    assert parse_birth_date("03/07/45") == BirthDate(1945, 3, 7)  # no format: month first, the same century
    assert read_birth_date("03/07/12", "%d/%m/%y") == BirthDate(2012, 7, 3)


def test_a_format_of_the_year_alone_keeps_the_year_alone() -> None:
    assert read_birth_date("1981", "%Y") == BirthDate(1981)
    assert BirthDate(1981).iso() is None  # not an exact 1 January


@pytest.mark.parametrize(
    ("fmt", "says"),
    [
        ("%Q/%d/%Y", "%Q, which is not a date directive"),
        ("%m/%Y", "has no day"),
        ("%d/%m", "has no year"),
        ("%d/%m/%Y %", "a lone %"),
    ],
    ids=["bad-directive", "no-day", "no-year", "lone-percent"],
)
def test_an_unusable_format_is_refused_once_at_mapping_time(fmt: str, says: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mapping(_mapping(dob={"column": "nac", "format": fmt}), "mx.json")
    [problem] = err.value.problems
    assert (problem.field, problem.item) == ("fields.dob.format", "mx.json") and says in problem.reason


def test_a_year_outside_1880_2100_is_refused_with_a_format_as_without(tmp_path: Path) -> None:
    mapping = parse_mapping(_mapping(dob={"column": "nac", "format": "%d/%m/%Y"}))
    data = _jsonl(
        tmp_path / "mx.jsonl",
        {"folio": "MX1", "nombre": "Rosa Quintero Lira", "nac": "03/07/1850"},
        {"folio": "MX2", "nombre": "Tadeo Quintero Lira", "nac": "03/07/2150"},
    )
    with pytest.raises(InvalidInput) as err:
        load_records(data, mapping)
    assert [(p.field, p.item) for p in err.value.problems] == [("dob", f"{data}:1"), ("dob", f"{data}:2")]
    assert "outside 1880-2100" in err.value.problems[0].reason
    assert parse_birth_date("03/07/1850") is None and parse_birth_date("1850") is None


# 3. Encodings and broken lines.

CSV_MAPPING = {"source": "can", "fields": {"record_id": "id", "full_name": "name"}}


def test_a_file_not_in_utf8_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "ca.csv"
    data.write_bytes("id,name\nC1,Rosa Quintero\nC2,Tadeo Quintero Ríos\n".encode("latin-1"))
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(CSV_MAPPING))
    [problem] = err.value.problems
    assert (problem.field, problem.item) == ("encoding", f"{data}:3")
    assert "is not UTF-8" in problem.reason and "convert the file to UTF-8" in problem.reason


def test_a_mapping_may_name_the_encoding(tmp_path: Path) -> None:
    data = tmp_path / "ca.csv"
    data.write_bytes("id,name\nC1,Tadeo Quintero Ríos\n".encode("latin-1"))
    [record] = load_records(data, parse_mapping({**CSV_MAPPING, "encoding": "latin-1"}))
    assert record.name.paternal == "QUINTERO" and record.raw["full_name"] == "Tadeo Quintero Ríos"
    with pytest.raises(InvalidInput) as err:
        parse_mapping({**CSV_MAPPING, "encoding": "klingon"})
    assert {f for f, _ in _problems(err)} == {"encoding"}


def test_jsonl_with_a_byte_order_mark_reads_like_a_csv_with_one(tmp_path: Path) -> None:
    row = {"id": "C1", "name": "Rosa Quintero Lira"}
    (tmp_path / "c.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(row).encode() + b"\n")
    (tmp_path / "c.csv").write_bytes(b"\xef\xbb\xbfid,name\nC1,Rosa Quintero Lira\n")
    mapping = parse_mapping(CSV_MAPPING)
    assert load_records(tmp_path / "c.jsonl", mapping) == load_records(tmp_path / "c.csv", mapping)


def test_a_broken_json_line_gives_the_whole_reason(tmp_path: Path) -> None:
    data = tmp_path / "mx.jsonl"
    data.write_text('{"id": "C1", "name": "Rosa"}\n{"id": "C2", "name": "Tadeo\tQuintero"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(CSV_MAPPING))
    [problem] = err.value.problems
    assert problem.item == f"{data}:2"
    assert problem.reason.startswith("is not JSON: Invalid control character at column 28;")


# 7. Empty files.


@pytest.mark.parametrize("name", ["empty.csv", "empty.jsonl"])
def test_an_empty_file_says_it_is_empty_not_that_columns_are_missing(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InvalidInput) as err:
        load_records(tmp_path / name, parse_mapping(CSV_MAPPING))
    [problem] = err.value.problems
    assert (problem.field, problem.item) == ("input", str(tmp_path / name))
    assert problem.reason.startswith("is empty")


# 5. A repeated record id.


def test_a_repeated_id_names_file_both_lines_and_the_id_as_written(tmp_path: Path) -> None:
    data = tmp_path / "us.csv"
    data.write_text("id,name\nUS-001,Rosa Quintero\nUS-002,Tadeo Quintero\nUS-001,Ixchel Quintero\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping({**CSV_MAPPING, "source": "usa"}))
    [problem] = err.value.problems
    assert (problem.field, problem.item) == ("record_id", f"{data}:4")
    assert problem.reason.startswith("'US-001' is also the id of line 2")


# A quote left open, and rows of the wrong width: refused, never read into another record's field.


def test_a_quote_left_open_is_refused_naming_the_row_it_opens_in(tmp_path: Path) -> None:
    data = tmp_path / "us.csv"
    data.write_text('id,name\nC1,"Rosa Tadeo\nC2,Jorge Hernández Garza\nC3,Ana López\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(CSV_MAPPING))
    [problem] = err.value.problems
    assert problem.item == f"{data}:2"
    assert "a quote opened in this row is never closed" in problem.reason


@pytest.mark.parametrize("row", ["C2,Jorge,Hernández", "C2"], ids=["a-field-too-many", "a-field-too-few"])
def test_a_row_of_another_width_than_the_header_is_refused_naming_its_line(tmp_path: Path, row: str) -> None:
    data = tmp_path / "us.csv"
    data.write_text(f"id,name\nC1,Rosa Tadeo\n{row}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_records(data, parse_mapping(CSV_MAPPING))
    [problem] = err.value.problems
    assert problem.item == f"{data}:3"
    assert problem.reason.endswith("fields but the header has 2")
