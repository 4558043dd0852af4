"""ingest_bundle: every report of a bundle in one transaction, all or nothing; export and re-ingest round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tearline.errors import InvalidInput, Problem
from tearline.ingest import export_bundle, ingest_bundle, ingest_file
from tearline.ingest.store import principal_named
from tearline.node import Node
from tearline.stix import ids
from tearline.store.reader_versions import visible_reports
from tearline.store.reads import ReportView
from tests.stix.factories import DATA, by_type, make_node, one, row_counts, sample_bundle


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "us")


def visible(node: Node, username: str) -> list[tuple[Any, ...]]:
    """What a principal sees, without storage details (hashes, timestamps)."""
    with node.db.read() as session:
        principal = principal_named(session, username, "user")
    reader = node.reader(principal)
    with node.db.read() as session:
        return [_content(v) for v in visible_reports(session, reader, node.table(session))]


def _content(view: ReportView) -> tuple[Any, ...]:
    portions = [(p.number, p.text, p.marking) for p in view.portions]
    objects = sorted((o.stix_id, o.stix_type, o.name, repr(sorted(o.body.items())), o.marking) for o in view.objects)
    return (
        view.stix_id,
        view.title,
        view.title_marking,
        view.banner,
        portions,
        objects,
        view.predicate,
        view.need_to_know,
        view.review_due,
    )


def test_a_bundle_is_stored_whole(node: Node) -> None:
    result = ingest_bundle(node, sample_bundle(), "ana")
    assert (result.reports, result.portions, result.objects) == (1, 4, 10)
    assert row_counts(node) == (1, 5, 10)  # the title is a portion too
    assert "10 objects" in result.summary()


def test_progress_reports_every_item(node: Node) -> None:
    steps: list[tuple[int, int]] = []
    ingest_bundle(node, sample_bundle(), "ana", progress=lambda step, total: steps.append((step, total)))
    assert sum(s for s, _ in steps) == steps[-1][1] == 1 + 4 + 10


def test_a_bundle_file_is_ingested_by_its_extension(node: Node) -> None:
    result = ingest_file(node, DATA / "convoy-bundle.json", submitter="ana")
    assert result.report_ids == (one(sample_bundle(), "report")["id"],)


def _second_report(bundle: dict[str, Any], review_due: str) -> dict[str, Any]:
    report = dict(one(bundle, "report"))
    report["id"] = "report--5d0f3c1e-8a55-4b0a-9d2a-6c3b3a4e2f43"
    report["extensions"] = {ids.EXT_REPORT: dict(report["extensions"][ids.EXT_REPORT], review_due=review_due)}
    bundle["objects"].append(report)
    return report


def test_one_bad_report_refuses_the_whole_bundle_and_stores_nothing(node: Node) -> None:
    bundle = sample_bundle()
    bad = _second_report(bundle, "2020-01-01T00:00:00Z")  # valid STIX, but past: the store refuses it
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, bundle, "ana")
    assert [(p.item, p.field) for p in caught.value.problems] == [(bad["id"], "review_due")]
    assert row_counts(node) == (0, 0, 0)


def _refused_person(node: Node, field: str, value: str) -> tuple[str, list[Problem]]:
    """Ingest the sample bundle with one field of its person changed; it must be refused whole.
    Returns the person's id and the problems named."""
    bundle = sample_bundle()
    person = one(bundle, "identity", identity_class="individual")
    person[field] = value
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, bundle, "ana")
    assert row_counts(node) == (0, 0, 0)
    return person["id"], caught.value.problems


def test_a_structural_rejection_stores_nothing(node: Node) -> None:
    person, problems = _refused_person(node, "identity_class", "class")
    assert [(p.item, p.field) for p in problems] == [(person, "identity_class")]


def test_an_unknown_field_of_a_markings_originator_is_refused_not_dropped(node: Node) -> None:
    bundle = sample_bundle()
    md_id = next(o["object_marking_refs"][0] for o in bundle["objects"] if o.get("identity_class") == "individual")
    one(bundle, "marking-definition", id=md_id)["extensions"][ids.EXT_MARKING]["originator"]["unit"] = "VU-NORTE"
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, bundle, "ana")
    reason = "not a field of the originator; its fields are nation, agency"
    assert caught.value.problems == [Problem("marking.originator.unit", reason, md_id)]
    assert row_counts(node) == (0, 0, 0)


def test_the_same_report_twice_is_refused(node: Node) -> None:
    ingest_bundle(node, sample_bundle(), "ana")
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, sample_bundle(), "ana")
    assert "already exists" in caught.value.problems[0].reason
    assert row_counts(node) == (1, 5, 10)


def test_an_unknown_submitter_is_refused(node: Node) -> None:
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, sample_bundle(), "nobody")
    assert caught.value.problems[0].field == "submitter"
    assert row_counts(node) == (0, 0, 0)


def test_an_unknown_workspace_is_refused(node: Node) -> None:
    bundle = sample_bundle()
    one(bundle, "report")["extensions"][ids.EXT_REPORT]["workspace"] = "no-such-centre"
    with pytest.raises(InvalidInput) as caught:
        ingest_bundle(node, bundle, "ana")
    assert caught.value.problems[0].field == "workspace"


@pytest.mark.parametrize("username", ["ana", "hugo", "mario"])
def test_round_trip_through_a_second_node_keeps_what_each_reader_sees(tmp_path: Path, username: str) -> None:
    first, second = make_node(tmp_path / "first"), make_node(tmp_path / "second")
    ingest_bundle(first, sample_bundle(), "ana")
    ingest_bundle(second, export_bundle(first, "ana"), "ana")
    assert visible(second, username) == visible(first, username)
    assert by_type(export_bundle(second, username), "report") != []


def test_re_exporting_the_round_trip_gives_the_same_objects(tmp_path: Path) -> None:
    first, second = make_node(tmp_path / "first"), make_node(tmp_path / "second")
    ingest_bundle(first, sample_bundle(), "ana")
    exported = export_bundle(first, "ana")
    ingest_bundle(second, exported, "ana")
    again = export_bundle(second, "ana")
    strip = {"created", "modified", "published"}

    def content(bundle: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in o.items() if k not in strip} for o in bundle["objects"]]

    # Item hashes follow from report id, version and content, so even the sources agree.
    assert content(again) == content(exported)


def test_text_holding_nul_is_refused_naming_each_field_and_nothing_is_stored(node: Node) -> None:
    """PostgreSQL text cannot hold NUL: every database refuses it alike, before anything is stored."""
    person, problems = _refused_person(node, "name", "Jo\x00sé")
    found = {(p.item, p.field, p.reason) for p in problems}
    assert (person, "name", "must not contain NUL (U+0000)") in found
    assert all("NUL" in reason for _, _, reason in found)
    assert row_counts(node) == (0, 0, 0)
