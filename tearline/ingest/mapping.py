"""The CSV column mapping: a JSON file that says which column holds each field.

```json
{
  "report": {
    "title": "Vehicles on the Torreón - Ciudad Juárez route",
    "predicate": "Reasonable suspicion: ...",
    "need_to_know": "Analysts of the northern corridor case",
    "review_due": "2027-06-30T00:00:00Z",
    "workspace": "fc-norte",
    "portions": ["Optional summary paragraphs, marked like the title."],
    "marking": {"...": "the title's marking; defaults to the top-level marking"},
    "id": "report--... (optional; by default derived from the file's content)"
  },
  "marking": {"originator": {"nation": "USA", "agency": "DEA-DEMO"}, "level": "SECRET", "rel_to": ["USA", "MEX"]},
  "marking_columns": {"level": "classification", "rel_to": "releasable_to", "controls": "controls"},
  "list_separator": ";",
  "phone_region": "MX",
  "timezone": "America/Mexico_City",
  "records": {
    "person": {"name": "full_name", "key": "person_ref", "description": "notes"},
    "phone": {"number": "phone"},
    "vehicle": {"plate": "plate", "make": "make", "model": "model", "color": "colour"},
    "sighting": {"of": "vehicle", "time": "seen_at", "latitude": "lat", "longitude": "lon", "place": "place"}
  },
  "relationships": [{"source": "person", "type": "uses", "target": "phone"}]
}
```

- `marking` is fixed for every row; `marking_columns` take a marking field from a column of each
  row (over the fixed one). List fields (`rel_to`, `controls`, `compartments`, `source_fields`) are
  split on `list_separator`; the originator comes from `originator_nation` / `originator_agency`.
- `records` names, per kind, the column of each field. A row makes an object of a kind when that
  kind's first field (`name`, `number`, `plate`, `time`) is filled in. Kinds: `person`,
  `organization`, `phone`, `vehicle`, `sighting` (of another kind of the same row, at a place).
- Within a file, rows naming the same person (same `key`, or name when there is no key), phone,
  vehicle or place under the same marking are one object.
- Times without an offset are read in `timezone` (default UTC).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tearline import clock
from tearline.errors import InvalidInput, Problem
from tearline.markings.marking import MARKING_FIELDS, unknown_field_problems
from tearline.store.reports import review_limit

MAPPING = "mapping"

_REGION = re.compile(r"^[A-Z]{2}$")

# kind -> fields a column may fill; the first one decides whether a row holds that kind.
RECORD_FIELDS: Mapping[str, tuple[str, ...]] = {
    "person": ("name", "key", "description"),
    "organization": ("name", "key", "description"),
    "phone": ("number", "key", "name"),
    "vehicle": ("plate", "key", "make", "model", "color", "country", "vin", "description"),
    "sighting": ("time", "latitude", "longitude", "place", "description"),
}
# A marking's fields as CSV columns: the originator is two columns, its nation and its agency.
MARKING_COLUMN_FIELDS = frozenset(MARKING_FIELDS) - {"originator"} | {"originator_nation", "originator_agency"}
LIST_FIELDS = frozenset({"rel_to", "controls", "compartments", "source_fields"})
_TOP = frozenset(
    {"report", "marking", "marking_columns", "list_separator", "phone_region", "timezone", "records", "relationships"}
)
_REPORT = frozenset({"id", "title", "predicate", "need_to_know", "review_due", "workspace", "portions", "marking"})


@dataclass(frozen=True)
class CsvMapping:
    title: str
    predicate: str
    review_due: datetime
    title_marking: Mapping[str, Any]
    need_to_know: str = ""
    workspace: str | None = None
    portions: tuple[str, ...] = ()
    report_id: str | None = None
    marking: Mapping[str, Any] = field(default_factory=dict)
    marking_columns: Mapping[str, str] = field(default_factory=dict)
    separator: str = ";"
    phone_region: str = "US"
    timezone: zoneinfo.ZoneInfo = field(default_factory=lambda: zoneinfo.ZoneInfo("UTC"))
    records: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sighting_of: str | None = None
    relationships: tuple[tuple[str, str, str], ...] = ()

    def columns(self) -> list[tuple[str, str]]:
        """(where in the mapping, column) for every column the mapping names."""
        out = [(f"marking_columns.{k}", c) for k, c in self.marking_columns.items()]
        for kind, fields in self.records.items():
            out += [(f"records.{kind}.{name}", column) for name, column in fields.items()]
        return out


def parse_mapping(raw: object) -> CsvMapping:
    """Check a mapping whole; InvalidInput names each bad entry (item `mapping`)."""
    problems: list[Problem] = []

    def bad(where: str, reason: str) -> None:
        problems.append(Problem(where, reason, MAPPING))

    if not isinstance(raw, dict):
        raise InvalidInput(Problem(MAPPING, "must be a JSON object"))
    for key in sorted(set(raw) - _TOP):
        bad(key, "unknown mapping entry")
    report = _report(raw.get("report"), bad)
    marking = _marking(raw.get("marking", {}), "marking", bad)
    marking_columns = _columns(raw.get("marking_columns", {}), bad)
    title_marking = _marking(report["marking"], "report.marking", bad) if "marking" in report else marking
    if not title_marking:
        bad("report.marking", "required (or a top-level marking): the title is a marked portion")
    records, sighting_of = _records(raw.get("records"), bad)
    relationships = _relationships(raw.get("relationships", []), records, bad)
    zone = _zone(raw.get("timezone", "UTC"), bad)
    separator = _separator(raw.get("list_separator", ";"), bad)
    region = _phone_region(raw.get("phone_region", "US"), bad)
    if problems:
        raise InvalidInput(problems)
    return CsvMapping(
        title=report["title"],
        predicate=report["predicate"],
        review_due=report["review_due"],
        title_marking=title_marking,
        need_to_know=str(report.get("need_to_know", "")),
        workspace=report.get("workspace"),
        portions=tuple(report.get("portions", ())),
        report_id=report.get("id"),
        marking=marking,
        marking_columns=marking_columns,
        separator=separator,
        phone_region=region,
        timezone=zone,
        records=records,
        sighting_of=sighting_of,
        relationships=relationships,
    )


Bad = Callable[[str, str], None]


def _report(value: object, bad: Bad) -> dict[str, Any]:
    if not isinstance(value, dict):
        bad("report", "required: title, predicate and review_due of the report")
        return {}
    for key in sorted(set(value) - _REPORT):
        bad(f"report.{key}", "unknown report entry")
    for key in ("title", "predicate"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            bad(f"report.{key}", "required: a non-empty string")
    out = dict(value)
    try:
        out["review_due"] = clock.parse_timestamp(str(value["review_due"]))
    except (KeyError, ValueError):
        bad("report.review_due", "required: an RFC 3339 timestamp such as 2027-06-30T00:00:00Z")
    else:  # the store's rule (28 CFR Part 23), checked here with the mapping's other problems
        now = clock.now()
        if clock.as_utc(out["review_due"]) <= now:
            bad("report.review_due", "must be in the future")
        elif clock.as_utc(out["review_due"]) > review_limit(now):
            bad("report.review_due", "must be no more than 5 years out (28 CFR Part 23)")
    portions = value.get("portions", [])
    if not isinstance(portions, list) or not all(isinstance(p, str) for p in portions):
        bad("report.portions", "must be a list of strings")
    return out


def _object(value: object, where: str, bad: Bad) -> dict[str, Any]:
    if not isinstance(value, dict):
        bad(where, "must be an object")
        return {}
    return value


def _marking(value: object, where: str, bad: Bad) -> dict[str, Any]:
    """A fixed marking's shape: an unknown field is refused here, with the mapping's other problems;
    the marking rules themselves need the node's registry and are checked with the rows."""
    marking = _object(value, where, bad)
    for problem in unknown_field_problems(marking, where):
        bad(problem.field, problem.reason)
    if "originator" in marking and not isinstance(marking["originator"], dict):
        bad(f"{where}.originator", "must be an object with 'nation' and 'agency'")
    return marking


