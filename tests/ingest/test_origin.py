"""Ingest stores this node's nation's reports only: a partner's come from its node, under a release.

Stored as our own, a partner-originated item would be live with no release behind it and out of
reach of the partner's recall. The API's liaison notes are another matter (tests/web/test_writes_api.py):
a liaison writes as their own agency, accountable on this node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tearline.errors import InvalidInput
from tearline.ingest import ingest_bundle
from tearline.markings.marking import marking_from_dict
from tearline.node import Node
from tearline.stix import marking_definition_id
from tests.stix.factories import make_node, registry, row_counts, sample_bundle

EXTENSION = "extension-definition--1e9f3962-c142-5718-890f-2cf14928055f"


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "us")


def _one_marking_from(bundle: dict[str, Any], nation: str, agency: str, level: str) -> dict[str, Any]:
    """The bundle with its first marking definition now originated by (nation, agency), its id recomputed."""
    definition = next(o for o in bundle["objects"] if o["type"] == "marking-definition")
    body = definition["extensions"][EXTENSION]
    body["originator"], body["level"] = {"nation": nation, "agency": agency}, level
    raw = {k: v for k, v in body.items() if k != "extension_type"}
    new_id = marking_definition_id(marking_from_dict(raw, registry()))
    return json.loads(json.dumps(bundle).replace(definition["id"], new_id))  # type: ignore[no-any-return]


def test_a_bundle_marked_by_a_partner_is_refused_whole_naming_each_item(node: Node) -> None:
    bundle = _one_marking_from(sample_bundle(), "MEX", "FGR-DEMO", "SECRETA")
    before = row_counts(node)
    with pytest.raises(InvalidInput) as refused:
        ingest_bundle(node, bundle, "ana")
    foreign = [p for p in refused.value.problems if p.field.endswith("marking.originator")]
    assert foreign, refused.value.problems
    assert all("of this node's nation, USA" in p.reason and "under a release" in p.reason for p in foreign)
    assert row_counts(node) == before


def test_a_bundle_of_another_agency_of_our_nation_is_stored(node: Node) -> None:
    # Sharing between two agencies of one nation is not a release (DESIGN §3.5): HSI's report is ours to hold.
    bundle = _one_marking_from(sample_bundle(), "USA", "HSI-DEMO", "SECRET")
    before = row_counts(node)
    ingest_bundle(node, bundle, "ana")
    assert row_counts(node)[0] == before[0] + 1
