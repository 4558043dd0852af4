"""What a reader may see -> one STIX 2.1 bundle, with deterministic ids and every marking it uses.

The views come from the store's read path, which already applied every visibility rule and
replaced source-sensitive text with the grade; this module only changes the form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tearline import clock
from tearline.markings.marking import Marking
from tearline.stix import ids
from tearline.stix.definitions import (
    extension_definition,
    is_tearline_extension,
    marking_definition,
    node_identity,
    tearline_identity,
    tlp_definition,
    tlp_name,
)
from tearline.stix.objects import stix_object
from tearline.stix.reports import report_stamps, stix_report
from tearline.store.holdings import VersionTimes
from tearline.store.reads import ReportView


def bundle_for(
    views: Iterable[ReportView],
    node_nation: str,
    node_agency: str,
    workspaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A bundle of the given report views; `workspaces` maps a report id to its workspace slug."""
    creator = ids.node_identity_id(node_nation, node_agency)
    reports: list[dict[str, Any]] = []
    objects: dict[str, dict[str, Any]] = {}
    markings: dict[str, Marking] = {}
    for view in views:
        reports.append(stix_report(view, creator, (workspaces or {}).get(view.stix_id)))
        created, modified = report_stamps(view, None)
        for obj in view.objects:
            # The same object in two reports is one STIX object; the first report's copy stands.
            objects.setdefault(obj.stix_id, stix_object(obj, created, creator, modified))
        for marking in _markings(view):
            markings[ids.marking_definition_id(marking)] = marking
    content = [tearline_identity(), node_identity(node_nation, node_agency)]
    content += [extension_definition(e) for e in _extensions(objects.values())]
    content += [tlp_definition(name) for name in sorted({tlp_name(m) or "" for m in markings.values()} - {""})]
    content += [marking_definition(markings[k]) for k in sorted(markings)]
    content += reports
    content += [objects[k] for k in sorted(objects)]
    return {"type": "bundle", "id": ids.bundle_id(content), "objects": content}


def _markings(view: ReportView) -> list[Marking]:
    out = [p.marking for p in view.portions] + [o.marking for o in view.objects]
    return out + ([view.title_marking] if view.title_marking is not None else [])


def _extensions(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """tearline's extension definitions: markings and reports always, any other (a custom type's, the
    person fields') when an object uses it."""
    used = {e for o in objects for e in o.get("extensions", {}) if is_tearline_extension(e)}
    return [ids.EXT_MARKING, ids.EXT_REPORT, *sorted(used - {ids.EXT_MARKING, ids.EXT_REPORT})]


def restamp(bundle: Mapping[str, Any], report_id: str, times: VersionTimes) -> dict[str, Any]:
    """The bundle with the report and its objects stamped with their true times (STIX 2.1 §3.2).

    A bundle made from a view without times (a tearline) has one fixed time on everything, so two
    versions of one report would share a `modified` while their content differs.
    """
    objects = [_restamped(o, report_id, times) for o in bundle["objects"]]
    return {**bundle, "id": ids.bundle_id(objects), "objects": objects}


def _restamped(obj: dict[str, Any], report_id: str, times: VersionTimes) -> dict[str, Any]:
    if obj["id"] == report_id:
        created, modified = times.created, times.modified
        stamps = {"published": clock.stix_timestamp(modified)}
    elif obj["id"] in times.objects:
        created, modified = times.objects[obj["id"]]
        stamps = {}
    else:
        return obj  # a definition or identity: its fixed time is its id's
    stamps |= {"created": clock.stix_timestamp(created), "modified": clock.stix_timestamp(modified)}
    return {**obj, **stamps}
