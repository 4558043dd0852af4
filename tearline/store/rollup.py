"""Banners of pages that show several reports at once, rolled up over what the reader may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Portion, Report, StixObject
from tearline.markings.banner import banner_text
from tearline.markings.scheme import EquivalenceTable
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import markings_by_id


def reports_banner(session: Session, reader: Reader, table: EquivalenceTable, stix_ids: Sequence[str]) -> str | None:
    """The banner of a page listing these reports: every current item of them the reader may see.

    None when the page shows nothing marked.
    """
    if not stix_ids:
        return None
    reports = select(Report.id).where(Report.stix_id.in_(list(stix_ids)))
    portions = select(Portion.marking_id).where(Portion.report_id.in_(reports), portion_visible(reader))
    objects = select(StixObject.marking_id).where(StixObject.report_id.in_(reports), object_visible(reader, StixObject))
    ids = set(session.scalars(portions.distinct())) | set(session.scalars(objects.distinct()))
    if not ids:
        return None
    return banner_text(markings_by_id(session, ids).values(), reader.node_nation, table)
