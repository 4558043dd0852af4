"""Reports both ways. A report's title (`name`) and each portion carry their own marking as STIX
granular markings; its portions and 28 CFR Part 23 metadata live in tearline's report extension.

Nothing on a report is left unmarked: free text that no selector can mark (`description`,
`labels`) is refused rather than stored without a marking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tearline import clock
from tearline.errors import Problem
from tearline.markings.marking import Marking
from tearline.stix import ids
from tearline.stix.checks import Check, any_text, parse_stix_time, text, timestamp
from tearline.stix.definitions import marking_refs
from tearline.stix.markings import MarkingIndex, resolve
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.holdings import VersionTimes
from tearline.store.reads import ReportView

_REPORT_KEYS = frozenset(
    {"type", "spec_version", "id", "created", "modified", "created_by_ref", "extensions"}
    | {"name", "published", "object_refs", "granular_markings"}
)
_REQUIRED: Mapping[str, Check] = {"predicate": any_text, "review_due": timestamp}
_OPTIONAL: Mapping[str, Check] = {
    "portions": lambda v: None if isinstance(v, list) and v else "must be a non-empty list of strings",
    "need_to_know": any_text,
    "workspace": text,
    "banner": any_text,  # computed by the producer for display; never trusted, never stored
    "sources": lambda v: None if isinstance(v, list) else "must be a list",
}
TITLE_SELECTOR = "name"
WITHHELD_TITLE = "[title withheld]"


def report_draft(
    report: Mapping[str, Any], objects: list[ObjectDraft], markings: MarkingIndex, problems: list[Problem]
) -> ReportDraft | None:
    """The draft of one report, or None with every reason added to `problems`."""
    rid: str = report["id"]
    found = [
        Problem(k, "not accepted on a report: it could not carry a marking", rid)
        for k in report
        if k not in _REPORT_KEYS
    ]
    found += [
        Problem(f, r, rid)
        for f, r in (("name", text(report.get("name"))), ("published", timestamp(report.get("published"))))
        if r
    ]
    ext = _extension(report, rid, found)
    due = parse_stix_time(ext.get("review_due"))
    selectors = _selectors(report.get("granular_markings"), rid, found)
    title = _marked(selectors, TITLE_SELECTOR, "the title", markings, rid, found)
    texts = ext["portions"] if isinstance(ext.get("portions"), list) else []
    portions = [
        _marked(selectors, ids.portion_selector(i), f"portion {i + 1}", markings, rid, found) for i in range(len(texts))
    ]
    found += [
        Problem("granular_markings", f"selector {s!r} addresses neither the title nor a portion", rid)
        for s in sorted(selectors)
    ]
    found += [
        Problem(ids.portion_selector(i), "must be a string", rid) for i, t in enumerate(texts) if not isinstance(t, str)
    ]
    problems += found
    if found or title is None or due is None or None in portions:
        return None
    return ReportDraft(
        title=PortionDraft(report["name"], title),
        portions=tuple(PortionDraft(t, m) for t, m in zip(texts, portions, strict=True) if m is not None),
        predicate=ext["predicate"],
        review_due=due,
        need_to_know=ext.get("need_to_know", ""),
        objects=tuple(objects),
        stix_id=rid,
        workspace=ext.get("workspace"),
    )


def _extension(report: Mapping[str, Any], rid: str, found: list[Problem]) -> dict[str, Any]:
    extensions = report.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    ext = extensions.get(ids.EXT_REPORT)
    if not isinstance(ext, dict):
        found.append(Problem(f"extensions.{ids.EXT_REPORT}", "required: the tearline report extension", rid))
        return {}
    where = f"extensions.{ids.EXT_REPORT}"
    found += [
        Problem(f"extensions.{k}", "unknown extension on a report", rid) for k in extensions if k != ids.EXT_REPORT
    ]
    if ext.get("extension_type") != "property-extension":
        found.append(Problem(f"{where}.extension_type", "must be property-extension", rid))
    found += [Problem(f"{where}.{k}", "required", rid) for k in _REQUIRED if k not in ext]
    for key, value in ext.items():
        if key == "extension_type":
            continue
        check = _REQUIRED.get(key) or _OPTIONAL.get(key)
        reason = check(value) if check else "unknown property"
        if reason:
            found.append(Problem(f"{where}.{key}", reason, rid))
    # Returned even when some fields are wrong, so that the portions' markings are still checked.
    return ext


def _selectors(value: object, rid: str, found: list[Problem]) -> dict[str, list[str]]:
    """selector -> the marking ids that granular markings apply to it."""
    if not isinstance(value, list) or not value:
        found.append(Problem("granular_markings", "required: the title and every portion carry a marking", rid))
        return {}
    out: dict[str, list[str]] = {}
    for i, entry in enumerate(value):
        ok = isinstance(entry, dict) and isinstance(entry.get("marking_ref"), str)
        selectors = entry.get("selectors") if isinstance(entry, dict) else None
        if not ok or not isinstance(selectors, list) or not selectors or "lang" in entry:
            found.append(Problem(f"granular_markings.[{i}]", "needs a marking_ref and a list of selectors", rid))
            continue
        for selector in selectors:
            out.setdefault(str(selector), []).append(entry["marking_ref"])
    return out


def _marked(
    selectors: dict[str, list[str]], selector: str, what: str, markings: MarkingIndex, rid: str, found: list[Problem]
) -> Marking | None:
    refs = selectors.pop(selector, None)
    if refs is None:
        found.append(Problem("granular_markings", f"no marking for selector {selector!r} ({what})", rid))
        return None
    return resolve(refs, markings, rid, f"granular_markings[{selector}]", found)


def stix_report(
    view: ReportView, creator: str, workspace: str | None, times: VersionTimes | None = None
) -> dict[str, Any]:
    """A report as a reader sees it: only visible portions (renumbered) and objects, each still marked.

    With `times`, `created` is the report's first version and `modified` this one (STIX 2.1 §3.2);
    without, both are the view's own time.
    """
    created, modified = report_stamps(view, times)
    granular: dict[str, list[str]] = {}

    def mark(marking: Marking, selector: str) -> None:
        for ref in marking_refs(marking):
            granular.setdefault(ref, []).append(selector)

    title, title_marking = _title(view)
    mark(title_marking, TITLE_SELECTOR)
    for i, portion in enumerate(view.portions):
        mark(portion.marking, ids.portion_selector(i))
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": view.stix_id,
        "created": created,
        "modified": modified,
        "created_by_ref": creator,
        "name": title,
        "published": modified,
        # STIX needs at least one ref; a report with no visible object names its producer.
        "object_refs": sorted({o.stix_id for o in view.objects}) or [creator],
        "extensions": {ids.EXT_REPORT: _report_extension(view, workspace)},
        "granular_markings": [{"marking_ref": ref, "selectors": granular[ref]} for ref in sorted(granular)],
    }


def report_stamps(view: ReportView, times: VersionTimes | None) -> tuple[str, str]:
    """The report's (created, modified) as STIX timestamps."""
    if times is not None:
        return clock.stix_timestamp(times.created), clock.stix_timestamp(times.modified)
    modified = clock.stix_timestamp(view.created_at) if view.created_at else ids.DEFINED
    # `created` is the same for every version of one object (STIX 2.1 §3.2): the reader's first.
    created = clock.stix_timestamp(view.first_created_at) if view.first_created_at else modified
    return created, modified


