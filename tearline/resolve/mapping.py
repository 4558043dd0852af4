"""Mapping files of `tearline resolve`: which column of a source holds each canonical person field.

```yaml
source: usa
phone_region: US            # optional (default MX): region of numbers written without a country code
encoding: latin-1           # optional (default UTF-8, with or without a byte-order mark)
fields:
  record_id: subject_id
  given_names: [FIRST, MIDDLE]   # several columns are joined with a space
  surname: LAST                  # a family name whose structure is unknown
  dob: {column: DOB, format: "%m/%d/%Y"}
  sex: {column: SEX, codes: M/F}  # or H/M (H hombre, M mujer); a column alone means M/F
  phones: PHONE
```

Inputs are CSV (with a header) or JSON Lines. Every problem is reported with its file, line, field
and reason; nothing is resolved from an input with a problem.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tearline.errors import InvalidInput, Problem
from tearline.resolve.dates import check_format, read_birth_date
from tearline.resolve.records import (
    CANONICAL_FIELDS,
    DEFAULT_SEX_CODES,
    SEX_CODES,
    PersonRecord,
    person_record,
    read_sex,
)

_REGIONS = ("US", "MX", "CA")
_OPTIONS = ("source", "fields", "phone_region", "encoding")
# Fields whose spec may be an object: its keys beside `column`.
_FIELD_OPTIONS = {"dob": ("column", "format"), "sex": ("column", "codes")}
_TO_UTF8 = "convert the file to UTF-8 (iconv -f LATIN1 -t UTF-8 IN > OUT) or name its encoding in the mapping " \
           "(encoding: latin-1)"


@dataclass(frozen=True)
class SourceMapping:
    """A validated mapping: canonical field -> columns (joined with a space), the dob format, the sex
    codes and the files' text encoding."""

    source: str
    columns: dict[str, tuple[str, ...]]
    dob_format: str | None = None
    phone_region: str = "MX"
    sex_codes: str = DEFAULT_SEX_CODES
    encoding: str = "utf-8"

    def used_columns(self) -> set[str]:
        return {c for cols in self.columns.values() for c in cols}


def _columns(name: str, spec: Any, problems: list[Problem]) -> tuple[str, ...]:
    if isinstance(spec, str) and spec:
        return (spec,)
    if isinstance(spec, list) and spec and all(isinstance(c, str) and c for c in spec):
        return tuple(spec)
    also = f", or an object with {' and '.join(_FIELD_OPTIONS[name])}" if name in _FIELD_OPTIONS else ""
    problems.append(Problem(f"fields.{name}", f"must be a column name or a non-empty list of column names{also}"))
    return ()


def _field_object(name: str, spec: dict[Any, Any], problems: list[Problem]) -> Any:
    """The column(s) of a field written as an object ({column: ..., format: ...}); its options checked."""
    allowed = _FIELD_OPTIONS[name]
    shown = ", ".join(allowed)
    problems.extend(Problem(f"fields.{name}.{key}", f"is not an option of fields.{name} ({shown})")
                    for key in sorted(map(str, set(spec) - set(allowed))))
    if "column" not in spec:
        problems.append(Problem(f"fields.{name}.column", f"is required when fields.{name} is an object ({shown}); "
                                                         f"or give the column name alone"))
    return spec.get("column")


def parse_mapping(data: Any, origin: str | None = None) -> SourceMapping:
    """Validate a mapping's parsed JSON/YAML; every problem names the field and the reason, and the
    mapping's file (`origin`) when it was read from one."""
    if not isinstance(data, dict):
        raise InvalidInput(Problem("mapping", "must be an object with 'source' and 'fields'", origin))
    problems: list[Problem] = []
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(Problem("source", "is required: a short name of the source, such as 'usa'"))
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        problems.append(Problem("fields", "is required: an object mapping canonical fields to columns"))
        fields = {}
    unknown = set(map(str, data)) - set(_OPTIONS)
    problems.extend(Problem(key, f"is not a mapping option ({', '.join(_OPTIONS)})") for key in sorted(unknown))
    region = str(data.get("phone_region", "MX")).upper()
    if region not in _REGIONS:
        problems.append(Problem("phone_region", f"must be one of {', '.join(_REGIONS)}"))
    encoding = data.get("encoding", "utf-8")
    try:
        if not isinstance(encoding, str):
            raise LookupError
        codecs.lookup(encoding)
    except LookupError:
        problems.append(Problem("encoding", f"{encoding!r} is not a text encoding Python knows: "
                                            "use utf-8, latin-1, cp1252..."))
    columns: dict[str, tuple[str, ...]] = {}
    dob_format = None
    sex_codes = DEFAULT_SEX_CODES
    for name, spec in fields.items():
        if name not in CANONICAL_FIELDS:
            problems.append(Problem(f"fields.{name}", f"is not a canonical field ({', '.join(CANONICAL_FIELDS)})"))
            continue
        if name in _FIELD_OPTIONS and isinstance(spec, dict):
            if name == "dob" and spec.get("format") is not None:
                dob_format = spec["format"]
                reason = check_format(dob_format) if isinstance(dob_format, str) else None
                if not isinstance(dob_format, str) or reason:
                    problems.append(Problem("fields.dob.format",
                                            reason or "must be a strptime format such as '%d/%m/%Y'"))
            if name == "sex" and "codes" in spec:
                sex_codes = str(spec["codes"]).upper().replace(" ", "")
                if sex_codes not in SEX_CODES:
                    problems.append(Problem("fields.sex.codes", f"{spec['codes']!r} is not a sex convention: "
                                                                f"M/F (M male, F female) or H/M (H hombre, M mujer)"))
            spec = _field_object(name, spec, problems)
            if spec is None:
                continue
        columns[name] = _columns(name, spec, problems)
    if fields and not ({"full_name", "given_names", "paternal_surname", "surname"} & set(columns)):
        problems.append(Problem("fields", "map at least one name field: full_name, given_names, paternal_surname "
                                          "or surname"))
    if problems:
        raise InvalidInput([Problem(p.field, p.reason, origin) for p in problems],
                           f"{origin}: invalid mapping" if origin else "invalid mapping")
    return SourceMapping(str(source).strip(), columns, dob_format, region, sex_codes, str(encoding))


