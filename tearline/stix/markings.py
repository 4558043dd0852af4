"""Reading marking definitions and marking references out of a bundle.

Each national marking-definition is parsed once with `marking_from_dict` (DESIGN §3.2 lives
there, not here); objects and portions then resolve their references against that index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tearline.errors import MarkingError, Problem
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.stix import ids
from tearline.stix.checks import text, timestamp
from tearline.stix.definitions import tlp_definition, tlp_name

_ALLOWED = frozenset({"type", "spec_version", "id", "created", "created_by_ref", "name", "extensions"})


@dataclass
class MarkingIndex:
    """The bundle's markings by id; `refused` ones were reported already, so references to them stay quiet."""

    national: dict[str, Marking] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)


def index_markings(objects: Iterable[Mapping[str, Any]], registry: Registry, problems: list[Problem]) -> MarkingIndex:
    index = MarkingIndex()
    for obj in objects:
        if obj.get("type") != "marking-definition" or not isinstance(obj.get("id"), str):
            continue
        found = _definition_problems(obj, registry, index)
        if found:
            problems.extend(found)
            index.refused.add(obj["id"])
    return index


def _definition_problems(obj: Mapping[str, Any], registry: Registry, index: MarkingIndex) -> list[Problem]:
    md_id: str = obj["id"]
    if md_id in ids.TLP1_IDS:
        return [Problem("id", "TLP 1.0 is not accepted; use the TLP 2.0 marking definitions", md_id)]
    if md_id in ids.TLP2_BY_ID:
        expected = tlp_definition(ids.TLP2_BY_ID[md_id])
        same = all(obj.get(k) == expected[k] for k in ("name", "extensions"))
        return [] if same else [Problem("extensions", "differs from the standard TLP 2.0 definition", md_id)]
    out = [Problem(k, "not accepted on a tearline marking-definition", md_id) for k in obj if k not in _ALLOWED]
    out += [Problem("created", r, md_id) for r in [timestamp(obj.get("created"))] if r]
    out += [Problem("name", r, md_id) for r in [text(obj.get("name"))] if "name" in obj and r]
    raw = _extension(obj, md_id, out)
    if raw is None:
        return out
    try:
        marking = marking_from_dict(raw, registry, "marking")
    except MarkingError as err:
        return out + [Problem(p.field, p.reason, md_id) for p in err.problems]
    if md_id != ids.marking_definition_id(marking):
        expected_id = ids.marking_definition_id(marking)
        out.append(Problem("id", f"does not match the marking's content; expected {expected_id}", md_id))
    if not out:
        index.national[md_id] = marking
    return out


def _extension(obj: Mapping[str, Any], md_id: str, out: list[Problem]) -> dict[str, Any] | None:
    """The national marking's fields, or None (with the reason in `out`)."""
    extensions = obj.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    body = extensions.get(ids.EXT_MARKING)
    if not isinstance(body, dict):
        reason = "only tearline national markings (and TLP 2.0) are accepted"
        out.append(Problem(f"extensions.{ids.EXT_MARKING}", reason, md_id))
        return None
    for key in sorted(set(extensions) - {ids.EXT_MARKING}):
        out.append(Problem(f"extensions.{key}", "unknown extension on a marking-definition", md_id))
    if body.get("extension_type") != "property-extension":
        out.append(Problem("extension_type", "must be property-extension", md_id))
    return {k: v for k, v in body.items() if k != "extension_type"}


def resolve(value: object, index: MarkingIndex, item: str, where: str, problems: list[Problem]) -> Marking | None:
    """The one national marking that `value` (a list of marking ids) names, or None with problems added."""
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        problems.append(Problem(where, "must be a non-empty list of marking-definition ids", item))
        return None
    national = [index.national[r] for r in value if r in index.national]
    quiet = any(r in index.refused for r in value)
    for r in value:
        if r in ids.TLP1_IDS:
            problems.append(Problem(where, f"{r} is TLP 1.0, which is not accepted; use TLP 2.0", item))
        elif r not in index.national and r not in ids.TLP2_BY_ID and r not in index.refused:
            problems.append(Problem(where, f"{r} is not a marking-definition in this bundle", item))
    if len(national) != 1:
        if national or not quiet:
            problems.append(Problem(where, f"needs exactly one tearline national marking, has {len(national)}", item))
        return None
    marking = national[0]
    for r in value:
        label = ids.TLP2_BY_ID.get(r)
        if label is not None and label != tlp_name(marking):
            said = f"TLP:{tlp_name(marking)}" if marking.tlp else "no TLP label"
            reason = f"references TLP:{label} but its national marking has {said}; a TLP label belongs in the marking"
            problems.append(Problem(where, reason, item))
    return marking
