"""export_bundle: only what the user may see, every object valid STIX 2.1 with resolvable references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tearline.errors import InvalidInput
from tearline.ingest import export_bundle, ingest_bundle
from tearline.node import Node
from tearline.stix import ids
from tests.stix.factories import by_type, make_node, one, sample_bundle, validator_errors

SOURCE_TEXT = "The reporting source met the company's dispatcher twice in Gómez Palacio."
VETTED_TEXT = "The vetted unit plans to follow the convoy past Jiménez, Chihuahua."
WITHHELD = "[withheld: source grade B2]"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    from tearline import clock
    from tests.stix.factories import NOW

    with clock.frozen_at(NOW):
        node = make_node(tmp_path_factory.mktemp("export") / "us")
        ingest_bundle(node, sample_bundle(), "ana")
    return node


def portions(bundle: dict[str, Any]) -> list[str]:
    return list(one(bundle, "report")["extensions"][ids.EXT_REPORT].get("portions", []))


@pytest.mark.parametrize("username", ["ana", "hugo", "mario", "claire"])
def test_every_exported_object_is_valid_stix_with_no_dangling_reference(node: Node, username: str) -> None:
    assert validator_errors(export_bundle(node, username)) == []


def test_the_originator_agency_in_the_vetted_unit_sees_everything(node: Node) -> None:
    bundle = export_bundle(node, "ana")
    assert SOURCE_TEXT in portions(bundle) and VETTED_TEXT in portions(bundle)
    assert len(one(bundle, "report")["object_refs"]) == 10


def test_a_mexican_analyst_in_the_fusion_centre_sees_neither_the_noforn_nor_the_compartment(node: Node) -> None:
    bundle = export_bundle(node, "mario")
    assert portions(bundle) == [
        "Three tractor-trailers of Fletes del Nazas left Torreón northbound on Highway 49 toward Ciudad Juárez.",
        "A contact at the port of Vancouver receives containers consigned by the same company.",
    ]
    markings = [md["extensions"].get(ids.EXT_MARKING, {}) for md in by_type(bundle, "marking-definition")]
    assert not any("NOFORN" in m.get("controls", []) or m.get("compartments") for m in markings)
    person = one(bundle, "identity", identity_class="individual")
    assert person["description"] == WITHHELD
    assert one(bundle, "report")["extensions"][ids.EXT_REPORT]["banner"] == "SECRET//REL TO USA, MEX"


def test_source_sensitive_text_shows_the_grade_to_another_us_agency(node: Node) -> None:
    bundle = export_bundle(node, "hugo")
    assert WITHHELD in portions(bundle)
    assert SOURCE_TEXT not in portions(bundle) and VETTED_TEXT not in portions(bundle)
    sources = one(bundle, "report")["extensions"][ids.EXT_REPORT]["sources"]
    assert len(sources) == 3 + 10  # what hugo sees, and nothing else


def test_a_partner_outside_the_workspace_gets_no_report(node: Node) -> None:
    bundle = export_bundle(node, "claire")
    assert by_type(bundle, "report") == [] and by_type(bundle, "marking-definition") == []


def test_an_unknown_user_is_refused(node: Node) -> None:
    with pytest.raises(InvalidInput):
        export_bundle(node, "nobody")


def test_an_export_reingests_on_a_node_that_knows_the_same_registry(node: Node, tmp_path: Path) -> None:
    other = make_node(tmp_path / "other")
    result = ingest_bundle(other, export_bundle(node, "mario"), "ana")
    assert (result.reports, result.portions) == (1, 2)