def load_mapping(path: Path) -> SourceMapping:
    """A mapping file, JSON or YAML."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InvalidInput(Problem("mapping", f"cannot be read: {err.strerror}", str(path))) from None
    except UnicodeDecodeError as err:
        raise InvalidInput(Problem("mapping", f"is not UTF-8 (byte {err.object[err.start]:#04x}): save it as UTF-8",
                                   str(path))) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as err:  # JSON and YAML parsers raise their own error types
        raise InvalidInput(Problem("mapping", f"is not valid {path.suffix.lstrip('.') or 'JSON'}: {err}",
                                   str(path))) from None
    return parse_mapping(data, str(path))


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A whole input file as text; a byte that is not of its encoding is refused naming the line."""
    if not path.is_file():
        raise InvalidInput(Problem("input", "does not exist or is not a file", str(path)))
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InvalidInput(Problem("input", f"cannot be read: {err.strerror}", str(path))) from None
    utf8 = codecs.lookup(encoding).name == "utf-8"
    try:
        return raw.decode("utf-8-sig" if utf8 else encoding)
    except UnicodeDecodeError as err:
        line = raw[:err.start].decode(encoding, errors="replace").count("\n") + 1
        what = "UTF-8" if utf8 else f"{encoding}, the encoding its mapping names"
        how = _TO_UTF8 if utf8 else "correct the mapping's encoding"
        raise InvalidInput(Problem("encoding", f"byte {raw[err.start]:#04x} is not {what}: {how}",
                                   f"{path}:{line}"), f"{path}:{line}: the file is not {what}") from None


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """(columns, numbered rows) of a CSV file with a header or a JSON Lines file."""
    text = read_text(path, encoding)
    if not text.strip():
        raise InvalidInput(Problem("input", "is empty: a CSV file needs a header row and a row a record, a JSON "
                                            "Lines file a JSON object a line", str(path)),
                           f"{path}: the file is empty")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = list(_jsonl(path, text))
        columns = sorted({key for _, row in rows for key in row})
        return columns, iter(rows)
    # Strict quoting: a quote left open would otherwise swallow the rows after it into one field.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        columns = list(reader.fieldnames or [])
    except csv.Error as err:
        raise _not_csv(path, 1, reader.line_num, err) from None
    _refuse_repeated_columns(path, reader.line_num, columns)

    def numbered() -> Iterator[tuple[int, dict[str, str]]]:
        rows = iter(reader)
        while True:
            start = reader.line_num + 1
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as err:
                raise _not_csv(path, start, reader.line_num, err) from None
            width = len(columns) + len(row.get(None) or []) - sum(v is None for v in row.values())  # type: ignore[call-overload]
            if width != len(columns):
                where = f"{path}:{reader.line_num}"
                reason = f"has {width} fields but the header has {len(columns)}"
                raise InvalidInput(Problem("line", reason, where), f"{where}: {reason}")
            yield reader.line_num, {k: v or "" for k, v in row.items() if k is not None}

    return columns, numbered()


def _refuse_repeated_columns(path: Path, line: int, columns: list[str]) -> None:
    """A column named twice in the header: the reader would keep the later one's values without a word.
    Every repeated column is named, so that one fix of the header is enough."""
    problems = []
    for name, count in Counter(columns).items():
        if count > 1:
            places = ", ".join(str(n) for n, c in enumerate(columns, 1) if c == name)
            problems.append(Problem("header", f"column {name!r} is named {count} times (columns {places}): "
                                              "rename or remove the repeats, so that each column has its own "
                                              "name", f"{path}:{line}"))
    if problems:
        raise InvalidInput(problems)


