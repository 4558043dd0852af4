"""One CSV row -> the objects it names, deduplicated across the file, each with the row's marking."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tearline import clock
from tearline.errors import MarkingError, Problem
from tearline.ingest.mapping import LIST_FIELDS, MAPPING, RECORD_FIELDS, CsvMapping
from tearline.ingest.phones import normalise_phone
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.stix import ids
from tearline.stix.checks import CONTENT, property_problems, source_field_problems
from tearline.stix.objects import object_draft
from tearline.store.drafts import ObjectDraft

_STIX_TYPE = {
    "person": "identity",
    "organization": "identity",
    "phone": "x-tearline-phone",
    "vehicle": "x-tearline-vehicle",
}
_ENTITY_KINDS = ("person", "organization", "phone", "vehicle")


@dataclass
class _Pending:
    stix_type: str
    body: dict[str, Any]
    marking: Marking
    line: int
    given: Mapping[str, str]  # marking field -> the column of its row that gave it


class RowReader:
    """Collects the objects of a file row by row, and every problem with its line and column."""

    def __init__(self, mapping: CsvMapping, registry: Registry, report_id: str) -> None:
        self.mapping = mapping
        self.registry = registry
        self.report_id = report_id
        self.problems: list[Problem] = []
        self._objects: dict[str, _Pending] = {}
        self._markings: dict[tuple[str, ...], Marking | list[Problem]] = {}
        self._given: Mapping[str, str] = {}

    def where(self, stix_id: str | None, field: str) -> tuple[str, str] | None:
        """(column, `line N`) of the row that made an object, when a column of it gave this marking field."""
        made = self._objects.get(stix_id or "")
        if made is None or field not in made.given:
            return None
        return made.given[field], f"line {made.line}"

    def made(self, stix_id: str | None) -> bool:
        return (stix_id or "") in self._objects

    def drafts(self) -> tuple[ObjectDraft, ...]:
        bodies = {k: p.body for k, p in self._objects.items()}
        return tuple(object_draft(k, p.stix_type, p.body, p.marking, bodies) for k, p in self._objects.items())

    def add(self, row: Mapping[str, str | None], line: int) -> None:
        values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        marking = self._marking(values, line)
        self._given = self._given_by_columns(values)
        made: dict[str, str] = {}
        for kind in _ENTITY_KINDS:
            fields = self.mapping.records.get(kind)
            if fields and values.get(fields[RECORD_FIELDS[kind][0]], ""):
                made[kind] = self._entity(kind, fields, values, marking, line)
        sighting = self.mapping.records.get("sighting")
        if sighting and values.get(sighting["time"], ""):
            self._sighting(sighting, values, made, marking, line)
        for source, kind, target in self.mapping.relationships:
            if marking is not None and source in made and target in made:
                body = {"relationship_type": kind, "source_ref": made[source], "target_ref": made[target]}
                self._put("relationship", body, marking, line, f"{made[source]}|{kind}|{made[target]}")

    def _bad(self, line: int, column: str, reason: str) -> None:
        self.problems.append(Problem(column, reason, f"line {line}"))

    def _marking(self, values: Mapping[str, str], line: int) -> Marking | None:
        """The row's marking, parsed once per distinct combination of marking columns."""
        columns = self.mapping.marking_columns
        key = tuple(values.get(c, "") for c in columns.values())
        if key not in self._markings:
            try:
                self._markings[key] = marking_from_dict(self._raw_marking(key), self.registry, "marking")
            except MarkingError as err:
                self._markings[key] = err.problems
        found = self._markings[key]
        if isinstance(found, list):
            for p in found:
                column = self._column_of(p.field)
                if column != p.field:
                    self._bad(line, column, p.reason)
                elif (fixed := Problem(p.field, p.reason, MAPPING)) not in self.problems:
                    # The mapping's own marking is wrong: once for the file, not once a row.
                    self.problems.append(fixed)
            return None
        return found

    def _given_by_columns(self, values: Mapping[str, str]) -> dict[str, str]:
        """The marking fields this row's columns fill in (over the mapping's fixed marking)."""
        given: dict[str, str] = {}
        # the nation first: an originator's nation decides more than its agency
        for name, column in sorted(self.mapping.marking_columns.items(), reverse=True):
            if values.get(column, ""):
                given.setdefault("originator" if name.startswith("originator_") else name, column)
        return given

    def _raw_marking(self, key: tuple[str, ...]) -> dict[str, Any]:
        raw = dict(self.mapping.marking)
        raw["originator"] = dict(raw.get("originator") or {})
        for name, value in zip(self.mapping.marking_columns, key, strict=True):
            if not value:
                continue
            if name in LIST_FIELDS:
                raw[name] = [v.strip() for v in value.split(self.mapping.separator) if v.strip()]
            elif name.startswith("originator_"):
                raw["originator"][name.removeprefix("originator_")] = value
            else:
                raw[name] = value
        return raw

    def _column_of(self, field: str) -> str:
        """The column a marking problem came from, when a column supplied that field."""
        name = field.removeprefix("marking.").replace("originator.", "originator_")
        return self.mapping.marking_columns.get(name, field)

    def _entity(
        self, kind: str, fields: Mapping[str, str], values: Mapping[str, str], marking: Marking | None, line: int
    ) -> str:
        got = {name: values.get(column, "") for name, column in fields.items()}
        got = {k: v for k, v in got.items() if v}
        main = RECORD_FIELDS[kind][0]
        if kind == "phone":
            got["number"], reason = normalise_phone(got["number"], self.mapping.phone_region)
            if reason:
                self._bad(line, fields["number"], reason)
        if kind == "vehicle":
            got["plate"] = got["plate"].upper()  # plates are written in capitals; "abc-123" is ABC-123
        key = got.pop("key", None) or got[main]
        body = _entity_body(kind, got)
        if marking is None:
            return ids.stix_id(_STIX_TYPE[kind], f"{self.report_id}|{kind}|{key}")
        return self._put(_STIX_TYPE[kind], body, marking, line, f"{kind}|{key}")

    def _sighting(
        self,
        fields: Mapping[str, str],
        values: Mapping[str, str],
        made: Mapping[str, str],
        marking: Marking | None,
        line: int,
    ) -> None:
        seen = self._time(values[fields["time"]], fields["time"], line)
        latitude = self._coordinate(values.get(fields["latitude"], ""), fields["latitude"], 90, line)
        longitude = self._coordinate(values.get(fields["longitude"], ""), fields["longitude"], 180, line)
        of = self.mapping.sighting_of or ""
        if of not in made:
            self._bad(line, fields["time"], f"a sighting needs a {of} on the same row")
        if marking is None or seen is None or latitude is None or longitude is None or of not in made:
            return
        place: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if values.get(fields.get("place", ""), ""):
            place["name"] = values[fields["place"]]
        where = self._put("location", place, marking, line, f"{latitude}|{longitude}|{place.get('name', '')}")
        body: dict[str, Any] = {
            "sighting_of_ref": made[of],
            "where_sighted_refs": [where],
            "first_seen": clock.stix_timestamp(seen),
        }
        if values.get(fields.get("description", ""), ""):
            body["description"] = values[fields["description"]]
        self._put("sighting", body, marking, line, f"{made[of]}|{body['first_seen']}|{where}")

    def _time(self, value: str, column: str, line: int) -> datetime | None:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self._bad(line, column, f"{value!r} is not a date and time such as 2025-03-01T14:30:00")
            return None
        if moment.tzinfo is None:  # no offset written: the mapping says which clock the file keeps
            moment = moment.replace(tzinfo=self.mapping.timezone)
        return clock.as_utc(moment)

    def _coordinate(self, value: str, column: str, limit: int, line: int) -> float | None:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not -limit <= number <= limit:  # NaN fails both comparisons
            self._bad(line, column, f"{value!r} is not a number from -{limit} to {limit}")
            return None
        return number

    def _put(self, stix_type: str, body: dict[str, Any], marking: Marking, line: int, key: str) -> str:
        """Add an object, or find the equal one an earlier row made; the id follows from report, key and marking."""
        item = ids.stix_id(stix_type, f"{self.report_id}|{key}|{marking.digest()}")
        earlier = self._objects.get(item)
        if earlier is None:
            for field, reason in property_problems(body, CONTENT[stix_type]) + source_field_problems(
                body, marking.source_fields
            ):
                self._bad(line, field, reason)
            self._objects[item] = _Pending(stix_type, body, marking, line, self._given)
        elif earlier.body != body:
            reason = f"names the same {stix_type} as line {earlier.line} with other details; add a key column"
            self._bad(line, stix_type, reason)
        return item


def _entity_body(kind: str, got: Mapping[str, str]) -> dict[str, Any]:
    if kind in ("person", "organization"):
        body = {"name": got["name"], "identity_class": "individual" if kind == "person" else "organization"}
        return body | ({"description": got["description"]} if "description" in got else {})
    return dict(got)
