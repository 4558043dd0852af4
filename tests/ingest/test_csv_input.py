"""CSV files (and their mappings) that cannot be read as they are: each refusal says where and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tearline.errors import InvalidInput, Problem
from tearline.ingest import ingest_csv, ingest_file
from tearline.node import Node
from tests.stix.factories import DATA, make_node, row_counts

GOOD, MAPPING = DATA / "vehicles.csv", DATA / "vehicles-mapping.json"
HEADER, ROW = GOOD.read_text(encoding="utf-8").splitlines()[:2]


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "us")


def refused(node: Node, csv_path: Path, mapping: Path = MAPPING) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        ingest_csv(node, csv_path, mapping, "ana")
    assert row_counts(node) == (0, 0, 0)
    return caught.value.problems


def test_a_column_named_twice_in_the_header_is_refused_naming_it(node: Node, tmp_path: Path) -> None:
    # Read by name, the first `persona` column's value was lost and the file stored.
    path = tmp_path / "twice.csv"
    path.write_text(f"{HEADER},persona,nivel\n{ROW},Rosendo Ibarra Solís,SECRET\n", encoding="utf-8")
    # Each repeated column is its problem's field (it was `file`), as in every other problem of a column.
    assert HEADER.split(",")[0] == "persona" and HEADER.split(",")[11] == "nivel" and HEADER.count(",") == 13
    rename = "rename the columns so that each name is given once"
    assert refused(node, path) == [
        Problem("persona", f"the header names this column 2 times (columns 1, 15); {rename}", "line 1"),
        Problem("nivel", f"the header names this column 2 times (columns 12, 16); {rename}", "line 1"),
    ]


def test_a_latin1_file_is_refused_naming_the_line_and_how_to_convert_it(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\n{ROW}\n{ROW.replace('Aurelio', 'Aurelio José')}\n".encode("latin-1"))
    [problem] = refused(node, path)
    assert (problem.item, problem.field) == ("latin1.csv", "file")
    assert problem.reason.startswith("not UTF-8 text: line 2 has the byte 0xf3")  # "Torreón" on line 2
    assert "iconv -f latin1 -t utf-8 latin1.csv > utf8-latin1.csv" in problem.reason


def test_a_mapping_with_a_byte_order_mark_is_read(node: Node, tmp_path: Path) -> None:
    mapping = tmp_path / "bom-mapping.json"
    mapping.write_bytes(b"\xef\xbb\xbf" + MAPPING.read_bytes())
    assert ingest_csv(node, GOOD, mapping, "ana").reports == 1


def test_a_bundle_with_a_byte_order_mark_is_read(node: Node, tmp_path: Path) -> None:
    bundle = tmp_path / "bom-bundle.json"
    bundle.write_bytes(b"\xef\xbb\xbf" + (DATA / "convoy-bundle.json").read_bytes())
    assert ingest_file(node, bundle, submitter="ana").reports == 1


def test_a_field_too_long_to_read_is_named_by_its_column_with_the_limits(node: Node, tmp_path: Path) -> None:
    fields = ROW.split(",")
    fields[-1] = "x" * 140_000  # notas, the last column
    path = tmp_path / "long.csv"
    path.write_text(f"{HEADER}\n{ROW}\n{','.join(fields)}\n", encoding="utf-8")
    assert refused(node, path) == [
        Problem(
            "notas",
            "the field is longer than 131,072 characters, the most a CSV field may hold; shorten it "
            "(tearline's longest texts, a report's title and portions, hold at most 100,000 characters)",
            "line 3",
        )
    ]
