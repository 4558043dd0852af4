"""CSV files in: one file is one report, each row adds persons, phones, vehicles and sightings.

The mapping format is described in `tearline.ingest.mapping` and docs/ingest.md. A file is all
or nothing; a rejection names each bad line (`line N`), the column and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tearline.errors import InvalidInput, MarkingError, Problem
from tearline.ingest.mapping import MAPPING, CsvMapping, parse_mapping
from tearline.ingest.rows import RowReader
from tearline.ingest.store import IngestResult, Progress, read_as_submitter, store_drafts
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.node import Node
from tearline.stix import ids
from tearline.store.drafts import PORTION_TEXT_LIMIT, PortionDraft, ReportDraft


def ingest_csv(
    node: Node, csv_path: Path | str, mapping_path: Path | str, submitter: str, progress: Progress | None = None
) -> IngestResult:
    """Store the file as one report with its objects, or nothing; see `tearline.ingest.mapping` for the mapping."""
    started = time.perf_counter()
    csv_bytes, mapping_bytes = Path(csv_path).read_bytes(), Path(mapping_path).read_bytes()
    mapping = parse_mapping(_json(mapping_bytes, Path(mapping_path).name))
    default_id = ids.stix_id("report", "csv:" + hashlib.sha256(csv_bytes + b"\0" + mapping_bytes).hexdigest())
    text = _text(csv_bytes, Path(csv_path).name)
    draft, rows = read_as_submitter(node, submitter, lambda registry: _read(text, mapping, registry, default_id))
    try:
        return store_drafts(node, [draft], submitter, started, progress)
    except InvalidInput as err:
        raise InvalidInput(_in_file(err.problems, rows, mapping)) from None


def _json(data: bytes, name: str) -> object:
    try:
        return json.loads(data.decode("utf-8-sig"))  # an editor's byte-order mark is no part of the JSON
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(Problem(MAPPING, f"not a JSON file: {err}", name)) from None


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not part of the first column name
    except UnicodeDecodeError as err:
        raise InvalidInput(Problem("file", not_utf8(data, err, name), name)) from None


def not_utf8(data: bytes, err: UnicodeDecodeError, name: str) -> str:
    """Where the first byte that is not UTF-8 is, by line, and how to convert the file."""
    line = data.count(b"\n", 0, err.start) + 1
    byte = data[err.start : err.start + 1].hex()
    return (
        f"not UTF-8 text: line {line} has the byte 0x{byte}, which UTF-8 does not allow there; the file is "
        f"probably Latin-1: convert it to UTF-8, e.g. iconv -f latin1 -t utf-8 {name} > utf8-{name} "
        "(-f windows-1252 for a Windows file), or save it from the spreadsheet as CSV UTF-8"
    )


def csv_to_draft(text: str, mapping: CsvMapping, registry: Registry, default_id: str) -> ReportDraft:
    """The report a CSV file makes; InvalidInput lists every bad line, column and reason."""
    return _read(text, mapping, registry, default_id)[0]


def _read(text: str, mapping: CsvMapping, registry: Registry, default_id: str) -> tuple[ReportDraft, RowReader]:
    report_id = mapping.report_id or default_id
    rows = RowReader(mapping, registry, report_id)
    table = _StrictRows(text, rows.problems)
    header = next(table, None)
    if header is None:
        raise InvalidInput(rows.problems or [Problem("file", "the file is empty: it needs a header row", "line 1")])
    _refuse_repeated_columns(*header)
    missing = [
        Problem(where, f"column {column!r} is not in the file's header", MAPPING)
        for where, column in mapping.columns()
        if column not in header[1]
    ]
    if missing:
        raise InvalidInput(missing)
    _read_rows(table, rows)
    title = _title_marking(mapping, registry, rows.problems)
    if rows.problems or title is None:
        raise InvalidInput(rows.problems)
    draft = ReportDraft(
        title=PortionDraft(mapping.title, title),
        portions=tuple(PortionDraft(p, title) for p in mapping.portions),
        predicate=mapping.predicate,
        review_due=mapping.review_due,
        need_to_know=mapping.need_to_know,
        objects=rows.drafts(),
        stix_id=report_id,
        workspace=mapping.workspace,
    )
    return draft, rows


# A marking field of the title, a portion or an object, as the store names it.
_MARKING_FIELD = re.compile(r"(?:portion \d+\.)?marking\.(?P<name>[a-z_]+)")


def _in_file(problems: list[Problem], rows: RowReader, mapping: CsvMapping) -> list[Problem]:
    """The store's problems as the file's author can act on them: a marking field is the mapping's,
    or the column and line of the row that gave it, once each; never the STIX id tearline made."""
    found: list[Problem] = []
    for problem in problems:
        located = _located(problem, rows, mapping)
        if located not in found:
            found.append(located)
    return found


def _located(problem: Problem, rows: RowReader, mapping: CsvMapping) -> Problem:
    match = _MARKING_FIELD.fullmatch(problem.field)
    of_object = rows.made(problem.item)
    if match is None or not (of_object or problem.item == "title" or problem.field.startswith("portion ")):
        return problem
    name = match["name"]
    by_column = rows.where(problem.item, name) if of_object else None
    if by_column is not None:
        return Problem(by_column[0], problem.reason, by_column[1])
    title_own = not of_object and mapping.title_marking != mapping.marking
    return Problem(f"{'report.marking' if title_own else 'marking'}.{name}", problem.reason, MAPPING)


def _refuse_repeated_columns(line: int, header: list[str]) -> None:
    """A row is read by column name, so a name given twice would keep only its last column's value.
    Each repeated name is a problem of that column, as every other problem of a column is."""
    counts = Counter(name for name in header if name.strip())  # blank names are never mapped
    problems = [
        Problem(name, f"the header names this column {count} times (columns {_places(header, name)}); "
                "rename the columns so that each name is given once", f"line {line}")
        for name, count in counts.items()
        if count > 1
    ]
    if problems:
        raise InvalidInput(problems)


def _places(header: list[str], name: str) -> str:
    return ", ".join(str(n) for n, column in enumerate(header, 1) if column == name)


class _StrictRows:
    """The rows of a file read with strict RFC 4180 quoting, each with the line it starts on; the
    header first. A row that cannot be read is left out and its problem added to `problems`,
    naming the line its bad field starts on: a quote left open would otherwise swallow the
    following rows, their markings unread, into one field under the first row's marking."""

    def __init__(self, text: str, problems: list[Problem]) -> None:
        self.lines = io.StringIO(text, newline="").readlines()
        self.problems = problems
        self.header: list[str] | None = None
        self._reader = csv.reader(iter(self.lines), strict=True)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        while True:
            start = self._reader.line_num + 1
            try:
                fields = next(self._reader)
            except csv.Error as err:
                self.problems.append(self._problem(start, err))
                if self.header is None:
                    raise StopIteration from None  # without its header, no row of the file can be read
                continue
            if fields:  # a blank line is no row
                if self.header is None:
                    self.header = fields
                return start, fields

    def _problem(self, start: int, err: csv.Error) -> Problem:
        text = "".join(self.lines[start - 1 : self._reader.line_num])
        if str(err).startswith("field larger than field limit"):
            return Problem(self._column(_longest_field(text)), _too_long_to_read(), f"line {start}")
        found = _bad_quote(text, start)
        if found is None:
            return Problem("file", f"unreadable CSV: {err}", f"line {start}")
        line, index, reason = found
        return Problem(self._column(index), reason, f"line {line}")

    def _column(self, index: int) -> str:
        header = self.header or []
        return header[index] if index < len(header) else f"field {index + 1}"


