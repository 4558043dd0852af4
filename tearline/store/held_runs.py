"""The holdings in a reader's own versions: where and when each report came to be as they see it.

A report version that changes nothing a reader sees is no new version for that reader (DESIGN
§3.3; `reader_versions.visible_versions` numbers the versions so for the report read). For the holdings
that means: a report whose last versions were such edits stands, for that reader, where the run
of versions that look the same to them began, with that version's time as its `date_added` and
`modified`. Moved later, or stamped later, it would tell the reader that something they may not
see was edited.

Only reports of more than one version can stand anywhere but at their current version, and a
report stands at one of its own versions; so a page of the holdings need only ask about the
reports that have a version inside its own range of versions (`spanning`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from tearline.db.models import Report, ReportVersion, StixObject
from tearline.store.filters import Reader, object_visible
from tearline.store.holdings import (
    REPORT_RANK,
    HeldObject,
    HeldReport,
    Key,
    Selection,
    held_from_rows,
    visible_object_rows,
)
from tearline.store.reader_versions import visible_versions
from tearline.store.reads import report_visible

CHUNK = 5_000  # ids in one IN list, well under either database's parameter limit


@dataclass(frozen=True)
class Standing:
    """Where a report's current version stands for one reader: the first version of their first run
    (when the report came to be for them) and of their last run (when what they see of it did)."""

    first: int
    start: int
    first_at: datetime
    start_at: datetime


class Standings:
    """The standings of current report versions for one reader, each worked out once per page."""

    def __init__(self, session: Session, reader: Reader) -> None:
        self._session, self._reader = session, reader
        self._known: dict[int, Standing] = {}

    def of(self, version_ids: Iterable[int]) -> dict[int, Standing]:
        asked = set(version_ids)
        for part in _chunks(sorted(asked - set(self._known))):
            rows = self._session.execute(_STANDING, {"ids": part}).all()
            for version_id, report_id, current, at in rows:
                self._known[version_id] = self._standing(version_id, report_id, current, at)
        return {v: self._known[v] for v in asked if v in self._known}

    def _standing(self, version_id: int, report_id: int, versions: int, at: datetime) -> Standing:
        if versions <= 1:
            return Standing(version_id, version_id, at, at)
        runs = visible_versions(self._session, self._reader, report_id)
        if not runs or version_id not in runs[-1]:
            return Standing(version_id, version_id, at, at)  # not the reader's current view: left where it is
        first, start = runs[0][0], runs[-1][0]
        times = dict(self._session.execute(_TIMES, {"ids": [first, start]}).tuples().all())
        return Standing(first, start, times[first], times[start])


_STANDING = (
    select(ReportVersion.id, ReportVersion.report_id, Report.current_version, ReportVersion.created_at)
    .join(Report, Report.id == ReportVersion.report_id)
    .where(ReportVersion.id.in_(bindparam("ids", expanding=True)))
)
_TIMES = select(ReportVersion.id, ReportVersion.created_at).where(
    ReportVersion.id.in_(bindparam("ids", expanding=True))
)


def spanning(session: Session, low: int, high: int) -> list[int]:
    """Current version ids, from `high` on, of reports with an earlier version in [low, high): the only
    reports past a page's range that may stand inside it for a reader (`Standings` then says which
    do; a report the reader may not see stands nowhere). Walked from the versions in the range, so
    a page asks about no more reports than it has versions."""
    return sorted(session.scalars(_SPANNING, {"low": low, "high": high}))


def _spanning() -> Select[Any]:
    older, current = aliased(ReportVersion), aliased(ReportVersion)
    return (
        select(current.id)
        .select_from(older)
        .join(Report, Report.id == older.report_id)
        .join(current, and_(current.report_id == Report.id, current.number == Report.current_version))
        .where(older.id >= bindparam("low"), older.id < bindparam("high"), current.id >= bindparam("high"))
        .distinct()
    )


_SPANNING = _spanning()


def reports_at(session: Session, reader: Reader, sel: Selection, version_ids: list[int]) -> list[HeldReport]:
    """The visible reports whose current version is one of these, as the holdings walk gives them."""
    if not version_ids or (sel.types and "report" not in sel.types):
        return []
    rv = ReportVersion
    query = (
        select(rv.id, Report.stix_id, rv.created_at)
        .join(Report, and_(Report.id == rv.report_id, Report.current_version == rv.number))
        .where(rv.id.in_(version_ids), report_visible(reader))
    )
    if sel.ids:
        query = query.where(Report.stix_id.in_(sel.ids))
    return [HeldReport(Key(v, REPORT_RANK, s), at) for v, s, at in session.execute(query)]


def objects_at(session: Session, reader: Reader, sel: Selection, version_ids: list[int]) -> list[HeldObject]:
    """The visible objects of these report versions, as `holdings.held_objects` gives them."""
    if not version_ids:
        return []
    o = StixObject
    candidates = select(o.id).where(o.version_id.in_(version_ids), object_visible(reader, o))
    if sel.types:
        candidates = candidates.where(o.stix_type.in_(sel.types))
    if sel.ids:
        candidates = candidates.where(o.stix_id.in_(sel.ids))
    ids = list(session.scalars(candidates))
    rows = [r for part in _chunks(ids) for r in visible_object_rows(session, reader, part)]
    return held_from_rows(session, reader, rows)


def first_in_view(session: Session, reader: Reader, first_current: int | None) -> int | None:
    """The reader's first version in their own view: the earliest current version with anything
    visible (`first_current`), or an earlier version where a report edited since stands for them."""
    if first_current is None:
        return None
    standings = Standings(session, reader)
    moved = standings.of([first_current, *spanning(session, 0, first_current)])
    return min([first_current, *(s.start for s in moved.values())])


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
