"""A CSV file marked as a partner's is refused once, naming the mapping's field or the column and
line that gave the originator, never each STIX id tearline made for its rows (on every database)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tearline import clock
from tearline.errors import InvalidInput, Problem
from tearline.ingest import ingest_csv
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store import registry as reg
from tests.stix.factories import row_counts

OURS = {"nation": "USA", "agency": "US-DEMO-NARC"}
THEIRS = {"nation": "MEX", "agency": "MX-DEMO-FIA"}
FOREIGN = "must be of this node's nation, USA: a partner's reports come from its own node under a release"


@pytest.fixture
def partner_known(node: Node) -> Node:
    with node.db.write() as session:
        reg.add_agency(session, "MX-DEMO-FIA", "MEX", True)
    return node


def _refused(node: Node, tmp_path: Path, csv_text: str, **mapping: Any) -> list[Problem]:
    raw: dict[str, Any] = {
        "report": {
            "title": "Phones of the Nogales couriers",
            "predicate": "Reasonable suspicion of bulk cash smuggling (fictional test case).",
            "review_due": clock.stix_timestamp(clock.now() + timedelta(days=365)),
        },
        "marking": {"originator": OURS, "level": "SECRET", "rel_to": ["USA", "MEX"]},
        "records": {"person": {"name": "name"}, "phone": {"number": "phone"}},
        "relationships": [{"source": "person", "type": "uses", "target": "phone"}],
    } | mapping
    (tmp_path / "mapping.json").write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "people.csv").write_text(csv_text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        ingest_csv(node, tmp_path / "people.csv", tmp_path / "mapping.json", SERVICE_ACCOUNT)
    assert row_counts(node) == (0, 0, 0)
    return caught.value.problems


def test_a_mapping_marked_as_a_partners_is_one_problem_naming_its_field(partner_known: Node, tmp_path: Path) -> None:
    rows = "name,phone\nEvaristo Luján Carmona,+15555550101\nRamiro Tadeo Olvera,+15555550102\n"
    marking = {"originator": THEIRS, "level": "SECRETA", "rel_to": ["USA", "MEX"]}
    assert _refused(partner_known, tmp_path, rows, marking=marking) == [
        Problem("marking.originator", FOREIGN, "mapping")
    ]


def test_rows_marked_as_a_partners_by_a_column_are_named_by_column_and_line(
    partner_known: Node, tmp_path: Path
) -> None:
    rows = (
        "name,phone,nation,agency,level\n"
        "Evaristo Luján Carmona,+15555550101,,,\n"
        "Ramiro Tadeo Olvera,,MEX,MX-DEMO-FIA,SECRETA\n"
    )
    columns = {"originator_nation": "nation", "originator_agency": "agency", "level": "level"}
    assert _refused(partner_known, tmp_path, rows, marking_columns=columns) == [Problem("nation", FOREIGN, "line 3")]


def test_a_mapping_marking_with_an_unknown_agency_is_one_problem_not_one_a_row(node: Node, tmp_path: Path) -> None:
    rows = "name,phone\nEvaristo Luján Carmona,+15555550101\nRamiro Tadeo Olvera,+15555550102\n"
    marking = {"originator": {"nation": "USA", "agency": "US-NO-SUCH"}, "level": "SECRET", "rel_to": ["USA"]}
    problems = _refused(node, tmp_path, rows, marking=marking)
    assert len(problems) == 1, problems
    assert (problems[0].field, problems[0].item) == ("marking.originator.agency", "mapping")
    assert "US-NO-SUCH" in problems[0].reason
