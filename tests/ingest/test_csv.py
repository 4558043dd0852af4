"""CSV with a column mapping: a good file becomes one report; a bad one is refused whole, line by line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tearline.errors import InvalidInput, Problem
from tearline.ingest import export_bundle, ingest_csv, ingest_file
from tearline.ingest.phones import normalise_phone
from tearline.node import Node
from tests.stix.factories import DATA, by_type, make_node, one, row_counts, validator_errors

GOOD, BAD, MAPPING = DATA / "vehicles.csv", DATA / "vehicles-bad.csv", DATA / "vehicles-mapping.json"


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "us")


def mapping_file(tmp_path: Path, **changes: Any) -> Path:
    raw = json.loads(MAPPING.read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def refused(node: Node, csv_path: Path, mapping: Path = MAPPING) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        ingest_csv(node, csv_path, mapping, "ana")
    assert row_counts(node) == (0, 0, 0)
    return caught.value.problems


def test_a_good_file_becomes_one_report_with_deduplicated_objects(node: Node) -> None:
    result = ingest_csv(node, GOOD, MAPPING, "ana")
    assert (result.reports, result.portions, result.objects) == (1, 1, 19)
    bundle = export_bundle(node, "ana")
    kinds = Counter(o["type"] for o in bundle["objects"])
    assert kinds["x-tearline-phone"] == 3 and kinds["x-tearline-vehicle"] == 2 and kinds["sighting"] == 3
    assert len([o for o in by_type(bundle, "identity") if o.get("identity_class") == "individual"]) == 3
    assert sorted(r["relationship_type"] for r in by_type(bundle, "relationship")) == ["drives"] * 2 + ["uses"] * 3
    assert validator_errors(bundle) == []


def test_values_are_normalised_and_times_read_in_the_mapping_time_zone(node: Node) -> None:
    ingest_csv(node, GOOD, MAPPING, "ana")
    bundle = export_bundle(node, "ana")
    assert {p["number"] for p in by_type(bundle, "x-tearline-phone")} == {
        "+525555550100",
        "+528715550142",
        "+526565550177",
    }
    assert {v["plate"] for v in by_type(bundle, "x-tearline-vehicle")} == {"FNZ-418-B", "FNZ-419-B"}
    first = min(s["first_seen"] for s in by_type(bundle, "sighting"))
    assert first == "2026-02-18T11:40:00.000Z"  # 05:40 in Mexico City (UTC-6)


def test_per_row_marking_columns_mark_each_object(node: Node) -> None:
    ingest_csv(node, GOOD, MAPPING, "ana")
    bundle = export_bundle(node, "ana")
    rosendo = one(bundle, "identity", name="Rosendo Ibarra Solís")
    marking = one(bundle, "marking-definition", id=rosendo["object_marking_refs"][0])
    assert marking["extensions"][next(iter(marking["extensions"]))]["rel_to"] == ["CAN", "MEX", "USA"]
    marisela = one(bundle, "identity", name="Marisela Ontiveros Paredes")
    marking = one(bundle, "marking-definition", id=marisela["object_marking_refs"][0])
    assert marking["extensions"][next(iter(marking["extensions"]))]["level"] == "CONFIDENTIAL"


def test_a_bad_file_lists_each_bad_line_column_and_reason_and_stores_nothing(node: Node) -> None:
    found = {(p.item, p.field): p.reason for p in refused(node, BAD)}
    assert "is not a number from -90 to 90" in found[("line 3", "lat")]
    assert "is not a date and time" in found[("line 4", "visto_en")]
    assert "unknown label 'SECRETÍSIMO'" in found[("line 5", "nivel")]
    assert "needs a vehicle on the same row" in found[("line 6", "visto_en")]
    assert "'FRA' is not a configured partner" in found[("line 7", "rel_to")]
    assert not any(item == "line 2" for item, _ in found)


def test_the_same_file_twice_is_refused(node: Node) -> None:
    ingest_csv(node, GOOD, MAPPING, "ana")
    with pytest.raises(InvalidInput) as caught:
        ingest_csv(node, GOOD, MAPPING, "ana")
    assert "already exists" in caught.value.problems[0].reason


def test_conflicting_rows_for_one_object_are_refused(node: Node, tmp_path: Path) -> None:
    lines = GOOD.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("Kenworth", "Volvo")  # same plate and marking as line 2, other make
    path = tmp_path / "conflict.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert any(p.item == "line 3" and "same x-tearline-vehicle as line 2" in p.reason for p in refused(node, path))


def test_a_mapping_column_missing_from_the_header_is_named(node: Node, tmp_path: Path) -> None:
    mapping = mapping_file(tmp_path, marking_columns={"level": "clasificacion"})
    found = refused(node, GOOD, mapping)
    assert found == [Problem("marking_columns.level", "column 'clasificacion' is not in the file's header", "mapping")]


def test_a_bad_mapping_names_each_entry(node: Node, tmp_path: Path) -> None:
    mapping = mapping_file(
        tmp_path,
        records={"boat": {"name": "x"}, "sighting": {"of": "boat", "time": "t"}},
        timezone="Mars/Olympus",
        colour="red",
    )
    fields = {p.field for p in refused(node, GOOD, mapping)}
    assert {"records.boat", "records.sighting.latitude", "records.sighting.of", "timezone", "colour"} <= fields


def test_an_unknown_marking_field_in_the_mapping_is_refused_not_dropped(node: Node, tmp_path: Path) -> None:
    # `control` for `controls`: dropped, the rows were stored SECRET//REL TO USA, MEX without NOFORN.
    us = {"nation": "USA", "agency": "DEA-DEMO"}
    report = json.loads(MAPPING.read_text(encoding="utf-8"))["report"]
    report["marking"] = {"originator": {**us, "agncy": "x"}, "level": "SECRET", "rel_to": ["USA"]}
    fixed = {"originator": us, "level": "SECRET", "rel_to": ["USA", "MEX"], "control": ["NOFORN"]}
    found = {p.field: p.reason for p in refused(node, GOOD, mapping_file(tmp_path, marking=fixed, report=report))}
    assert set(found) == {"marking.control", "report.marking.originator.agncy"}
    assert found["marking.control"].startswith("not a marking field; the fields are originator, level, rel_to, ")
    assert found["report.marking.originator.agncy"] == "not a field of the originator; its fields are nation, agency"


@pytest.mark.parametrize("separator", ["", 1, None])
def test_a_list_separator_that_is_not_a_non_empty_string_is_refused_not_replaced(
    node: Node, tmp_path: Path, separator: Any
) -> None:
    # "" used to become ";" without a word.
    found = refused(node, GOOD, mapping_file(tmp_path, list_separator=separator))
    assert found == [Problem("list_separator", f"must be a non-empty string such as ';', not {separator!r}", "mapping")]


@pytest.mark.parametrize("region", ["ZZ", "Mexico", "XX", "", 52])
def test_a_phone_region_libphonenumber_does_not_know_is_refused(node: Node, tmp_path: Path, region: Any) -> None:
    reason = f"{region!r} is not a phone region; use a two-letter country code such as MX, US or CA"
    found = refused(node, GOOD, mapping_file(tmp_path, phone_region=region))
    assert found == [Problem("phone_region", reason, "mapping")]


def test_a_phone_region_in_lower_case_is_read(node: Node, tmp_path: Path) -> None:
    assert ingest_csv(node, GOOD, mapping_file(tmp_path, phone_region="mx"), "ana").objects == 19


def test_what_the_mapping_itself_shows_is_listed_at_once_and_the_workspace_after(node: Node, tmp_path: Path) -> None:
    report = json.loads(MAPPING.read_text(encoding="utf-8"))["report"] | {"workspace": "nows"}

    def fields(review_due: str, **changes: Any) -> set[str]:
        mapping = mapping_file(tmp_path, report=report | {"review_due": review_due}, **changes)
        return {p.field for p in refused(node, GOOD, mapping)}

    bad = {"phone_region": "ZZ", "list_separator": "", "timezone": "Mars/Olympus"}
    assert fields("tomorrow", **bad) == {"report.review_due", "phone_region", "list_separator", "timezone"}
    # Too far out is the mapping's to say as well; only the workspace needs the node's database.
    assert fields("2040-01-01T00:00:00Z", phone_region="ZZ") == {"report.review_due", "phone_region"}
    found = refused(node, GOOD, mapping_file(tmp_path, report=report))
    assert [(p.field, p.reason) for p in found] == [("workspace", "unknown workspace 'nows'")]


def test_ingest_file_dispatches_on_the_extension(node: Node, tmp_path: Path) -> None:
    assert ingest_file(node, GOOD, mapping=MAPPING, submitter="ana").objects == 19
    with pytest.raises(InvalidInput, match="needs a column mapping"):
        ingest_file(node, GOOD, submitter="ana")
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unsupported file type"):
        ingest_file(node, other, submitter="ana")


def test_a_header_without_rows_is_refused(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(GOOD.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert any("no rows" in p.reason for p in refused(node, path))


HEADER = GOOD.read_text(encoding="utf-8").splitlines()[0]
NO_VEHICLE = ",,,,,,,"  # placa to lugar: a row of a person and a phone only


def csv_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_an_unclosed_quote_is_refused_naming_the_line_its_field_starts_on(node: Node, tmp_path: Path) -> None:
    # The sweep's file: the open quote swallowed the SECRET USA-only row into an UNCLASSIFIED field.
    path = csv_file(
        tmp_path,
        f'Benito Arce Luna,P-401,+52 55 5555 0400,{NO_VEHICLE},UNCLASSIFIED,USA;MEX;CAN,"Courier, aka ""El Flaco',
        f"Source CARDINAL (DEA informant),P-402,+52 871 555 0499,{NO_VEHICLE},SECRET,USA,Paid informant",
    )
    reason = "a quote opens this field and is never closed: lines 2 to 3 would be read as this one field"
    assert refused(node, path) == [Problem("notas", reason, "line 2")]


def test_a_quoted_field_closed_by_a_stray_quote_is_refused_and_the_rows_after_it_are_read(
    node: Node, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        f'"Rosendo Ibarra,P-102,+52 871 555 0142,{NO_VEHICLE},SECRET,USA;MEX,',
        'Rosendo Ibarra Solís,P-202,+52 871 555 0142,,,,,,,,"Ciudad Juárez",SECRET,USA;MEX,',
        f"Marisela Ontiveros Paredes,P-203,+52 656 555 0177,{NO_VEHICLE},SECRETÍSIMO,USA;MEX,",
    )
    found = {(p.item, p.field): p.reason for p in refused(node, path)}
    assert found.pop(("line 2", "persona")) == (
        "the quoted field is closed on line 3 by a quote followed by 'C', not by a comma"
    )
    assert "unknown label 'SECRETÍSIMO'" in found.pop(("line 4", "nivel"))
    assert found == {}


def test_rows_with_more_or_fewer_fields_than_the_header_are_each_refused(node: Node, tmp_path: Path) -> None:
    good = GOOD.read_text(encoding="utf-8").splitlines()[1]
    path = csv_file(tmp_path, good + ",extra,more", good, good.rsplit(",", 1)[0], '"Rosendo')
    assert refused(node, path) == [
        Problem("file", "the row has 16 fields but the header has 14", "line 2"),
        Problem("file", "the row has 13 fields but the header has 14", "line 4"),
        Problem("persona", "a quote opens this field and is never closed", "line 5"),
    ]


def test_quoted_fields_over_several_lines_are_still_read(node: Node, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        f'Benito Arce Luna,P-401,+52 55 5555 0400,{NO_VEHICLE},SECRET,USA;MEX,"Courier, ""El Flaco""\n\nsecond line"',
        f"Leandro Cázares Pino,P-004,+52 656 555 0199,{NO_VEHICLE},SECRET,USA;MEX;FRA,",
    )
    assert refused(node, path) == [Problem("rel_to", "nation 'FRA' is not a configured partner", "line 5")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+52 55 5555 0100", "+525555550100"), ("+1 (915) 555-0123", "+19155550123")],
    ids=["mx", "us"],
)
def test_phones_with_a_country_code_become_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw, "MX") == (expected, None)