def _columns(value: object, bad: Bad) -> dict[str, str]:
    columns = _object(value, "marking_columns", bad)
    for key in sorted(set(columns) - MARKING_COLUMN_FIELDS):
        bad(f"marking_columns.{key}", f"not a marking field; use one of {', '.join(sorted(MARKING_COLUMN_FIELDS))}")
    return {k: str(v) for k, v in columns.items() if k in MARKING_COLUMN_FIELDS}


def _records(value: object, bad: Bad) -> tuple[dict[str, dict[str, str]], str | None]:
    records = _object(value, "records", bad)
    if not records:
        bad("records", "required: the columns of at least one kind of record")
    out: dict[str, dict[str, str]] = {}
    sighting_of = None
    for kind, fields in records.items():
        if kind not in RECORD_FIELDS or not isinstance(fields, dict):
            bad(f"records.{kind}", f"unknown kind; kinds are {', '.join(RECORD_FIELDS)}")
            continue
        if kind == "sighting":
            sighting_of = fields.get("of")
            fields = {k: v for k, v in fields.items() if k != "of"}
        for name in sorted(set(fields) - set(RECORD_FIELDS[kind])):
            bad(f"records.{kind}.{name}", f"not a field of {kind}; fields are {', '.join(RECORD_FIELDS[kind])}")
        required = ("time", "latitude", "longitude") if kind == "sighting" else RECORD_FIELDS[kind][:1]
        for name in required:
            if name not in fields:
                bad(f"records.{kind}.{name}", "required: the column that holds it")
        out[kind] = {k: str(v) for k, v in fields.items() if k in RECORD_FIELDS[kind]}
    if "sighting" in out and (sighting_of not in out or sighting_of == "sighting"):
        bad("records.sighting.of", f"must name another kind of this mapping, not {sighting_of!r}")
    return out, sighting_of


