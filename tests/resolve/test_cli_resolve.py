"""`tearline resolve` and `tearline bench resolve --quick`, through the real executable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tearline.resolve.spanish_set import generate
from tests.cli.support import run


def _write_inputs(tmp_path: Path) -> list[str]:
    generated = generate(families=25, seed=3)
    args: list[str] = []
    for source in ("usa", "mex", "can"):
        rows = [r.values for r in generated.records if r.source == source]
        if source == "mex":
            data = tmp_path / "mex.jsonl"
            data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        else:
            data = tmp_path / f"{source}.csv"
            with data.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        mapping = tmp_path / f"{source}.json"
        mapping.write_text(json.dumps(generated.mappings[source]), encoding="utf-8")
        args += [str(data), "--mapping", str(mapping)]
    return args


def test_resolve_writes_one_row_per_record(tmp_path: Path) -> None:
    args = _write_inputs(tmp_path)
    out = tmp_path / "clusters.csv"
    result = run("resolve", *args, "--out", out)
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["record_id", "entity_id", "match_probability"]
    ids = [r["record_id"] for r in rows]
    assert len(ids) == len(set(ids)) and any(i.startswith("US-") for i in ids) and any(i.startswith("MX-") for i in ids)
    assert len({r["entity_id"] for r in rows}) < len(rows)  # some records were merged
    assert "resolved" in result.stdout


def test_resolve_reports_a_bad_mapping_by_field(tmp_path: Path) -> None:
    args = _write_inputs(tmp_path)
    (tmp_path / "usa.json").write_text(json.dumps({"source": "usa", "fields": {"nombre": "FIRST"}}), encoding="utf-8")
    result = run("resolve", *args, "--out", tmp_path / "c.csv")
    assert result.returncode == 2
    assert "fields.nombre" in result.stderr and "is not a canonical field" in result.stderr


def test_resolve_needs_one_mapping_per_input(tmp_path: Path) -> None:
    args = _write_inputs(tmp_path)
    result = run("resolve", *args[:-2], args[-3], "--out", tmp_path / "c.csv")
    assert result.returncode == 2 and "one mapping per input" in result.stderr


def test_bench_resolve_quick_compares_both_methods() -> None:
    result = run("bench", "resolve", "--quick")
    assert result.returncode == 0, result.stderr
    assert "tearline" in result.stdout and "plain splink" in result.stdout and "nickname" in result.stdout
    assert "Incremental matching" in result.stdout and "records/s" in result.stdout
    assert "Organisations resolved as they arrive" in result.stdout and "the same names found" in result.stdout
