"""A person who ingests (`--user`) is held to the API's rules for an author, on every database:
the analyst role, every item at most at their clearance and within their compartments. A refusal
stores nothing and is in the audit log as a denied ingest. The node's service account is the node."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tearline import clock
from tearline.audit.search import Query, search
from tearline.errors import Forbidden, InvalidInput, Problem
from tearline.ingest import ingest_bundle, ingest_csv
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.policy.host import add_workspace
from tearline.store import registry as reg
from tearline.store.principals import add_principal
from tests.stix.factories import AGENCY as SAMPLE_AGENCY
from tests.stix.factories import WORKSPACE, row_counts, sample_bundle

AGENCY = "US-DEMO-NARC"


@pytest.fixture
def people(node: Node) -> Node:
    with node.db.write() as session:
        reg.add_compartment(session, "VU-DEMO", [AGENCY])
        add_principal(session, "cui", "USA", AGENCY, "CUI", roles=["analyst"])
        add_principal(session, "sam", "USA", AGENCY, "SECRET", roles=["analyst"])
        add_principal(session, "dan", "USA", AGENCY, "SECRET", roles=["disclosure_officer"])
    return node


def _files(tmp_path: Path, rows: str = "Evaristo Luján Carmona\n", **marking: Any) -> tuple[Path, Path]:
    mapping: dict[str, Any] = {
        "report": {
            "title": "Phones of the Nogales couriers",
            "predicate": "Reasonable suspicion of bulk cash smuggling (fictional test case).",
            "review_due": clock.stix_timestamp(clock.now() + timedelta(days=365)),
        },
        "marking": {"originator": {"nation": "USA", "agency": AGENCY}, "level": "SECRET", "rel_to": ["USA"]} | marking,
        "records": {"person": {"name": "name"}},
    }
    if "," in rows:  # a second column: each row's level
        mapping["marking_columns"] = {"level": "level"}
    (tmp_path / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
    (tmp_path / "people.csv").write_text(f"name{',level' if ',' in rows else ''}\n{rows}", encoding="utf-8")
    return tmp_path / "people.csv", tmp_path / "mapping.json"


def _denied(node: Node, actor: str) -> list[str | None]:
    with node.db.read() as session:
        page = search(session, Query(actor=f"{actor}@{AGENCY}", action="ingest", outcome="denied"))
    return [hit.event.rule for hit in page.hits]


def test_an_analyst_cannot_ingest_above_their_clearance(people: Node, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        ingest_csv(people, *_files(tmp_path), "cui")
    assert {(p.field, p.reason) for p in refused.value.problems} == {
        ("marking.level", "SECRET is above your clearance, CUI")
    }
    assert row_counts(people) == (0, 0, 0)
    assert _denied(people, "cui") == ["1-clearance"]


@pytest.mark.parametrize("compartment", ["VU-DEMO", "VU-NINGUNA"], ids=["exists-not-held", "does-not-exist"])
def test_a_compartment_not_held_is_refused_as_one_that_does_not_exist(
    people: Node, tmp_path: Path, compartment: str
) -> None:
    # Before, VU-DEMO was "you do not hold VU-DEMO" and VU-NINGUNA "unknown compartment": the
    # difference told the submitter which compartments exist, a name that is itself compartmented.
    with pytest.raises(InvalidInput) as refused:
        ingest_csv(people, *_files(tmp_path, compartments=[compartment]), "sam")
    reason = f"unknown compartment {compartment!r}"  # the mapping's marking, which the report's title takes too
    assert [(p.field, p.reason) for p in refused.value.problems] == [("marking.compartments", reason)]
    assert row_counts(people) == (0, 0, 0)
    assert _denied(people, "sam") == ["invalid"]  # logged alike, as the API logs a refused write


@pytest.mark.parametrize("compartment", ["VU-NORTE", "VU-NINGUNA"], ids=["exists-not-held", "does-not-exist"])
def test_a_bundle_in_a_compartment_not_held_is_refused_as_one_that_does_not_exist(
    people: Node, compartment: str
) -> None:
    with people.db.write() as session:
        for agency, nation in ((SAMPLE_AGENCY, "USA"), ("FGR-DEMO", "MEX"), ("RCMP-DEMO", "CAN")):
            reg.add_agency(session, agency, nation, True)
        reg.add_compartment(session, "VU-NORTE", [SAMPLE_AGENCY])
        add_workspace(session, WORKSPACE, "Centro de fusión norte", "MEX")
    bundle = json.loads(json.dumps(sample_bundle()).replace("VU-NORTE", compartment))
    with pytest.raises(InvalidInput) as refused:
        ingest_bundle(people, bundle, "sam")
    assert {p.reason for p in refused.value.problems} == {f"unknown compartment {compartment!r}"}
    assert row_counts(people) == (0, 0, 0)
    assert _denied(people, "sam") == ["invalid"]
    assert ingest_bundle(people, sample_bundle(), SERVICE_ACCOUNT).reports == 1  # the node knows VU-NORTE


def test_only_an_analyst_may_ingest(people: Node, tmp_path: Path) -> None:
    with pytest.raises(Forbidden) as refused:
        ingest_csv(people, *_files(tmp_path), "dan")
    assert refused.value.message == "submitter 'dan': writing reports needs the analyst role"
    assert row_counts(people) == (0, 0, 0)
    assert _denied(people, "dan") == ["analyst-role"]


@pytest.mark.parametrize("submitter", ["sam", SERVICE_ACCOUNT], ids=["analyst", "service-account"])
def test_an_analyst_within_their_reach_and_the_service_account_still_ingest(
    people: Node, tmp_path: Path, submitter: str
) -> None:
    assert ingest_csv(people, *_files(tmp_path), submitter).reports == 1
    assert row_counts(people)[0] == 1
    assert _denied(people, submitter) == []


def test_a_csv_submitter_is_told_the_mapping_field_or_the_column_and_line_never_a_stix_id(
    people: Node, tmp_path: Path
) -> None:
    # Before, one problem per item: the title and every object by the STIX id tearline made for it.
    files = _files(tmp_path, "Evaristo Luján Carmona,\nRamiro Tadeo Olvera,SECRET\nIgnacio Bernal,\n", level="CUI")
    with pytest.raises(InvalidInput) as refused:
        ingest_csv(people, *files, "cui")
    assert refused.value.problems == [Problem("level", "SECRET is above your clearance, CUI", "line 3")]
    with pytest.raises(InvalidInput) as refused:
        ingest_csv(people, *_files(tmp_path, "Evaristo Luján Carmona\nRamiro Tadeo Olvera\n"), "cui")
    assert refused.value.problems == [Problem("marking.level", "SECRET is above your clearance, CUI", "mapping")]