def _too_long_to_read() -> str:
    return (
        f"the field is longer than {csv.field_size_limit():,} characters, the most a CSV field may hold; "
        f"shorten it (tearline's longest texts, a report's title and portions, hold at most "
        f"{PORTION_TEXT_LIMIT:,} characters)"
    )


def _longest_field(text: str) -> int:
    """The index of the longest field of a row's text (quotes counted): the one too long to read."""
    lengths, start, quoted = [], 0, False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted  # a doubled quote inside a field toggles twice
        elif char == "," and not quoted:
            lengths.append(i - start)
            start = i + 1
    lengths.append(len(text) - start)
    return max(range(len(lengths)), key=lengths.__getitem__)


def _bad_quote(text: str, line: int) -> tuple[int, int, str] | None:
    """(line the field starts on, its index, reason) for the quoted field that breaks this row's text."""
    index, i, end = 0, 0, len(text)
    while i < end:
        if text[i] == '"':
            opened, i = line, i + 1
            while i < end and (text[i] != '"' or text[i + 1 : i + 2] == '"'):
                if text[i] == '"':
                    i += 1  # a doubled quote is a quote inside the field
                elif text[i] in "\r\n" and text[i : i + 2] != "\r\n" and i + 1 < end:
                    line += 1  # a line break inside the field (not the file's last)
                i += 1
            if i >= end:
                swallowed = f": lines {opened} to {line} would be read as this one field" if line > opened else ""
                return opened, index, f"a quote opens this field and is never closed{swallowed}"
            i += 1  # past the closing quote
            if i < end and text[i] not in ",\r\n":
                reason = f"the quoted field is closed on line {line} by a quote followed by {text[i]!r}, not by a comma"
                return opened, index, reason
        while i < end and text[i] not in ",\r\n":  # the unquoted rest of the field
            i += 1
        if i >= end or text[i] != ",":
            return None
        index, i = index + 1, i + 1
    return None


def _read_rows(table: _StrictRows, rows: RowReader) -> None:
    width = len(table.header or [])
    read = False
    for line, fields in table:
        read = True
        if len(fields) != width:
            reason = f"the row has {len(fields)} fields but the header has {width}"
            rows.problems.append(Problem("file", reason, f"line {line}"))
            continue
        rows.add(dict(zip(table.header or [], fields, strict=True)), line)
    if not read and not rows.problems:
        rows.problems.append(Problem("file", "the file has a header but no rows", "line 2"))


def _title_marking(mapping: CsvMapping, registry: Registry, problems: list[Problem]) -> Marking | None:
    # Without a marking of its own, the title takes the mapping's: a problem of it is the mapping's
    # marking's, named once with the rows' (`RowReader._marking`).
    own = mapping.title_marking != mapping.marking
    try:
        return marking_from_dict(mapping.title_marking, registry, "report.marking" if own else "marking")
    except MarkingError as err:
        problems += [q for p in err.problems if (q := Problem(p.field, p.reason, MAPPING)) not in problems]
        return None