def _not_csv(path: Path, start: int, end: int, err: csv.Error) -> InvalidInput:
    where = f"{path}:{start}"
    reason = f"is not CSV: {err}"
    if end > start or "end of data" in str(err):  # the row ran on to the end: a quote opened in it never closed
        reason += " (a quote opened in this row is never closed)"
    return InvalidInput(Problem("line", reason, where), f"{where}: not CSV")


def _jsonl(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    for number, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line, object_pairs_hook=_once_each)
        except json.JSONDecodeError as err:
            msg = err.msg.removesuffix(" at")
            raise InvalidInput(Problem("line", f"is not JSON: {msg} at column {err.colno}; each line must be one "
                                               "JSON object (JSON Lines)", where), f"{where}: not JSON") from None
        except _RepeatedKey as err:
            reason = f"names the key {err.key!r} twice: the reader would keep the later value; remove the repeat"
            raise InvalidInput(Problem("line", reason, where)) from None
        if not isinstance(row, dict):
            raise InvalidInput(Problem("line", "must be a JSON object (JSON Lines: one object a line)", where))
        yield number, {k: _text(v) for k, v in row.items()}


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each named once (as the CSV header's columns must be)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def repeated_ids(inputs: Sequence[tuple[str, str, Sequence[tuple[int, PersonRecord]]]]) -> list[Problem]:
    """Each record whose id repeats one before it of the same source, across (origin, source, numbered
    records) inputs: named with its file and line, the other's file and line, and the id as written."""
    first: dict[tuple[str, str], tuple[str, int]] = {}
    problems: list[Problem] = []
    for origin, source, records in inputs:
        for number, record in records:
            key = (source, record.record_id)
            if key not in first:
                first[key] = (origin, number)
                continue
            other_origin, other_line = first[key]
            other = f"line {other_line}"
            if other_origin != origin:
                other = f"{other_origin}:{other_line} (also source {source!r})"
            problems.append(Problem("record_id", f"{record.record_id!r} is also the id of {other}: each record of a "
                                                 "source needs its own id; correct or remove the repeated row",
                                    f"{origin}:{number}"))
    return problems


def apply_mapping(mapping: SourceMapping, rows: Iterable[tuple[int, Mapping[str, str]]], origin: str,
                  columns: Iterable[str] | None = None) -> list[PersonRecord]:
    """Records from numbered rows; raises InvalidInput listing every bad row and field."""
    return [record for _, record in numbered_records(mapping, rows, origin, columns)]


def numbered_records(mapping: SourceMapping, rows: Iterable[tuple[int, Mapping[str, str]]], origin: str,
                     columns: Iterable[str] | None = None) -> list[tuple[int, PersonRecord]]:
    """(line, record) from numbered rows; raises InvalidInput listing every bad row and field."""
    problems: list[Problem] = []
    if columns is not None:
        present = set(columns)
        for name, cols in mapping.columns.items():
            problems.extend(Problem(f"fields.{name}", f"names column {c!r}, which {origin} does not have", origin)
                            for c in cols if c not in present)
        if problems:
            raise InvalidInput(problems, f"{origin}: the mapping names missing columns")
    records: list[tuple[int, PersonRecord]] = []
    for number, row in rows:
        values = {name: " ".join(row.get(c, "").strip() for c in cols).strip()
                  for name, cols in mapping.columns.items()}
        where = f"{origin}:{number}"
        if "record_id" not in mapping.columns:
            values["record_id"] = f"{mapping.source}:{number}"  # a source without ids: its line names it
        elif not values["record_id"]:
            # An id made up here would be written beside the source's own ids as if it were one of them.
            columns_named = " and ".join(repr(c) for c in mapping.columns["record_id"])
            problems.append(Problem("record_id", f"has no value (column {columns_named}): give this record its id, or "
                                                 "remove record_id from the mapping to name every record "
                                                 "source:LINE", where))
        dob = None
        if values.get("dob"):
            try:
                dob = read_birth_date(values["dob"], mapping.dob_format)
            except ValueError as err:
                problems.append(Problem("dob", f"{values['dob']!r} {err}", where))
        if values.get("sex"):
            try:
                read_sex(values["sex"], mapping.sex_codes)
            except ValueError as err:
                problems.append(Problem("sex", str(err), where))
        if values["record_id"]:  # a record without its id is refused above, and is no repeat of another
            records.append((number, person_record(values, mapping.source, dob, mapping.phone_region,
                                                  mapping.sex_codes)))
    problems.extend(repeated_ids([(origin, mapping.source, records)]))
    if problems:
        raise InvalidInput(problems, f"{origin}: {len(problems)} bad value(s)")
    return records


def load_numbered(path: Path, mapping: SourceMapping) -> list[tuple[int, PersonRecord]]:
    """(line, record) of an input file."""
    columns, rows = read_rows(path, mapping.encoding)
    return numbered_records(mapping, rows, str(path), columns)


def load_records(path: Path, mapping: SourceMapping) -> list[PersonRecord]:
    return [record for _, record in load_numbered(path, mapping)]
