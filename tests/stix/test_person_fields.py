"""A person's canonical fields travel on an identity as tearline's person property-extension.

They went out as the bare custom property `x_tearline_person`, which stix2-validator warns about
({401}: STIX 2.1 §7.3 wants a property-extension). They now go out as
`extensions.<EXT_PERSON>`, with its extension-definition in the bundle; the custom property is
still read on the way in (older nodes and files), and the store keeps one form whichever came.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tearline.db.models import StixObject
from tearline.errors import InvalidInput
from tearline.ingest import export_bundle, ingest_bundle
from tearline.node import Node
from tearline.resolve.entities import person_of
from tearline.stix import ids
from tearline.stix.definitions import extension_definition
from tests.stix.factories import make_node, one, sample_bundle, validator_errors

PERSON = {"dob": "1981-07-03", "national_id": "HEGJ810703HCLRRS09", "phones": "+52 81 1234 5678"}
EXT = f"extensions.{ids.EXT_PERSON}"


def _person(bundle: dict[str, Any]) -> dict[str, Any]:
    return one(bundle, "identity", identity_class="individual")


def _with_custom_property(fields: object) -> dict[str, Any]:
    """The form older nodes send: a bare custom property."""
    bundle = sample_bundle()
    _person(bundle)["x_tearline_person"] = fields
    return bundle


def _with_extension(extension: object) -> dict[str, Any]:
    bundle = sample_bundle()
    _person(bundle)["extensions"] = {ids.EXT_PERSON: extension}
    bundle["objects"].insert(0, extension_definition(ids.EXT_PERSON))
    return bundle


def _stored_body(node: Node, stix_id: str) -> dict[str, Any]:
    with node.db.read() as session:
        body = session.scalar(select(StixObject.body).where(StixObject.stix_id == stix_id))
    assert body is not None
    return dict(body)


def _refused(bundle: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        ingest_bundle(make_node(tmp_path / "us"), bundle, "ana")
    return {p.field: p.reason for p in refused.value.problems}


def _validator_warnings(bundle: dict[str, Any]) -> list[str]:
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1")
    return [str(w) for obj in bundle["objects"] for w in validate_instance(obj, options).warnings]


def test_an_exported_person_carries_its_fields_in_the_extension_and_the_validator_does_not_warn(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "us")
    ingest_bundle(node, _with_custom_property(PERSON), "ana")
    exported = export_bundle(node, "ana")
    person = _person(exported)
    assert "x_tearline_person" not in person
    assert person["extensions"] == {ids.EXT_PERSON: {"extension_type": "property-extension", **PERSON}}
    definition = one(exported, "extension-definition", id=ids.EXT_PERSON)
    assert definition["extension_types"] == ["property-extension"]
    assert definition["schema"].startswith("tearline STIX profile v1") and definition["version"] == "1.0.0"
    assert validator_errors(exported) == []
    assert not [w for w in _validator_warnings(exported) if "{401}" in w]


def test_a_bundle_without_person_fields_names_no_person_extension(tmp_path: Path) -> None:
    node = make_node(tmp_path / "us")
    ingest_bundle(node, sample_bundle(), "ana")
    exported = export_bundle(node, "ana")
    assert ids.EXT_PERSON not in {o["id"] for o in exported["objects"]}
    assert "extensions" not in _person(exported)


def test_the_old_custom_property_and_the_extension_are_stored_and_resolved_alike(tmp_path: Path) -> None:
    old, new = make_node(tmp_path / "old"), make_node(tmp_path / "new")
    ingest_bundle(old, _with_custom_property(PERSON), "ana")
    ingest_bundle(new, _with_extension({"extension_type": "property-extension", **PERSON}), "ana")
    person_id = _person(sample_bundle())["id"]
    stored_old, stored_new = _stored_body(old, person_id), _stored_body(new, person_id)
    assert stored_old == stored_new
    assert stored_new["x_tearline_person"] == PERSON and "extensions" not in stored_new
    read_old, read_new = person_of(stored_old, "old"), person_of(stored_new, "new")
    assert read_old.dob is not None and (read_old.dob.year, read_old.dob.month, read_old.dob.day) == (1981, 7, 3)
    assert read_old.national_id == read_new.national_id == "HEGJ810703HCLRRS09"
    assert read_old.phones == read_new.phones and read_old.phones
    assert (read_old.dob, read_old.name) == (read_new.dob, read_new.name)
    # Both export one form, byte for byte.
    assert export_bundle(old, "ana") == export_bundle(new, "ana")


def test_an_exported_person_ingests_again_on_another_node(tmp_path: Path) -> None:
    first, second = make_node(tmp_path / "first"), make_node(tmp_path / "second")
    ingest_bundle(first, _with_custom_property(PERSON), "ana")
    exported = export_bundle(first, "ana")
    ingest_bundle(second, exported, "ana")
    again = export_bundle(second, "ana")
    assert _person(again)["extensions"][ids.EXT_PERSON] == {"extension_type": "property-extension", **PERSON}
    assert person_of(_stored_body(second, _person(again)["id"]), "second").national_id == "HEGJ810703HCLRRS09"


def test_person_fields_that_are_not_an_object_are_refused_naming_the_property(tmp_path: Path) -> None:
    found = _refused(_with_custom_property("1981-07-03"), tmp_path)
    assert "object of person fields" in found["x_tearline_person"]


def test_an_extension_that_is_not_an_object_is_refused_naming_its_path(tmp_path: Path) -> None:
    found = _refused(_with_extension("1981-07-03"), tmp_path)
    assert list(found) == [EXT]
    assert "must be an object" in found[EXT]


def test_a_person_field_of_the_wrong_type_is_refused_naming_its_path(tmp_path: Path) -> None:
    extension = {"extension_type": "property-extension", **PERSON, "dob": ["1981-07-03"], "national_id": True}
    found = _refused(_with_extension(extension), tmp_path)
    assert set(found) == {f"{EXT}.dob", f"{EXT}.national_id"}
    assert found[f"{EXT}.dob"] == "must be a string (or an integer)"
    found = _refused(_with_custom_property({**PERSON, "phones": {"mobile": "+52 81 1234 5678"}}), tmp_path / "old")
    assert found == {"x_tearline_person.phones": "must be a string (or an integer)"}


def test_an_extension_of_another_type_is_refused_naming_its_extension_type(tmp_path: Path) -> None:
    found = _refused(_with_extension({"extension_type": "toplevel-property-extension", **PERSON}), tmp_path)
    assert found == {f"{EXT}.extension_type": "must be 'property-extension'"}


def test_person_fields_given_both_ways_at_once_are_refused(tmp_path: Path) -> None:
    bundle = _with_extension({"extension_type": "property-extension", **PERSON})
    _person(bundle)["x_tearline_person"] = {"dob": "1990-01-01"}
    found = _refused(bundle, tmp_path)
    assert list(found) == ["x_tearline_person"] and "given twice" in found["x_tearline_person"]


def test_an_unknown_extension_on_a_person_is_refused_not_dropped(tmp_path: Path) -> None:
    bundle = sample_bundle()
    other = "extension-definition--3b2f1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    _person(bundle)["extensions"] = {other: {"extension_type": "property-extension", "dob": "1981-07-03"}}
    found = _refused(bundle, tmp_path)
    assert f"extensions.{other}" in found
