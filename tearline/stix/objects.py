"""Structured objects both ways: a checked STIX object -> ObjectDraft, and a stored object -> STIX.

Persons and organisations are `identity`; phones, vehicles and events are tearline's new-sdo
types; places are `location`; a sighting names what was seen and (at most) one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tearline.markings.marking import Marking
from tearline.stix import ids
from tearline.stix.checks import ENVELOPE, parse_stix_time
from tearline.stix.definitions import marking_refs
from tearline.stix.person import PERSON_FIELDS, person_extension
from tearline.store.drafts import ObjectDraft
from tearline.store.reads import ObjectView

_SINGLE_REFS = ("source_ref", "target_ref", "sighting_of_ref", "location_ref")
_NOT_BODY = ENVELOPE | {"granular_markings", PERSON_FIELDS}


def reference_fields(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, id) for every object an object refers to; each must be in the same report."""
    out = [(name, body[name]) for name in _SINGLE_REFS if isinstance(body.get(name), str)]
    places = body.get("where_sighted_refs")
    if isinstance(places, list):
        out += [(f"where_sighted_refs.[{i}]", ref) for i, ref in enumerate(places) if isinstance(ref, str)]
    return out


def object_draft(
    item: str, kind: str, body: dict[str, Any], marking: Marking, bodies: Mapping[str, Mapping[str, Any]]
) -> ObjectDraft:
    """The draft of one checked object; `bodies` gives the places that sightings and events point at."""
    source, target = _ends(kind, body)
    place = _place(kind, body, target, bodies)
    return ObjectDraft(
        stix_id=item,
        stix_type=kind,
        body=body,
        marking=marking,
        name=_name(kind, body),
        observed_at=_observed(kind, body),
        latitude=_coordinate(place, "latitude"),
        longitude=_coordinate(place, "longitude"),
        source_ref=source,
        target_ref=target,
    )


def _ends(kind: str, body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The two ends the store checks for visibility (DESIGN §3.3 rule 8)."""
    if kind == "relationship":
        return body["source_ref"], body["target_ref"]
    if kind == "sighting":
        places = body.get("where_sighted_refs") or [None]
        return body["sighting_of_ref"], places[0]
    if kind == "x-tearline-event":
        return None, body.get("location_ref")
    return None, None


def _place(
    kind: str, body: Mapping[str, Any], target: str | None, bodies: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """Where the object is on the map: a location itself, or the place a sighting or event names."""
    if kind == "location":
        return body
    if kind in ("sighting", "x-tearline-event") and target is not None:
        return bodies.get(target, {})
    return {}


def _name(kind: str, body: Mapping[str, Any]) -> str:
    if kind == "x-tearline-phone":
        return str(body["number"])
    if kind == "x-tearline-vehicle":
        return str(body["plate"])
    if kind == "relationship":
        return str(body["relationship_type"])
    if kind == "location" and "name" not in body:
        return f"{body['latitude']}, {body['longitude']}"
    # A sighting gets no name: copying its target's name would bypass the target's own marking.
    return str(body.get("name", ""))


def _observed(kind: str, body: Mapping[str, Any]) -> datetime | None:
    if kind == "sighting":
        return parse_stix_time(body["first_seen"])
    if kind == "x-tearline-event":
        return parse_stix_time(body["occurred"])
    return None


def _coordinate(place: Mapping[str, Any], axis: str) -> float | None:
    value = place.get(axis)
    return float(value) if isinstance(value, int | float) else None


def stix_object(view: ObjectView, created: str, creator: str, modified: str | None = None) -> dict[str, Any]:
    """A stored object as STIX 2.1, marked with its own marking (and its TLP 2.0 label); `modified`
    defaults to `created`."""
    obj: dict[str, Any] = {
        "type": view.stix_type,
        "spec_version": "2.1",
        "id": view.stix_id,
        "created": created,
        "modified": modified or created,
        "created_by_ref": creator,
    }
    obj.update((k, v) for k, v in view.body.items() if k not in _NOT_BODY)
    obj["object_marking_refs"] = marking_refs(view.marking)
    extensions = person_extension(view.body)  # stored as the custom property, sent as the extension
    ext_id = ids.NEW_SDO.get(view.stix_type)
    if ext_id is not None:
        extensions[ext_id] = {"extension_type": "new-sdo"}
    if extensions:
        obj["extensions"] = extensions
    return obj
