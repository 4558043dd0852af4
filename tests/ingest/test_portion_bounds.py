"""A portion's text is bounded on every way in (`tearline.store.drafts.PORTION_TEXT_LIMIT`): a STIX
bundle and a CSV mapping are refused whole, naming the portion, on every database. (The API's
refusals, named by body path, are in tests/web/test_report_body_refusals.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tearline import clock
from tearline.errors import InvalidInput, Problem
from tearline.ingest import ingest_bundle, ingest_csv
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.policy.host import add_workspace
from tearline.store import registry as reg
from tearline.store.drafts import PORTION_TEXT_LIMIT
from tests.stix.factories import WORKSPACE, row_counts, sample_bundle

HUGE = "x" * 2_000_000
TOO_LONG = f"must be at most {PORTION_TEXT_LIMIT} characters (it has {len(HUGE)})"
MARKING = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}


def _refused(call: Callable[[], object]) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return caught.value.problems


def _knows_the_sample_bundles_agencies(node: Node) -> None:
    """What `tests.stix.factories.make_node` registers, on this test's node (of either database)."""
    with node.db.write() as session:
        for name, nation in (("DEA-DEMO", "USA"), ("HSI-DEMO", "USA"), ("FGR-DEMO", "MEX"), ("RCMP-DEMO", "CAN")):
            reg.add_agency(session, name, nation, True)
        reg.add_compartment(session, "VU-NORTE", ["DEA-DEMO", "FGR-DEMO"])
        add_workspace(session, WORKSPACE, "Centro de fusión norte", "MEX")


def test_a_bundle_with_a_2000000_character_portion_is_refused_naming_it(node: Node) -> None:
    _knows_the_sample_bundles_agencies(node)
    bundle = sample_bundle()
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    extension = next(iter(report["extensions"].values()))
    extension["portions"][1] = HUGE
    problems = _refused(lambda: ingest_bundle(node, bundle, SERVICE_ACCOUNT))
    assert problems == [Problem("portion 2.text", TOO_LONG, report["id"])]
    assert row_counts(node) == (0, 0, 0)


def test_a_csv_mapping_with_a_2000000_character_portion_is_refused_naming_it(node: Node, tmp_path: Path) -> None:
    mapping = {
        "report": {
            "title": "Phones of the Nogales couriers",
            "predicate": "Reasonable suspicion of bulk cash smuggling (fictional test case).",
            "review_due": clock.stix_timestamp(clock.now() + timedelta(days=365)),
            "portions": ["A summary paragraph.", HUGE],
        },
        "marking": MARKING,
        "records": {"person": {"name": "name"}},
    }
    (tmp_path / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
    (tmp_path / "people.csv").write_text("name\nEvaristo Luján Carmona\n", encoding="utf-8")
    problems = _refused(lambda: ingest_csv(node, tmp_path / "people.csv", tmp_path / "mapping.json", SERVICE_ACCOUNT))
    assert [(p.field, p.reason) for p in problems] == [("portion 2.text", TOO_LONG)]
    assert row_counts(node) == (0, 0, 0)
