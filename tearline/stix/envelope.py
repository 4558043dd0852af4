"""The first pass over a bundle: its shape, and each object's type, id, version and timestamps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tearline.errors import Problem
from tearline.identifiers import id_type
from tearline.stix import ids
from tearline.stix.checks import CONTENT, parse_stix_time, text
from tearline.stix.definitions import is_tearline_extension

STRUCTURAL = frozenset({"report", "marking-definition", "extension-definition"})
KNOWN_TYPES = STRUCTURAL | frozenset(CONTENT)


def bundle_objects(bundle: object, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """Every object of the bundle with a usable id, by id; what is wrong goes to `problems`."""
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        problems.append(Problem("type", "must be a STIX 2.1 bundle (an object with type 'bundle')"))
        return {}
    where = str(bundle.get("id") or "bundle")
    if id_type(bundle.get("id")) != "bundle":
        problems.append(Problem("id", f"{bundle.get('id')!r} is not a bundle id", "bundle"))
    raw = bundle.get("objects")
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("objects", "must be a non-empty list", where))
        return {}
    found: dict[str, dict[str, Any]] = {}
    for position, obj in enumerate(raw):
        if not isinstance(obj, dict):
            problems.append(Problem(f"objects.[{position}]", "must be an object", where))
            continue
        item = _usable_id(obj, position, where, problems)
        if item is None:
            continue
        if item in found:
            problems.append(Problem("id", "appears more than once in the bundle", item))
            continue
        found[item] = obj
        problems.extend(envelope_problems(obj, item))
    return found


def _usable_id(obj: Mapping[str, Any], position: int, where: str, problems: list[Problem]) -> str | None:
    value = obj.get("id")
    kind = id_type(value)
    if kind is None or not isinstance(value, str):
        problems.append(Problem("id", f"{value!r} is not a STIX id (type--UUID)", f"{where} objects.[{position}]"))
        return None
    if kind != obj.get("type"):
        problems.append(Problem("type", f"{obj.get('type')!r} does not match the id's type {kind!r}", value))
        return None
    return value


def envelope_problems(obj: Mapping[str, Any], item: str) -> list[Problem]:
    """Type, spec_version, created and modified of one object."""
    kind = obj["type"]
    if kind not in KNOWN_TYPES:
        return [Problem("type", f"unknown type {kind!r}; tearline stores {', '.join(sorted(KNOWN_TYPES))}", item)]
    out: list[Problem] = []
    if obj.get("spec_version") != "2.1":
        out.append(Problem("spec_version", "must be '2.1'", item))
    created = parse_stix_time(obj.get("created"))
    if created is None:
        out.append(Problem("created", f"{obj.get('created')!r} is not a STIX timestamp", item))
    if kind != "marking-definition":
        modified = parse_stix_time(obj.get("modified"))
        if modified is None:
            out.append(Problem("modified", f"{obj.get('modified')!r} is not a STIX timestamp", item))
        elif created is not None and modified < created:
            out.append(Problem("modified", "must not be earlier than created", item))
    if kind == "extension-definition" and not (is_tearline_extension(item) or item == ids.TLP2_EXTENSION):
        out.append(Problem("id", "unknown extension-definition; tearline accepts its own and TLP 2.0", item))
    return out


def producer_problems(objects: Mapping[str, Mapping[str, Any]], members: set[str]) -> tuple[set[str], list[Problem]]:
    """Every created_by_ref must resolve; the identities it names are producers, not report content."""
    producers: set[str] = set()
    out: list[Problem] = []
    for item, obj in objects.items():
        creator = obj.get("created_by_ref")
        if creator is None or item == ids.TLP2_EXTENSION:  # OASIS made TLP 2.0; its identity need not travel
            continue
        if creator == ids.TEARLINE_IDENTITY:  # well known: it need not travel with the bundle
            producers.add(creator)
            continue
        target = objects.get(creator) if isinstance(creator, str) else None
        if target is None or target.get("type") != "identity":
            out.append(Problem("created_by_ref", f"{creator!r} is not an identity in this bundle", item))
        else:
            producers.add(creator)
    for producer in producers - members:
        reason = text(objects.get(producer, {"name": "tearline"}).get("name"))
        if reason:
            out.append(Problem("name", reason, producer))
    return producers, out
