"""tearline's fixed STIX objects (its identity and extension definitions) and marking definitions.

A national marking travels as a `marking-definition` whose tearline property-extension holds
the fields of `Marking.as_dict()`. A TLP 2.0 label also references the standard TLP 2.0
marking-definition, so that tools that know only TLP still see it.
"""

from __future__ import annotations

from typing import Any

from tearline.markings.banner import portion_mark
from tearline.markings.marking import Marking
from tearline.markings.scheme import DEFAULT_TABLE
from tearline.stix import ids

# Where each extension is defined: the `schema` property may be plain text (STIX 2.1 §7.3).
SCHEMA_TEXT = "tearline STIX profile v1: see docs/ingest.md, section '{section}'"

_EXTENSIONS: dict[str, tuple[str, str, str]] = {
    ids.EXT_MARKING: (
        "tearline national marking",
        "A national marking: originator, level, rel_to, controls, compartments, source fields and grade.",
        "property-extension",
    ),
    ids.EXT_REPORT: (
        "tearline report",
        "Marked portions, criminal predicate, need-to-know, review date (28 CFR Part 23) and workspace.",
        "property-extension",
    ),
    ids.EXT_PERSON: (
        "tearline person",
        "A person's canonical fields for entity resolution: dob, phones, national_id, aliases, address, ...",
        "property-extension",
    ),
    ids.EXT_PHONE: ("tearline phone", "A phone number (E.164 where known).", "new-sdo"),
    ids.EXT_VEHICLE: ("tearline vehicle", "A vehicle, by plate, make, model and colour.", "new-sdo"),
    ids.EXT_EVENT: ("tearline event", "Something that happened at a time, optionally at a location.", "new-sdo"),
}


def tearline_identity() -> dict[str, Any]:
    """The fixed identity that defines tearline's extensions and national marking definitions."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": ids.TEARLINE_IDENTITY,
        "created": ids.DEFINED,
        "modified": ids.DEFINED,
        "name": "tearline",
        "description": "Defines the tearline STIX extensions and national marking definitions.",
        "identity_class": "system",
    }


def node_identity(nation: str, agency: str) -> dict[str, Any]:
    """The identity of the node that produced a bundle."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": ids.node_identity_id(nation, agency),
        "created": ids.DEFINED,
        "modified": ids.DEFINED,
        "name": f"{agency} ({nation})",
        "identity_class": "organization",
        "sectors": ["government-national"],
    }


def extension_definition(ext_id: str) -> dict[str, Any]:
    name, description, kind = _EXTENSIONS[ext_id]
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ext_id,
        "created": ids.DEFINED,
        "modified": ids.DEFINED,
        "created_by_ref": ids.TEARLINE_IDENTITY,
        "name": name,
        "description": description,
        "schema": SCHEMA_TEXT.format(section=name),
        "version": "1.0.0",
        "extension_types": [kind],
    }


def is_tearline_extension(ext_id: str) -> bool:
    return ext_id in _EXTENSIONS


def tlp_name(marking: Marking) -> str | None:
    """The TLP 2.0 label of a marking, without its `TLP:` prefix (CLEAR, GREEN, …), or None."""
    if not marking.tlp:
        return None
    return marking.tlp.upper().removeprefix("TLP:")


def tlp_definition(name: str) -> dict[str, Any]:
    """The standard TLP 2.0 marking-definition, exactly as oasis-open/cti-stix-common-objects has it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": ids.TLP2_IDS[name],
        "created": ids.TLP2_CREATED,
        "name": f"TLP:{name}",
        "extensions": {ids.TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": name.lower()}},
    }


def marking_extension(marking: Marking) -> dict[str, Any]:
    """The marking's fields as the extension carries them; STIX forbids empty lists, so they are left out."""
    fields = {k: v for k, v in marking.as_dict().items() if v != []}
    return {"extension_type": "property-extension", **fields}


def marking_definition(marking: Marking) -> dict[str, Any]:
    mark = portion_mark(marking, marking.originator_nation, DEFAULT_TABLE)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": ids.marking_definition_id(marking),
        "created": ids.DEFINED,
        "created_by_ref": ids.TEARLINE_IDENTITY,
        "name": f"{marking.originator_nation} {marking.originator_agency} {mark}",
        "extensions": {ids.EXT_MARKING: marking_extension(marking)},
    }


def marking_refs(marking: Marking) -> list[str]:
    """What an object or selector references for this marking: the national one, then its TLP 2.0 label."""
    refs = [ids.marking_definition_id(marking)]
    tlp = tlp_name(marking)
    if tlp in ids.TLP2_IDS:
        refs.append(ids.TLP2_IDS[tlp])
    return refs
