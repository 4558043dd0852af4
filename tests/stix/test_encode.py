"""bundle_for: reader views -> a valid, deterministic STIX 2.1 bundle that decodes back to the same content."""

from __future__ import annotations

from datetime import UTC, datetime

from tearline.identifiers import id_type
from tearline.markings.marking import Marking
from tearline.stix import bundle_for, bundle_to_drafts, ids
from tearline.store.reads import ObjectView, PortionView, ReportView
from tests.stix.factories import by_type, one, registry, validator_errors


def _marking(*rel_to: str, **extra: object) -> Marking:
    return Marking("USA", "DEA-DEMO", "SECRET", frozenset(rel_to), **extra)  # type: ignore[arg-type]


REL_MEX = _marking("USA", "MEX")
AMBER = _marking("USA", "MEX", "CAN", tlp="AMBER")
PHONE = "x-tearline-phone--9b1f3f4e-6a57-4b52-9c64-0a6b2f1d1e01"
PERSON = "identity--9b1f3f4e-6a57-4b52-9c64-0a6b2f1d1e02"
WHEN = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _view(title: str | None = "Phones of the Laguna cell", objects: bool = True) -> ReportView:
    return ReportView(
        stix_id="report--9b1f3f4e-6a57-4b52-9c64-0a6b2f1d1e00",
        version=1,
        versions=1,
        title=title,
        title_marking=REL_MEX if title else None,
        banner="SECRET//REL TO USA, MEX",
        portions=[
            PortionView(1, "A phone used by the cell's logistics chief.", REL_MEX, "a" * 64),
            PortionView(2, "The phone also called a Vancouver number.", AMBER, "b" * 64),
        ],
        objects=[
            ObjectView(PHONE, "x-tearline-phone", "+525555550100", {"number": "+525555550100"}, REL_MEX, "r", "c" * 64),
            ObjectView(
                PERSON,
                "identity",
                "Rosendo Ibarra Solís",
                {"name": "Rosendo Ibarra Solís", "identity_class": "individual"},
                REL_MEX,
                "r",
                "d" * 64,
            ),
        ]
        if objects
        else [],
        predicate="Reasonable suspicion of drug trafficking.",
        need_to_know="Laguna cell case team.",
        review_due=datetime(2027, 12, 31, tzinfo=UTC),
        created_at=WHEN,
    )


def test_every_object_validates_and_every_reference_resolves() -> None:
    bundle = bundle_for([_view()], "USA", "DEA-DEMO", {_view().stix_id: "fc-norte"})
    assert validator_errors(bundle) == []


def test_the_bundle_is_deterministic() -> None:
    first = bundle_for([_view()], "USA", "DEA-DEMO")
    assert first == bundle_for([_view()], "USA", "DEA-DEMO")
    assert id_type(first["id"]) == "bundle"


def test_portions_are_addressed_by_granular_markings_with_their_tlp_label() -> None:
    report = one(bundle_for([_view()], "USA", "DEA-DEMO"), "report")
    selectors = {g["marking_ref"]: g["selectors"] for g in report["granular_markings"]}
    assert selectors[ids.marking_definition_id(REL_MEX)] == ["name", ids.portion_selector(0)]
    assert selectors[ids.marking_definition_id(AMBER)] == [ids.portion_selector(1)]
    assert selectors[ids.TLP2_IDS["AMBER"]] == [ids.portion_selector(1)]


def test_a_marking_definition_carries_the_marking_in_the_tearline_extension() -> None:
    bundle = bundle_for([_view()], "USA", "DEA-DEMO")
    md = one(bundle, "marking-definition", id=ids.marking_definition_id(AMBER))
    ext = md["extensions"][ids.EXT_MARKING]
    assert ext["extension_type"] == "property-extension"
    assert (ext["level"], ext["rel_to"], ext["tlp"]) == ("SECRET", ["CAN", "MEX", "USA"], "AMBER")
    assert "controls" not in ext  # STIX forbids empty lists
    ext_def = one(bundle, "extension-definition", id=ids.EXT_MARKING)
    assert ext_def["extension_types"] == ["property-extension"]
    assert ext_def["created_by_ref"] == ids.TEARLINE_IDENTITY


def test_the_bundle_decodes_back_to_the_same_content() -> None:
    [draft] = bundle_to_drafts(bundle_for([_view()], "USA", "DEA-DEMO"), registry())
    assert draft.title.text == "Phones of the Laguna cell"
    assert [(p.text, p.marking) for p in draft.portions] == [(p.text, p.marking) for p in _view().portions]
    assert {(o.stix_id, o.marking) for o in draft.objects} == {(PHONE, REL_MEX), (PERSON, REL_MEX)}
    assert draft.need_to_know == "Laguna cell case team."


def test_a_hidden_title_becomes_a_placeholder_marked_like_a_visible_item() -> None:
    bundle = bundle_for([_view(title=None)], "USA", "DEA-DEMO")
    assert validator_errors(bundle) == []
    [draft] = bundle_to_drafts(bundle, registry())
    assert (draft.title.text, draft.title.marking) == ("[title withheld]", REL_MEX)


def test_a_report_without_visible_objects_names_its_producer() -> None:
    bundle = bundle_for([_view(objects=False)], "USA", "DEA-DEMO")
    assert validator_errors(bundle) == []
    assert one(bundle, "report")["object_refs"] == [ids.node_identity_id("USA", "DEA-DEMO")]
    assert by_type(bundle, "x-tearline-phone") == []
    [draft] = bundle_to_drafts(bundle, registry())
    assert draft.objects == ()
