"""Inputs of `tearline resolve` that were taken silently and are now refused in one line, exit 2:
a column named twice in a CSV header, and a mapped record id left empty."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tearline.cli.main import app

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
