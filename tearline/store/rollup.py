"""Banners of pages that show several reports at once, rolled up over what the reader may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, union
from sqlalchemy.orm import Session

from tearline.db.models import Portion, Report, StixObject
from tearline.markings.banner import banner_text
from tearline.markings.scheme import EquivalenceTable
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import markings_by_id

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=512)
def _marking_ids(reader: Reader) -> Any:
    # Built once per principal's read context (its time and the reports are parameters): building
    # the visibility filter costs more than running it on a page of reports.
    reports = select(Report.id).where(Report.stix_id.in_(bindparam("reports", expanding=True)))
    portions = select(Portion.marking_id).where(Portion.report_id.in_(reports), portion_visible(reader))
    objects = select(StixObject.marking_id).where(
        StixObject.report_id.in_(reports), object_visible(reader, StixObject)
    )
    return union(portions, objects)


def reports_banner(session: Session, reader: Reader, table: EquivalenceTable, stix_ids: Sequence[str]) -> str | None:
    """The banner of a page listing these reports: every current item of them the reader may see.

    None when the page shows nothing marked.
    """
    if not stix_ids:
        return None
    statement = _marking_ids(replace(reader, now=_EPOCH))
    ids = set(session.scalars(statement, {"now": reader.now, "reports": list(stix_ids)}))
    if not ids:
        return None
    return banner_text(markings_by_id(session, ids).values(), reader.node_nation, table)
