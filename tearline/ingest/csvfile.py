"""CSV files in: one file is one report, each row adds persons, phones, vehicles and sightings.

The mapping format is described in `tearline.ingest.mapping` and docs/ingest.md. A file is all
or nothing; a rejection names each bad line (`line N`), the column and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path

from tearline.errors import InvalidInput, MarkingError, Problem
from tearline.ingest.mapping import MAPPING, CsvMapping, parse_mapping
from tearline.ingest.rows import RowReader
from tearline.ingest.store import IngestResult, Progress, store_drafts
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.node import Node
from tearline.stix import ids
from tearline.store.drafts import PortionDraft, ReportDraft


def ingest_csv(
    node: Node, csv_path: Path | str, mapping_path: Path | str, submitter: str, progress: Progress | None = None
) -> IngestResult:
    """Store the file as one report with its objects, or nothing; see `tearline.ingest.mapping` for the mapping."""
    started = time.perf_counter()
    csv_bytes, mapping_bytes = Path(csv_path).read_bytes(), Path(mapping_path).read_bytes()
    mapping = parse_mapping(_json(mapping_bytes, Path(mapping_path).name))
    with node.db.read() as session:
        registry = node.registry(session)
    default_id = ids.stix_id("report", "csv:" + hashlib.sha256(csv_bytes + b"\0" + mapping_bytes).hexdigest())
    draft = csv_to_draft(_text(csv_bytes, Path(csv_path).name), mapping, registry, default_id)
    return store_drafts(node, [draft], submitter, started, progress)


def _json(data: bytes, name: str) -> object:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(Problem(MAPPING, f"not a JSON file: {err}", name)) from None


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not part of the first column name
    except UnicodeDecodeError as err:
        raise InvalidInput(Problem("file", f"not UTF-8 text: {err}", name)) from None


def csv_to_draft(text: str, mapping: CsvMapping, registry: Registry, default_id: str) -> ReportDraft:
    """The report a CSV file makes; InvalidInput lists every bad line, column and reason."""
    report_id = mapping.report_id or default_id
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = set(reader.fieldnames or [])
    missing = [
        Problem(where, f"column {column!r} is not in the file's header", MAPPING)
        for where, column in mapping.columns()
        if column not in header
    ]
    if missing:
        raise InvalidInput(missing)
    rows = RowReader(mapping, registry, report_id)
    _read_rows(reader, rows)
    title = _title_marking(mapping, registry, rows.problems)
    if rows.problems or title is None:
        raise InvalidInput(rows.problems)
    return ReportDraft(
        title=PortionDraft(mapping.title, title),
        portions=tuple(PortionDraft(p, title) for p in mapping.portions),
        predicate=mapping.predicate,
        review_due=mapping.review_due,
        need_to_know=mapping.need_to_know,
        objects=rows.drafts(),
        stix_id=report_id,
        workspace=mapping.workspace,
    )


def _read_rows(reader: csv.DictReader[str], rows: RowReader) -> None:
    line = 1
    try:
        for row in reader:
            rows.add(row, line + 1)  # where the row starts: a quoted field may span several lines
            line = reader.line_num
    except csv.Error as err:
        rows.problems.append(Problem("file", f"unreadable CSV: {err}", f"line {reader.line_num}"))
    if line == 1 and not rows.problems:
        rows.problems.append(Problem("file", "the file has a header but no rows", "line 2"))


def _title_marking(mapping: CsvMapping, registry: Registry, problems: list[Problem]) -> Marking | None:
    try:
        return marking_from_dict(mapping.title_marking, registry, "report.marking")
    except MarkingError as err:
        problems += [Problem(p.field, p.reason, MAPPING) for p in err.problems]
        return None
