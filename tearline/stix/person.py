"""A person's canonical fields (dob, phones, national_id, ...; docs/resolve.md) on an individual identity.

They travel as tearline's property-extension (STIX 2.1 §7.3 deprecates custom properties in favour
of extensions): `extensions: {EXT_PERSON: {"extension_type": "property-extension", "dob": ...}}`.
The custom property `x_tearline_person` that earlier nodes wrote is still read on every way in, so
their files and releases keep working; an object may give the fields one way or the other, not both.

The store keeps the fields as it always has, under `x_tearline_person` in the object's body (what
entity resolution reads). Rows stored before read the same, and the object's hash, which releases,
consents and the audit log name, does not change with the wire form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tearline.stix import ids

# The key of the fields in a stored body, and the custom property that older nodes send.
PERSON_FIELDS = "x_tearline_person"
EXT_PERSON = ids.EXT_PERSON
EXTENSION_TYPE = "property-extension"
WHERE = f"extensions.{EXT_PERSON}"


def fields_object(value: object) -> str | None:
    """The custom property's own check: an object (its fields are checked by `person_problems`)."""
    if not isinstance(value, dict):
        return "must be an object of person fields (dob, phones, national_id, ...)"
    return None


def person_problems(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field path, reason) for the person fields of an identity, in either form.

    `obj` is the STIX object (or an API object's properties); other extensions are refused here,
    since tearline would drop them."""
    old = obj.get(PERSON_FIELDS)
    out = _field_problems(old, PERSON_FIELDS) if isinstance(old, dict) else []
    if "extensions" not in obj:
        return out
    extensions = obj["extensions"]
    if not isinstance(extensions, dict):
        return [*out, ("extensions", f"must be an object: {{{EXT_PERSON!r}: {{person fields}}}}")]
    out += [
        (f"extensions.{key}", f"not an extension tearline stores on an identity; person fields go in {WHERE}")
        for key in extensions
        if key != EXT_PERSON
    ]
    if EXT_PERSON in extensions:
        out += _extension_problems(extensions[EXT_PERSON])
        if PERSON_FIELDS in obj:
            out.append((PERSON_FIELDS, f"the person fields are given twice: keep only {WHERE}"))
    return out


def _extension_problems(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [(WHERE, f"must be an object: extension_type {EXTENSION_TYPE!r} and the person fields")]
    out = []
    if value.get("extension_type") != EXTENSION_TYPE:
        out.append((f"{WHERE}.extension_type", f"must be {EXTENSION_TYPE!r}"))
    fields = {k: v for k, v in value.items() if k != "extension_type"}
    return out + _field_problems(fields, WHERE)


def _field_problems(fields: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """Each field is one value that entity resolution reads as text: a string, or an integer."""
    out = []
    for name, value in fields.items():
        if name == "extension_type" and where == PERSON_FIELDS:
            out.append((f"{where}.{name}", "not a person field: it belongs to the extension's form"))
        elif isinstance(value, bool) or not isinstance(value, str | int):
            out.append((f"{where}.{name}", "must be a string (or an integer)"))
    return out


def lifted(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The person fields of a checked object in their stored form: `{PERSON_FIELDS: {...}}`, or {}
    when the object carries no person extension (a custom property stays where it is)."""
    extensions = obj.get("extensions")
    ext = extensions.get(EXT_PERSON) if isinstance(extensions, dict) else None
    if not isinstance(ext, dict):
        return {}
    return {PERSON_FIELDS: {k: v for k, v in ext.items() if k != "extension_type"}}


def person_extension(body: Mapping[str, Any]) -> dict[str, Any]:
    """The extensions entry that carries a stored body's person fields out, or {} when it has none."""
    fields = body.get(PERSON_FIELDS)
    if not isinstance(fields, dict):
        return {}
    return {EXT_PERSON: {"extension_type": EXTENSION_TYPE, **fields}}
