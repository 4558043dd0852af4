"""JSON shapes of what the API returns. Every document carries its banner, computed for the reader."""

from __future__ import annotations

from typing import Any

from tearline.markings.banner import portion_mark
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.store.reads import ObjectView, Page, PortionView, ReportView


def marking_json(marking: Marking, table: EquivalenceTable, node_nation: str) -> dict[str, Any]:
    out = marking.as_dict()
    out["portion_mark"] = portion_mark(marking, node_nation, table)
    return out


def portion_json(p: PortionView, table: EquivalenceTable, nation: str) -> dict[str, Any]:
    return {"number": p.number, "text": p.text, "marking": marking_json(p.marking, table, nation), "hash": p.hash}


def object_json(o: ObjectView, table: EquivalenceTable, nation: str) -> dict[str, Any]:
    return {
        "id": o.stix_id,
        "type": o.stix_type,
        "name": o.name,
        "properties": o.body,
        "marking": marking_json(o.marking, table, nation),
        "report": o.report,
        "observed_at": o.observed_at.isoformat() if o.observed_at else None,
        "latitude": o.latitude,
        "longitude": o.longitude,
    }


def report_json(v: ReportView, table: EquivalenceTable, nation: str) -> dict[str, Any]:
    return {
        "id": v.stix_id,
        "banner": v.banner,
        "version": v.version,
        "versions": v.versions,
        "title": v.title,
        "title_marking": marking_json(v.title_marking, table, nation) if v.title_marking else None,
        "portions": [portion_json(p, table, nation) for p in v.portions],
        "objects": [object_json(o, table, nation) for o in v.objects],
        "predicate": v.predicate,
        "need_to_know": v.need_to_know,
        "review_due": v.review_due.isoformat() if v.review_due else None,
        "created_at": v.created_at.isoformat() if v.created_at else None,
    }


def object_page_json(page: Page, table: EquivalenceTable, nation: str) -> dict[str, Any]:
    return {"total": page.total, "items": [object_json(o, table, nation) for o in page.items]}
