"""bundle_to_drafts: the sample decodes into drafts; every bad bundle is refused whole, naming each problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tearline.errors import InvalidInput, Problem
from tearline.markings.marking import Marking
from tearline.stix import bundle_to_drafts, ids, marking_definition
from tearline.stix.definitions import marking_refs
from tests.stix.factories import by_type, one, registry, sample_bundle

Mutation = Callable[[dict[str, Any]], str]  # changes the bundle, returns the id of the object it broke


def problems_of(bundle: dict[str, Any]) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        bundle_to_drafts(bundle, registry())
    return caught.value.problems


def test_sample_decodes_into_one_report_with_marked_portions_and_objects() -> None:
    [draft] = bundle_to_drafts(sample_bundle(), registry())
    assert draft.title.text.startswith("Northbound convoy")
    assert [sorted(p.marking.rel_to) for p in draft.portions] == [
        ["MEX", "USA"],
        ["CAN", "MEX", "USA"],
        ["USA"],
        ["MEX", "USA"],
    ]
    assert draft.portions[1].marking.tlp == "AMBER"
    assert draft.portions[2].marking.source_fields == ("text",)
    assert draft.portions[3].marking.compartments == {"VU-NORTE"}
    assert draft.predicate.startswith("Reasonable suspicion")
    assert draft.workspace == "fc-norte"
    assert draft.review_due.year == 2028
    assert len(draft.objects) == 10


def test_objects_map_to_drafts_with_time_place_and_ends() -> None:
    [draft] = bundle_to_drafts(sample_bundle(), registry())
    objects = {o.stix_type: o for o in draft.objects if o.stix_type not in ("identity", "relationship", "location")}
    sighting, event, phone, truck = (
        objects[k] for k in ("sighting", "x-tearline-event", "x-tearline-phone", "x-tearline-vehicle")
    )
    torreon = next(o for o in draft.objects if o.name == "Torreón, Coahuila")
    assert (sighting.source_ref, sighting.target_ref) == (truck.stix_id, torreon.stix_id)
    assert sighting.observed_at is not None and sighting.observed_at.hour == 5
    assert (sighting.latitude, sighting.longitude) == (25.5428, -103.4068)
    assert (event.target_ref, event.latitude) == (torreon.stix_id, 25.5428)
    assert (phone.name, truck.name) == ("+525555550100", "FNZ-418-B")
    assert "extensions" not in truck.body and "object_marking_refs" not in truck.body
    uses = next(o for o in draft.objects if o.name == "uses")
    assert (uses.source_ref, uses.target_ref) == (uses.body["source_ref"], phone.stix_id)


def _person(bundle: dict[str, Any]) -> dict[str, Any]:
    return one(bundle, "identity", identity_class="individual")


def _sighting(bundle: dict[str, Any]) -> dict[str, Any]:
    return by_type(bundle, "sighting")[0]


def _report(bundle: dict[str, Any]) -> dict[str, Any]:
    return by_type(bundle, "report")[0]


def _ext(bundle: dict[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = _report(bundle)["extensions"][ids.EXT_REPORT]
    return ext


def unknown_type(b: dict[str, Any]) -> str:
    b["objects"].append(
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12,
            "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z",
        }
    )
    return str(b["objects"][-1]["id"])


def missing_name(b: dict[str, Any]) -> str:
    del _person(b)["name"]
    return str(_person(b)["id"])


def bad_id(b: dict[str, Any]) -> str:
    _person(b)["id"] = "identity--not-a-uuid"
    return "objects.[" + str(b["objects"].index(_person(b))) + "]"


def bad_timestamp(b: dict[str, Any]) -> str:
    _sighting(b)["first_seen"] = "yesterday at dawn"
    return str(_sighting(b)["id"])


def bad_created(b: dict[str, Any]) -> str:
    _person(b)["created"] = "2026-02-30T00:00:00Z"
    return str(_person(b)["id"])


def dangling_marking(b: dict[str, Any]) -> str:
    _person(b)["object_marking_refs"] = ["marking-definition--00000000-0000-4000-8000-000000000000"]
    return str(_person(b)["id"])


def dangling_object(b: dict[str, Any]) -> str:
    rel = by_type(b, "relationship")[0]
    rel["target_ref"] = "identity--00000000-0000-4000-8000-000000000000"
    return str(rel["id"])


def dangling_report_ref(b: dict[str, Any]) -> str:
    _report(b)["object_refs"].append("identity--00000000-0000-4000-8000-000000000001")
    return str(_report(b)["id"])


def tlp1(b: dict[str, Any]) -> str:
    _person(b)["object_marking_refs"].append("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da")
    return str(_person(b)["id"])


def no_portion_marking(b: dict[str, Any]) -> str:
    _ext(b)["portions"].append("A fifth portion that nobody marked.")
    return str(_report(b)["id"])


def no_predicate(b: dict[str, Any]) -> str:
    del _ext(b)["predicate"]
    return str(_report(b)["id"])


def unmarked_description(b: dict[str, Any]) -> str:
    _report(b)["description"] = "Free text with no marking."
    return str(_report(b)["id"])


def two_places(b: dict[str, Any]) -> str:
    juarez = one(b, "location", name="Ciudad Juárez, Chihuahua")
    _sighting(b)["where_sighted_refs"].append(juarez["id"])
    return str(_sighting(b)["id"])


def unknown_property(b: dict[str, Any]) -> str:
    _person(b)["nickname"] = "El Güero"
    return str(_person(b)["id"])


def orphan(b: dict[str, Any]) -> str:
    _report(b)["object_refs"].remove(_person(b)["id"])
    return str(_person(b)["id"])


def wrong_spec_version(b: dict[str, Any]) -> str:
    _person(b)["spec_version"] = "2.0"
    return str(_person(b)["id"])


def granular_on_object(b: dict[str, Any]) -> str:
    _person(b)["granular_markings"] = [{"marking_ref": _person(b)["object_marking_refs"][0], "selectors": ["name"]}]
    return str(_person(b)["id"])


CASES: list[tuple[Mutation, str, str]] = [
    (unknown_type, "type", "unknown type 'indicator'"),
    (missing_name, "name", "required"),
    (bad_id, "id", "is not a STIX id"),
    (bad_timestamp, "first_seen", "is not a STIX timestamp"),
    (bad_created, "created", "is not a STIX timestamp"),
    (dangling_marking, "object_marking_refs", "is not a marking-definition in this bundle"),
    (dangling_object, "target_ref", "is not in this bundle"),
    (dangling_report_ref, "object_refs", "is not an object in this bundle"),
    (tlp1, "object_marking_refs", "TLP 1.0"),
    (no_portion_marking, "granular_markings", "no marking for selector"),
    (no_predicate, f"extensions.{ids.EXT_REPORT}.predicate", "required"),
    (unmarked_description, "description", "could not carry a marking"),
    (two_places, "where_sighted_refs", "at most 1"),
    (unknown_property, "nickname", "not a property tearline stores"),
    (orphan, "id", "no report names this object"),
    (wrong_spec_version, "spec_version", "must be '2.1'"),
    (granular_on_object, "granular_markings", "marked whole"),
]


@pytest.mark.parametrize(("mutate", "field", "reason"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_rejection_names_the_object_field_and_reason(mutate: Mutation, field: str, reason: str) -> None:
    bundle = sample_bundle()
    item = mutate(bundle)
    found = problems_of(bundle)
    assert any(p.item is not None and item in p.item and p.field == field and reason in p.reason for p in found), found


def test_every_problem_of_the_bundle_is_listed_at_once() -> None:
    bundle = sample_bundle()
    items = {mutate(bundle) for mutate in (missing_name, bad_timestamp, dangling_object, no_predicate)}
    found = problems_of(bundle)
    assert items <= {p.item for p in found}


def _replace_marking(bundle: dict[str, Any], old: str, raw_ext: dict[str, Any], new_id: str | None = None) -> str:
    md = one(bundle, "marking-definition", id=old)
    md["extensions"][ids.EXT_MARKING] = raw_ext
    if new_id:
        md["id"] = new_id
    return old if new_id is None else new_id


def test_a_bad_marking_is_refused_with_the_field_marking_from_dict_names() -> None:
    bundle = sample_bundle()
    md_id = _person(bundle)["object_marking_refs"][0]
    ext = dict(one(bundle, "marking-definition", id=md_id)["extensions"][ids.EXT_MARKING])
    ext["rel_to"] = ["MEX"]  # without the originator's nation
    _replace_marking(bundle, md_id, ext)
    found = problems_of(bundle)
    assert Problem("marking.rel_to", "must include the originator's nation 'USA'", md_id) in found
    # the objects that use it are not blamed a second time for a dangling reference
    assert not any(p.field == "object_marking_refs" and p.item == _person(bundle)["id"] for p in found)


def test_a_marking_definition_id_must_follow_from_its_content() -> None:
    bundle = sample_bundle()
    md_id = _person(bundle)["object_marking_refs"][0]
    ext = dict(one(bundle, "marking-definition", id=md_id)["extensions"][ids.EXT_MARKING])
    ext["level"] = "CONFIDENTIAL"
    _replace_marking(bundle, md_id, ext)
    assert any(p.field == "id" and p.item == md_id and "expected" in p.reason for p in problems_of(bundle))


def test_an_unknown_marking_field_is_refused_not_dropped() -> None:
    bundle = sample_bundle()
    md_id = _person(bundle)["object_marking_refs"][0]
    one(bundle, "marking-definition", id=md_id)["extensions"][ids.EXT_MARKING]["releasable"] = ["CAN"]
    found = [p for p in problems_of(bundle) if p.field == "marking.releasable" and p.item == md_id]
    assert len(found) == 1, found  # once, not once per check
    assert found[0].reason.startswith("not a marking field; the fields are originator, level, rel_to")


def test_a_tlp_reference_must_agree_with_the_national_marking() -> None:
    bundle = sample_bundle()
    _person(bundle)["object_marking_refs"].append(ids.TLP2_IDS["RED"])
    found = problems_of(bundle)
    assert any(p.item == _person(bundle)["id"] and "TLP:RED" in p.reason for p in found)


def test_a_source_sensitive_field_must_be_text() -> None:
    bundle = sample_bundle()
    marking = Marking(
        "USA", "DEA-DEMO", "SECRET", frozenset({"USA", "MEX"}), source_fields=("latitude",), source_grade="B2"
    )
    bundle["objects"].append(marking_definition(marking))
    place = one(bundle, "location", name="Ciudad Juárez, Chihuahua")
    place["object_marking_refs"] = marking_refs(marking)
    found = problems_of(bundle)
    assert any(p.item == place["id"] and "latitude" in p.field and "not a text property" in p.reason for p in found)


@pytest.mark.parametrize(
    "bundle",
    [None, [], {"type": "report"}, {"type": "bundle", "id": "bundle--x", "objects": []}],
    ids=["none", "list", "not-a-bundle", "empty"],
)
def test_what_is_not_a_bundle_is_refused(bundle: Any) -> None:
    assert problems_of(bundle)


def test_a_bundle_without_reports_is_refused() -> None:
    bundle = sample_bundle()
    bundle["objects"] = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
    assert any("no report" in p.reason for p in problems_of(bundle))


def test_duplicate_ids_are_refused() -> None:
    bundle = sample_bundle()
    bundle["objects"].append(dict(_person(bundle)))
    assert any(p.field == "id" and "more than once" in p.reason for p in problems_of(bundle))


@pytest.mark.parametrize("mutate", [missing_name, no_predicate, bad_timestamp, two_places], ids=lambda m: m.__name__)
def test_one_mistake_is_reported_once_without_knock_on_problems(mutate: Mutation) -> None:
    bundle = sample_bundle()
    item = mutate(bundle)
    assert [p.item for p in problems_of(bundle)] == [item]