def _title(view: ReportView) -> tuple[str, Marking]:
    """The title, or a placeholder marked like a visible item when the reader may not see the title."""
    if view.title is not None and view.title_marking is not None:
        return view.title, view.title_marking
    visible = [p.marking for p in view.portions] + [o.marking for o in view.objects]
    return WITHHELD_TITLE, visible[0]


def _report_extension(view: ReportView, workspace: str | None) -> dict[str, Any]:
    ext: dict[str, Any] = {"extension_type": "property-extension", "predicate": view.predicate}
    if view.review_due is not None:
        ext["review_due"] = clock.stix_timestamp(view.review_due)
    if view.portions:
        ext["portions"] = [p.text for p in view.portions]
    if view.need_to_know:
        ext["need_to_know"] = view.need_to_know
    if workspace:
        ext["workspace"] = workspace
    ext["banner"] = view.banner
    sources = _sources([(p.marking, p.hash) for p in view.portions] + [(o.marking, o.hash) for o in view.objects])
    if sources:  # STIX forbids empty lists; a title-only report has no hashed input to name
        ext["sources"] = sources
    return ext


def _sources(items: Iterable[tuple[Marking, str]]) -> list[dict[str, Any]]:
    """Originator and hash of each input: an export is a derived item (DESIGN §3.4)."""
    return [{"originator": {"nation": m.originator_nation, "agency": m.originator_agency}, "hash": h} for m, h in items]
