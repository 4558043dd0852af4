"""`tearline resolve`'s inputs and output, in this process: --out checked before any work and written
whole or not at all, repeated ids across inputs, empty and one-record batches, the help text."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.errors import InvalidInput
from tearline.resolve import batch
from tearline.resolve.records import PersonRecord, person_record

MAPPING = {"source": "usa", "fields": {"record_id": "id", "full_name": "name"}}


def _inputs(tmp_path: Path, name: str, body: str, source: str = "usa") -> list[str]:
    data = tmp_path / name
    data.write_text(body, encoding="utf-8")
    mapping = tmp_path / f"{name}.json"
    mapping.write_text(json.dumps({**MAPPING, "source": source}), encoding="utf-8")
    return [str(data), "--mapping", str(mapping)]


def _resolve(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["resolve", *map(str, args)], env={"COLUMNS": "300", "NO_COLOR": "1"})
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusals under test come before any model work: training would fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the batch was resolved before the input was checked")

    monkeypatch.setattr(batch, "resolve", refuse)


# 4. --out


@pytest.mark.usefixtures("no_training")
def test_out_in_a_missing_directory_is_refused_before_any_work(tmp_path: Path) -> None:
    args = _inputs(tmp_path, "us.csv", "id,name\nU1,Rosa Quintero\nU2,Tadeo Quintero\n")
    code, output = _resolve(*args, "--out", tmp_path / "nowhere" / "c.csv")
    assert code == 2
    assert f"{tmp_path / 'nowhere' / 'c.csv'}: --out: is in {tmp_path / 'nowhere'}, which does not exist" in output


@pytest.mark.usefixtures("no_training")
def test_out_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    args = _inputs(tmp_path, "us.csv", "id,name\nU1,Rosa Quintero\nU2,Tadeo Quintero\n")
    code, output = _resolve(*args, "--out", tmp_path)
    assert code == 2 and "--out: is a directory" in output


@pytest.mark.usefixtures("no_training")
@pytest.mark.parametrize("which", [0, 2], ids=["the-input", "its-mapping"])
def test_out_equal_to_an_input_is_refused_and_the_input_kept(tmp_path: Path, which: int) -> None:
    args = _inputs(tmp_path, "us.csv", "id,name\nU1,Rosa Quintero\nU2,Tadeo Quintero\n")
    before = Path(args[which]).read_bytes()
    code, output = _resolve(*args, "--out", Path(args[which]).parent / ".." / tmp_path.name / Path(args[which]).name)
    assert code == 2 and "one of the inputs or mappings" in output
    assert Path(args[which]).read_bytes() == before


def test_an_interrupted_write_leaves_the_old_output_and_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    out.write_text("record_id,entity_id,match_probability\nOLD,E000001,0.0\n", encoding="utf-8")

    def rows() -> Iterator[tuple[str, str, float]]:
        yield ("U1", "E000001", 0.0)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.write_rows(rows(), out)
    assert out.read_text(encoding="utf-8").splitlines()[1] == "OLD,E000001,0.0"
    assert os.listdir(tmp_path) == ["clusters.csv"]


def test_the_output_is_renamed_into_place_with_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    batch.write_rows([("U1", "E000001", 0.0)], out)
    assert out.read_bytes() == b"record_id,entity_id,match_probability\r\nU1,E000001,0.0\r\n"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask and os.listdir(tmp_path) == ["clusters.csv"]


# 5. Repeated ids


@pytest.mark.usefixtures("no_training")
def test_two_inputs_of_one_source_with_a_repeated_id_name_both_files_and_lines(tmp_path: Path) -> None:
    first = _inputs(tmp_path, "a.csv", "id,name\nU1,Rosa Quintero\nU2,Tadeo Quintero\n")
    second = _inputs(tmp_path, "b.csv", "id,name\nU3,Ixchel Quintero\nU2,Onofre Quintero\n")
    code, output = _resolve(*first, *second, "--out", tmp_path / "c.csv")
    assert code == 2
    assert "are both source 'usa'" in output
    assert (
        f"{tmp_path / 'b.csv'}:3: record_id: 'U2' is also the id of {tmp_path / 'a.csv'}:3 (also source 'usa')"
        in output
    )
    assert not (tmp_path / "c.csv").exists()


def _record(rid: str, source: str) -> PersonRecord:
    return person_record({"record_id": rid, "full_name": "Rosa Quintero"}, source, None, "MX")


def test_unique_record_ids_names_the_source_and_the_id_as_written() -> None:
    with pytest.raises(InvalidInput) as err:
        batch.unique_record_ids([_record("US-001", "usa"), _record("US-001", "mex"), _record("US-001", "usa")])
    [problem] = err.value.problems
    assert problem.reason.startswith("'US-001' is the id of 2 records of source 'usa'") and problem.item == "usa"


def test_an_id_that_source_id_would_repeat_is_refused() -> None:
    records = [_record("1", "usa"), _record("mex:1", "usa"), _record("1", "mex")]
    with pytest.raises(InvalidInput) as err:
        batch.unique_record_ids(records)
    [problem] = err.value.problems
    assert "would be written 'mex:1', as is 'mex:1' (source 'usa')" in problem.reason
    assert [r.record_id for r in batch.unique_record_ids(records[:1] + records[2:])] == ["usa:1", "mex:1"]


# 7. Empty inputs and a batch of one record


@pytest.mark.usefixtures("no_training")
def test_no_records_at_all_says_how_many_each_input_had(tmp_path: Path) -> None:
    first = _inputs(tmp_path, "a.csv", "id,name\n")
    second = _inputs(tmp_path, "b.csv", "id,name\n", source="mex")
    code, output = _resolve(*first, *second, "--out", tmp_path / "c.csv")
    assert code == 2
    assert f"no records to resolve ({tmp_path / 'a.csv'}: 0, {tmp_path / 'b.csv'}: 0)" in output
    assert f"{tmp_path / 'a.csv'}: input: has no records" in output


@pytest.mark.usefixtures("no_training")
def test_one_record_is_written_as_its_own_entity(tmp_path: Path) -> None:
    first = _inputs(tmp_path, "a.csv", "id,name\n")
    second = _inputs(tmp_path, "b.csv", "id,name\nM1,Rosa Quintero Lira\n", source="mex")
    code, output = _resolve(*first, *second, "--out", tmp_path / "c.csv")
    assert code == 0, output
    assert f"resolved 1 record ({tmp_path / 'a.csv'}: 0, {tmp_path / 'b.csv'}: 1)" in output
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines() == [
        "record_id,entity_id,match_probability",
        "M1,E000001,0.0",
    ]


def test_resolve_of_fewer_than_two_records_says_how_many() -> None:
    with pytest.raises(InvalidInput, match="1 record\\(s\\) given"):
        batch.resolve([_record("U1", "usa")])


# 8. Help


def test_help_shows_the_spark_extra_and_readable_metavars() -> None:
    code, output = _resolve("--help")
    assert code == 0
    assert "pip install 'tearline[spark]'" in output and "local[4]" in output
    assert "{INPUT}..." in output and "--mapping MAPPING" in output and "--out FILE" in output
    assert "{inputs}" not in output
