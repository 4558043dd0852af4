"""STIX 2.1 bundle -> report drafts: a fast structural check, all or nothing.

Every problem in the whole bundle is collected (object id, field, reason) and raised together,
so a producer fixes a bundle in one round. Nothing here parses with `stix2` or runs
stix2-validator: those cost milliseconds an object, and ingest must keep up with partners.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tearline.errors import InvalidInput, Problem
from tearline.markings.marking import Marking, Registry
from tearline.stix import ids
from tearline.stix.checks import CONTENT, ENVELOPE, property_problems, source_field_problems
from tearline.stix.envelope import bundle_objects, producer_problems
from tearline.stix.markings import MarkingIndex, index_markings
from tearline.stix.markings import resolve as resolve_marking
from tearline.stix.objects import object_draft, reference_fields
from tearline.stix.person import lifted, person_problems
from tearline.stix.reports import report_draft
from tearline.store.drafts import ObjectDraft, ReportDraft


@dataclass(frozen=True)
class Entity:
    """A content object that passed its own checks: its STIX form, stored body and marking."""

    obj: Mapping[str, Any]
    body: dict[str, Any]
    marking: Marking


def bundle_to_drafts(bundle: object, registry: Registry) -> list[ReportDraft]:
    """Every report of the bundle as a draft; raise InvalidInput listing every problem otherwise."""
    problems: list[Problem] = []
    objects = bundle_objects(bundle, problems)
    markings = index_markings(objects.values(), registry, problems)
    reports = [obj for obj in objects.values() if obj.get("type") == "report"]
    if objects and not reports:
        problems.append(Problem("objects", "the bundle holds no report", str(_get(bundle, "id"))))
    members = {r["id"]: _members(r, objects, problems) for r in reports}
    in_reports = set().union(*members.values()) if members else set()
    producers, found = producer_problems(objects, in_reports)
    problems += found
    problems += _unreported(objects, in_reports | producers)
    entities = {item: _entity(objects[item], markings, problems) for item in sorted(in_reports)}
    bodies = {item: entity.body for item, entity in entities.items() if entity is not None}
    drafts = []
    for report in reports:
        parts = _report_objects(report["id"], members[report["id"]], entities, bodies, objects, problems)
        draft = report_draft(report, parts, markings, problems)
        if draft is not None:
            drafts.append(draft)
    if problems:
        raise InvalidInput(problems)
    return drafts


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _members(report: Mapping[str, Any], objects: Mapping[str, Mapping[str, Any]], problems: list[Problem]) -> set[str]:
    """The content objects a report names; its own producer identity may stand in for none."""
    rid: str = report["id"]
    refs = report.get("object_refs")
    if not isinstance(refs, list) or not refs:
        problems.append(Problem("object_refs", "must be a non-empty list of ids", rid))
        return set()
    out: set[str] = set()
    for ref in refs:
        target = objects.get(ref) if isinstance(ref, str) else None
        if ref == report.get("created_by_ref"):
            continue
        if target is None:
            problems.append(Problem("object_refs", f"{ref!r} is not an object in this bundle", rid))
        elif target.get("type") not in CONTENT:
            problems.append(Problem("object_refs", f"{ref} is a {target.get('type')}, not report content", rid))
        else:
            out.add(ref)
    return out


def _unreported(objects: Mapping[str, Mapping[str, Any]], accounted: set[str]) -> list[Problem]:
    """Content that no report names would be dropped silently; refuse it instead."""
    return [
        Problem("id", "no report names this object in its object_refs", item)
        for item, obj in objects.items()
        if obj.get("type") in CONTENT and item not in accounted
    ]


def _entity(obj: Mapping[str, Any], markings: MarkingIndex, problems: list[Problem]) -> Entity | None:
    item: str = obj["id"]
    kind: str = obj["type"]
    found = [Problem(f, r, item) for f, r in property_problems(obj, CONTENT[kind])]
    found += _extension_problems(obj, kind, item)
    if "granular_markings" in obj:
        found.append(Problem("granular_markings", "an object is marked whole, with object_marking_refs", item))
    marking = resolve_marking(obj.get("object_marking_refs"), markings, item, "object_marking_refs", found)
    body = {k: v for k, v in obj.items() if k not in ENVELOPE and k != "granular_markings"} | lifted(obj)
    if marking is not None:
        found += [Problem(f, r, item) for f, r in source_field_problems(body, marking.source_fields)]
    problems += found
    return Entity(obj, body, marking) if marking is not None and not found else None


def _extension_problems(obj: Mapping[str, Any], kind: str, item: str) -> list[Problem]:
    """Custom types carry exactly their new-sdo extension; an identity may carry a person's fields as
    tearline's property-extension; other STIX types carry none that tearline would drop."""
    if kind == "identity":
        return [Problem(f, r, item) for f, r in person_problems(obj)]
    ext_id = ids.NEW_SDO.get(kind)
    expected = {ext_id: {"extension_type": "new-sdo"}} if ext_id else None
    value = obj.get("extensions")
    if value == expected:
        return []
    if expected is None:
        return [Problem("extensions", "tearline stores no extensions on this type", item)]
    return [Problem("extensions", f"must be exactly {{{ext_id!r}: {{'extension_type': 'new-sdo'}}}}", item)]


def _report_objects(
    rid: str,
    members: set[str],
    entities: Mapping[str, Entity | None],
    bodies: Mapping[str, Mapping[str, Any]],
    objects: Mapping[str, Mapping[str, Any]],
    problems: list[Problem],
) -> list[ObjectDraft]:
    """Drafts of the report's objects, once every reference resolves inside the report."""
    drafts = []
    for item in sorted(members):
        entity = entities.get(item)
        if entity is None:
            continue
        missing = False
        for field, ref in reference_fields(entity.body):
            if ref in members:
                continue
            where = "an object of this report" if ref in objects else "in this bundle"
            problems.append(Problem(field, f"{ref} is not {where} (report {rid})", item))
            missing = True
        if not missing:
            drafts.append(object_draft(item, entity.obj["type"], entity.body, entity.marking, bodies))
    return drafts