def _relationships(value: object, records: Mapping[str, object], bad: Bad) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(value, list):
        bad("relationships", "must be a list")
        return ()
    out = []
    for i, entry in enumerate(value):
        ends = (entry.get("source"), entry.get("target")) if isinstance(entry, dict) else (None, None)
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not all(e in records and e != "sighting" for e in ends) or not isinstance(kind, str) or not kind:
            bad(f"relationships.[{i}]", "needs source and target (kinds of this mapping) and a type")
            continue
        out.append((str(ends[0]), kind, str(ends[1])))
    return tuple(out)


def _separator(value: object, bad: Bad) -> str:
    """Refused when empty, never replaced: a cell would be split other than the file's author meant."""
    if not isinstance(value, str) or not value:
        bad("list_separator", f"must be a non-empty string such as ';', not {value!r}")
        return ";"
    return value


def _phone_region(value: object, bad: Bad) -> str:
    """A region libphonenumber knows (any case); an unknown one would misread every local number."""
    region = value.upper() if isinstance(value, str) else ""
    if not _REGION.fullmatch(region) or region not in _phone_regions(region):
        bad("phone_region", f"{value!r} is not a phone region; use a two-letter country code such as MX, US or CA")
    return region


def _phone_regions(region: str) -> frozenset[str]:
    try:  # optional, as in tearline.ingest.phones: without it, only the region's form is checked
        import phonenumbers
    except ImportError:  # pragma: no cover
        return frozenset({region})
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _zone(value: object, bad: Bad) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        bad("timezone", f"unknown time zone {value!r}")
        return zoneinfo.ZoneInfo("UTC")
