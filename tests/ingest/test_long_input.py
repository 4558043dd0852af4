"""Over-long strings in files to ingest: refused whole, naming the field and its limit, on every database."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tearline import clock
from tearline.errors import InvalidInput, Problem
from tearline.ingest import ingest_bundle, ingest_csv
from tearline.node import SERVICE_ACCOUNT, Node
from tests.stix.factories import row_counts, sample_bundle

LONG = "x" * 300
MARKING = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}


def _refused(call: Any) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return caught.value.problems


def _csv_with_report_id(node: Node, tmp_path: Path, report_id: str) -> list[Problem]:
    """The problems of ingesting a one-person CSV file whose mapping gives the report this id."""
    mapping = {
        "report": {
            "id": report_id,
            "title": "Phones of the Nogales couriers",
            "predicate": "Reasonable suspicion of bulk cash smuggling (fictional test case).",
            "review_due": clock.stix_timestamp(clock.now() + timedelta(days=365)),
        },
        "marking": MARKING,
        "records": {"person": {"name": "name"}},
    }
    (tmp_path / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
    (tmp_path / "people.csv").write_text("name\nEvaristo Luján Carmona\n", encoding="utf-8")
    return _refused(lambda: ingest_csv(node, tmp_path / "people.csv", tmp_path / "mapping.json", SERVICE_ACCOUNT))


def test_a_csv_mapping_whose_report_id_is_longer_than_its_column_is_refused_and_nothing_is_stored(
    node: Node, tmp_path: Path
) -> None:
    problems = _csv_with_report_id(node, tmp_path, f"report--{LONG}")

    assert ("id", "must be at most 64 characters (it has 308)") in [(p.field, p.reason) for p in problems]
    assert {p.field for p in problems} == {"id"}  # its form, too, is not a STIX id's
    assert row_counts(node) == (0, 0, 0)


def test_a_bundle_object_whose_type_part_is_300_characters_is_refused_naming_its_type(node: Node) -> None:
    """A guard: the type must be one tearline stores, so the id it starts never outgrows its column."""
    bundle = sample_bundle()
    person = next(o for o in bundle["objects"] if o.get("identity_class") == "individual")
    kind = "x-" + "a" * 298
    long_id = f"{kind}--{uuid.uuid4()}"
    changed = copy.deepcopy(person) | {"type": kind, "id": long_id}
    bundle["objects"].append(changed)

    problems = _refused(lambda: ingest_bundle(node, bundle, SERVICE_ACCOUNT))

    assert any(p.field == "type" and p.item == long_id and "unknown type" in p.reason for p in problems)
    assert row_counts(node) == (0, 0, 0)


@pytest.mark.parametrize("report_id", ["foo", "report--not-a-uuid", "identity--6f0b8a2e-3c1d-4e5f-9a7b-0c1d2e3f4a5b"])
def test_a_csv_mapping_whose_report_id_is_not_a_stix_report_id_is_refused(
    node: Node, tmp_path: Path, report_id: str
) -> None:
    problems = _csv_with_report_id(node, tmp_path, report_id)

    assert [p.field for p in problems] == ["id"] and "report--<uuid>" in problems[0].reason
    assert row_counts(node) == (0, 0, 0)
