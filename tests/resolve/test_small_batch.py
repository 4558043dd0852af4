"""A batch too small to train on: `tearline resolve` scores it with the reference model, so that
clear duplicates merge, a different person does not, and stderr says why the batch was not trained on.

Before, EM trained on the batch's one or two pairs, and every record of a 2-, 3- or 4-record batch
was written as its own entity with probability 0, without a word."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.resolve import batch, model, reference
from tearline.resolve.records import PersonRecord, person_record

MAPPING = {"source": "county", "fields": {"record_id": "id", "full_name": "name", "dob": "dob"}}
MARIELA = "Mariela Quintanar Osuna,1980-02-03"


def _resolve(tmp_path: Path, *inputs: tuple[str, str, dict[str, object]]) -> tuple[dict[str, tuple[str, float]], str]:
    args: list[str] = []
    for name, body, mapping in inputs:
        (tmp_path / name).write_text(body, encoding="utf-8")
        (tmp_path / f"{name}.json").write_text(json.dumps(mapping), encoding="utf-8")
        args += [str(tmp_path / name), "--mapping", str(tmp_path / f"{name}.json")]
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(app, ["resolve", *args, "--out", str(out)], env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 0, (result.output, result.exception)
    with out.open(encoding="utf-8") as rows:
        written = {r["record_id"]: (r["entity_id"], float(r["match_probability"])) for r in csv.DictReader(rows)}
    return written, " ".join(result.stderr.split())


@pytest.mark.parametrize("others", [
    pytest.param([], id="two-records"),
    pytest.param(["3,Teodoro Villaseñor Ruelas,1975-11-21"], id="three-records"),
    # a namesake born 22 years later: a son of one name is a different person
    pytest.param(["3,Teodoro Villaseñor Ruelas,1975-11-21", "4,Mariela Quintanar Osuna,2002-09-14"],
                 id="with-a-namesake"),
])
def test_exact_duplicates_merge_in_a_tiny_batch_and_others_stay_apart(tmp_path: Path, others: list[str]) -> None:
    body = "\n".join(["id,name,dob", f"1,{MARIELA}", f"2,{MARIELA}", *others]) + "\n"
    written, stderr = _resolve(tmp_path, ("a.csv", body, MAPPING))
    assert written["1"][0] == written["2"][0] and written["1"][1] >= 0.95
    for row in ("3", "4")[:len(others)]:
        assert written[row][0] not in {written["1"][0]} and written[row][1] == 0.0
    assert (f"{2 + len(others)} records are too few to train the model on (training needs at least "
            f"{reference.MIN_TRAINING_RECORDS})") in stderr
    assert f"resolve at least {reference.MIN_TRAINING_RECORDS} records at once" in stderr


def test_a_pair_across_a_csv_and_a_json_lines_file_merges(tmp_path: Path) -> None:
    jsonl = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in (
        {"rid": "x1", "nombre": "MARIELA QUINTANAR OSUNA", "fnac": "03/02/1980"},
        {"rid": "x2", "nombre": "Anselmo Ibarrola Tejeda", "fnac": "14/06/1962"}))
    written, _ = _resolve(
        tmp_path,
        ("a.csv", f"id,name,dob\n1,{MARIELA}\n2,Teodoro Villaseñor Ruelas,1975-11-21\n", MAPPING),
        ("b.jsonl", jsonl, {"source": "agency", "fields": {
            "record_id": "rid", "full_name": "nombre", "dob": {"column": "fnac", "format": "%d/%m/%Y"}}}),
    )
    assert written["1"][0] == written["x1"][0]
    assert len({written[r][0] for r in ("1", "2", "x2")}) == 3


def test_a_batch_large_enough_is_trained_on_and_says_nothing(tmp_path: Path) -> None:
    rows = [f"{n},Persona{chr(65 + n % 26)} Apellido{chr(65 + n // 26)} Segundo,19{50 + n % 40}-0{1 + n % 9}-1{n % 9}"
            for n in range(reference.MIN_TRAINING_RECORDS)]
    _, stderr = _resolve(tmp_path, ("a.csv", "id,name,dob\n" + "\n".join(rows) + "\n", MAPPING))
    assert "too few to train" not in stderr


def test_below_the_floor_the_model_is_the_reference_one_and_above_it_is_trained() -> None:
    def records(n: int) -> list[PersonRecord]:
        return [person_record({"record_id": str(i), "full_name": f"Persona{i} Quintanar"}, "a", None, "MX")
                for i in range(n)]

    small = batch.resolve(records(reference.MIN_TRAINING_RECORDS - 1))
    assert small.reference and small.trained is reference.reference_model()
    assert not batch.resolve(records(reference.MIN_TRAINING_RECORDS)).reference


@pytest.mark.slow
def test_the_kept_reference_model_is_what_training_on_the_generated_set_gives() -> None:
    kept, again = reference.reference_model(), reference.build()

    def levels(trained: model.TrainedModel) -> list[float]:
        return [float(lvl.get(p) or -1.0) for c in trained.settings_json["comparisons"]
                for lvl in c["comparison_levels"] for p in ("m_probability", "u_probability")]

    assert levels(kept) == pytest.approx(levels(again), rel=1e-6)
    assert kept.notes == again.notes
