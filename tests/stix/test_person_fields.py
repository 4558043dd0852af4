"""A person's canonical fields (`x_tearline_person`) travel on an identity through every way in and out.

Entity resolution reads them (docs/resolve.md) and the API accepted them, but a bundle refused them
as "not a property tearline stores": an export of such a person could not be ingested again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tearline.errors import InvalidInput
from tearline.ingest import export_bundle, ingest_bundle
from tests.stix.factories import make_node, one, sample_bundle, validator_errors

PERSON = {"dob": "1981-07-03", "national_id": "HEGJ810703HCLRRS09", "phones": "+52 81 1234 5678"}


def _with_person_fields(fields: object) -> dict[str, object]:
    bundle = sample_bundle()
    one(bundle, "identity", identity_class="individual")["x_tearline_person"] = fields
    return bundle


def test_a_person_with_canonical_fields_ingests_exports_and_ingests_again(tmp_path: Path) -> None:
    first, second = make_node(tmp_path / "first"), make_node(tmp_path / "second")
    ingest_bundle(first, _with_person_fields(PERSON), "ana")
    exported = export_bundle(first, "ana")
    assert one(exported, "identity", identity_class="individual")["x_tearline_person"] == PERSON
    assert validator_errors(exported) == []
    ingest_bundle(second, exported, "ana")
    assert one(export_bundle(second, "ana"), "identity", identity_class="individual")["x_tearline_person"] == PERSON


def test_person_fields_that_are_not_an_object_are_refused_naming_the_property(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        ingest_bundle(make_node(tmp_path / "us"), _with_person_fields("1981-07-03"), "ana")
    assert any(p.field == "x_tearline_person" and "object of person fields" in p.reason for p in refused.value.problems)
