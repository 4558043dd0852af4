"""Mapping files of `tearline resolve`: which column of a source holds each canonical person field.

```yaml
source: usa
phone_region: US            # optional: region of numbers written without a country code
fields:
  record_id: subject_id
  given_names: [FIRST, MIDDLE]   # several columns are joined with a space
  surname: LAST                  # a family name whose structure is unknown
  dob: {column: DOB, format: "%m/%d/%Y"}
  phones: PHONE
```

Inputs are CSV (with a header) or JSON Lines. Every problem is reported with its file, line, field
and reason; nothing is resolved from an input with a problem.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tearline.errors import InvalidInput, Problem
from tearline.resolve.dates import parse_birth_date
from tearline.resolve.records import CANONICAL_FIELDS, PersonRecord, person_record

_REGIONS = ("US", "MX", "CA")


@dataclass(frozen=True)
class SourceMapping:
    """A validated mapping: canonical field -> columns (joined with a space), and the dob format."""

    source: str
    columns: dict[str, tuple[str, ...]]
    dob_format: str | None = None
    phone_region: str = "MX"

    def used_columns(self) -> set[str]:
        return {c for cols in self.columns.values() for c in cols}


def _columns(name: str, spec: Any, problems: list[Problem]) -> tuple[str, ...]:
    if isinstance(spec, str) and spec:
        return (spec,)
    if isinstance(spec, list) and spec and all(isinstance(c, str) and c for c in spec):
        return tuple(spec)
    problems.append(Problem(f"fields.{name}", "must be a column name or a non-empty list of column names"))
    return ()


def parse_mapping(data: Any, origin: str = "mapping") -> SourceMapping:
    """Validate a mapping's parsed JSON/YAML; every problem names the field and the reason."""
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
    unknown = set(data) - {"source", "fields", "phone_region"}
    problems.extend(Problem(key, "is not a mapping option (source, fields, phone_region)") for key in sorted(unknown))
    region = str(data.get("phone_region", "MX")).upper()
    if region not in _REGIONS:
        problems.append(Problem("phone_region", f"must be one of {', '.join(_REGIONS)}"))
    columns: dict[str, tuple[str, ...]] = {}
    dob_format = None
    for name, spec in fields.items():
        if name not in CANONICAL_FIELDS:
            problems.append(Problem(f"fields.{name}", f"is not a canonical field ({', '.join(CANONICAL_FIELDS)})"))
            continue
        if name == "dob" and isinstance(spec, dict):
            dob_format = spec.get("format")
            if dob_format is not None and (not isinstance(dob_format, str) or "%" not in dob_format):
                problems.append(Problem("fields.dob.format", "must be a strptime format such as '%d/%m/%Y'"))
            spec = spec.get("column")
        columns[name] = _columns(name, spec, problems)
    if fields and not ({"full_name", "given_names", "paternal_surname", "surname"} & set(columns)):
        problems.append(Problem("fields", "map at least one name field: full_name, given_names, paternal_surname "
                                          "or surname"))
    if problems:
        raise InvalidInput([Problem(p.field, p.reason, origin) for p in problems], f"{origin}: invalid mapping")
    return SourceMapping(str(source).strip(), columns, dob_format, region)


def load_mapping(path: Path) -> SourceMapping:
    """A mapping file, JSON or YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(Problem("mapping", f"cannot be read: {err.strerror}", str(path))) from None
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


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """(columns, numbered rows) of a CSV file with a header or a JSON Lines file."""
    if not path.is_file():
        raise InvalidInput(Problem("input", "does not exist or is not a file", str(path)))
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = list(_jsonl(path))
        columns = sorted({key for _, row in rows for key in row})
        return columns, iter(rows)
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.DictReader(handle)
    columns = list(reader.fieldnames or [])

    def numbered() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            for row in reader:
                yield reader.line_num, {k: v or "" for k, v in row.items() if k is not None}

    return columns, numbered()


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InvalidInput(Problem("line", f"is not JSON: {err.msg}", f"{path}:{number}")) from None
            if not isinstance(row, dict):
                raise InvalidInput(Problem("line", "must be a JSON object", f"{path}:{number}"))
            yield number, {k: _text(v) for k, v in row.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def apply_mapping(mapping: SourceMapping, rows: Iterable[tuple[int, Mapping[str, str]]], origin: str,
                  columns: Iterable[str] | None = None) -> list[PersonRecord]:
    """Records from numbered rows; raises InvalidInput listing every bad row and field."""
    problems: list[Problem] = []
    if columns is not None:
        present = set(columns)
        for name, cols in mapping.columns.items():
            problems.extend(Problem(f"fields.{name}", f"names column {c!r}, which {origin} does not have", origin)
                            for c in cols if c not in present)
        if problems:
            raise InvalidInput(problems, f"{origin}: the mapping names missing columns")
    records: list[PersonRecord] = []
    for number, row in rows:
        values = {name: " ".join(row.get(c, "").strip() for c in cols).strip()
                  for name, cols in mapping.columns.items()}
        where = f"{origin}:{number}"
        values["record_id"] = values.get("record_id") or f"{mapping.source}:{number}"
        dob = None
        if values.get("dob"):
            dob = parse_birth_date(values["dob"], mapping.dob_format)
            if dob is None:
                fmt = f" with format {mapping.dob_format!r}" if mapping.dob_format else ""
                problems.append(Problem("dob", f"{values['dob']!r} is not a date{fmt}", where))
        records.append(person_record(values, mapping.source, dob, mapping.phone_region))
    if problems:
        raise InvalidInput(problems, f"{origin}: {len(problems)} bad value(s)")
    return records


def load_records(path: Path, mapping: SourceMapping) -> list[PersonRecord]:
    columns, rows = read_rows(path)
    return apply_mapping(mapping, rows, str(path), columns)
