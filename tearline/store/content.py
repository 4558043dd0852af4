"""A report version's full content, unfiltered: for the release machinery, never for a reader.

Release decisions need every item (to say what is kept and what is withheld, and why); what a
person is then shown of them goes through the read filters like any other read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Portion, Report, ReportVersion, StixObject
from tearline.errors import NotFound
from tearline.markings.marking import Marking
from tearline.store.reads import markings_by_id


@dataclass
class VersionItem:
    """One stored item of a report version, unfiltered: for the release machinery only, never a reader."""

    kind: str  # "title", "portion" or "object"
    position: int
    hash: str
    marking: Marking
    text: str = ""
    stix_id: str | None = None
    stix_type: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    source_ref: str | None = None
    target_ref: str | None = None
    withdrawn: bool = False
    received: bool = False
    observed_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class VersionContent:
    report_id: int
    stix_id: str
    version_id: int
    number: int
    review_due: datetime
    predicate: str
    need_to_know: str
    items: list[VersionItem]


def version_content(session: Session, stix_id: str, number: int | None = None) -> VersionContent:
    """Every item of one version (the current one by default), with its marking."""
    report = session.scalar(select(Report).where(Report.stix_id == stix_id))
    if report is None:
        raise NotFound(f"no report {stix_id}")
    version = session.scalar(
        select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.number == (number or report.current_version)
        )
    )
    if version is None:
        raise NotFound(f"no version {number} of report {stix_id}")
    portions = session.scalars(select(Portion).where(Portion.version_id == version.id).order_by(Portion.position))
    objects = session.scalars(select(StixObject).where(StixObject.version_id == version.id).order_by(StixObject.id))
    portion_rows, object_rows = list(portions), list(objects)
    markings = markings_by_id(session, {r.marking_id for r in portion_rows} | {r.marking_id for r in object_rows})
    items = [
        VersionItem(
            "title" if p.is_title else "portion",
            p.position,
            p.hash,
            markings[p.marking_id],
            text=p.text,
            withdrawn=p.withdrawn,
            received=p.received,
        )
        for p in portion_rows
    ]
    items += [
        VersionItem(
            "object",
            i,
            o.hash,
            markings[o.marking_id],
            text=o.name,
            stix_id=o.stix_id,
            stix_type=o.stix_type,
            body=dict(o.body),
            source_ref=o.source_ref,
            target_ref=o.target_ref,
            withdrawn=o.withdrawn,
            received=o.received,
            observed_at=o.observed_at,
            latitude=o.latitude,
            longitude=o.longitude,
        )
        for i, o in enumerate(object_rows)
    ]
    return VersionContent(
        report.id,
        report.stix_id,
        version.id,
        version.number,
        version.review_due,
        version.predicate,
        version.need_to_know,
        items,
    )
