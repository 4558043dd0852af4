"""Hand-written structural checks of STIX 2.1 objects: what tearline stores, property by property.

These run on every object of every bundle, so they are plain dict look-ups and small functions
(stix2-validator takes about 2 ms an object; these take microseconds). A check returns the
reason a value is wrong, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tearline import clock
from tearline.identifiers import id_type
from tearline.stix.person import PERSON_FIELDS, fields_object

Check = Callable[[object], str | None]

# STIX 2.1 timestamp: UTC with a `Z`, optional fractional seconds (§3.2).
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def parse_stix_time(value: object) -> datetime | None:
    """A STIX timestamp as an aware UTC datetime, or None when it is not one."""
    if not isinstance(value, str) or not TIMESTAMP.match(value):
        return None
    try:
        return clock.parse_timestamp(value)
    except ValueError:
        return None


def timestamp(value: object) -> str | None:
    if parse_stix_time(value) is None:
        return f"{value!r} is not a STIX timestamp such as 2025-03-01T12:00:00.000Z"
    return None


def text(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def any_text(value: object) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def text_list(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of strings"
    return None if all(isinstance(v, str) for v in value) else "must be a list of strings"


def number(low: float, high: float) -> Check:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            return f"must be a number from {low:g} to {high:g}"
        return None

    return check


def integer(low: int, high: int) -> Check:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be an integer from {low} to {high}"
        return None

    return check


def one_of(*allowed: str) -> Check:
    def check(value: object) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}"

    return check


def ref(*types: str) -> Check:
    """An id of one of `types`; whether it resolves is checked later, against the report."""

    def check(value: object) -> str | None:
        kind = id_type(value)
        if kind is None:
            return f"{value!r} is not a STIX id"
        return None if kind in types else f"must reference one of: {', '.join(types)}"

    return check


def refs(*types: str, most: int) -> Check:
    single = ref(*types)

    def check(value: object) -> str | None:
        if not isinstance(value, list) or not value:
            return "must be a non-empty list of ids"
        if len(value) > most:
            return f"at most {most} allowed"
        return next((reason for reason in map(single, value) if reason), None)

    return check


def external_references(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list"
    if not all(isinstance(v, dict) and isinstance(v.get("source_name"), str) for v in value):
        return "each external reference needs a source_name"
    return None


@dataclass(frozen=True)
class TypeSpec:
    """Properties tearline stores for one STIX type (beyond the common envelope)."""

    required: Mapping[str, Check]
    optional: Mapping[str, Check] = field(default_factory=dict)

    def allowed(self, name: str) -> Check | None:
        return self.required.get(name) or self.optional.get(name) or COMMON.get(name)


# Optional on every object; each is stored in the object's body and marked with it.
COMMON: Mapping[str, Check] = {
    "description": any_text,
    "labels": text_list,
    "confidence": integer(0, 100),
    "lang": text,
    "external_references": external_references,
}


# Ends that a relationship or sighting may point at: STIX forbids relationships of relationships.
ENTITIES = ("identity", "location", "x-tearline-phone", "x-tearline-vehicle", "x-tearline-event")

CONTENT: Mapping[str, TypeSpec] = {
    # A person's canonical fields come as tearline's extension (tearline.stix.person), or as the
    # custom property older nodes send, which is also where the store keeps them.
    "identity": TypeSpec(
        {"name": text, "identity_class": one_of("individual", "organization")},
        {"roles": text_list, "sectors": text_list, "contact_information": any_text, PERSON_FIELDS: fields_object},
    ),
    "location": TypeSpec(
        {"latitude": number(-90, 90), "longitude": number(-180, 180)},
        {
            "name": text,
            "precision": number(0, 1e9),
            "region": text,
            "country": text,
            "administrative_area": text,
            "city": text,
            "street_address": text,
            "postal_code": text,
        },
    ),
    "sighting": TypeSpec(
        {"sighting_of_ref": ref(*ENTITIES), "first_seen": timestamp},
        # One place: the store checks the visibility of one end per side (DESIGN §3.3 rule 8).
        {"where_sighted_refs": refs("location", most=1), "last_seen": timestamp, "count": integer(0, 999_999_999)},
    ),
    "relationship": TypeSpec(
        {"relationship_type": text, "source_ref": ref(*ENTITIES), "target_ref": ref(*ENTITIES)},
        {"start_time": timestamp, "stop_time": timestamp},
    ),
    "x-tearline-phone": TypeSpec({"number": text}, {"name": text}),
    "x-tearline-vehicle": TypeSpec(
        {"plate": text}, {"name": text, "make": text, "model": text, "color": text, "country": text, "vin": text}
    ),
    "x-tearline-event": TypeSpec(
        {"name": text, "occurred": timestamp}, {"location_ref": ref("location"), "event_type": text}
    ),
}

# What every object may carry outside its body: identity, versioning, provenance and marking.
ENVELOPE = frozenset(
    {"type", "spec_version", "id", "created", "modified", "created_by_ref", "object_marking_refs", "extensions"}
)


def property_problems(obj: Mapping[str, object], spec: TypeSpec) -> list[tuple[str, str]]:
    """(field, reason) for every missing, unknown or malformed property of a content object."""
    out = [(name, "required") for name in spec.required if name not in obj]
    for name, value in obj.items():
        if name in ENVELOPE:
            continue
        check = spec.allowed(name)
        if check is None:
            out.append((name, "not a property tearline stores for this type"))
            continue
        reason = check(value)
        if reason:
            out.append((name, reason))
    return out


def source_field_problems(body: Mapping[str, object], source_fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """A source-sensitive field must be text: readers outside the originator see the grade in its place."""
    return [
        (f"object_marking_refs.source_fields.{name}", f"{name!r} is not a text property; it cannot be withheld")
        for name in source_fields
        if name in body and not isinstance(body[name], str)
    ]
