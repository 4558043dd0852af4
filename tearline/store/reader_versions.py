"""A report as one reader sees it, version by version (DESIGN §3.3).

The reader's versions are computed over what they may see: a version with nothing visible to them
is none of theirs, and a version that changed nothing they see is the same version to them, so a
report's stored versions fall into runs (`visible_versions`). Their version N is their N-th run:
its number (`shown_version`), its view (`report_view`) and whether a stored version is news to
them (`report_news`) all come from those runs, so that no number, date or notice tells of an edit
they may not see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Grant, Portion, Report, ReportVersion, StixObject
from tearline.errors import Forbidden, NotFound
from tearline.markings.scheme import EquivalenceTable
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import (
    ReportView,
    markings_by_id,
    markings_hiding_source,
    object_view,
    portion_text,
    report_visible,
    view_of_rows,
)


def visible_versions(session: Session, reader: Reader, report_id: int) -> list[list[int]]:
    """The reader's versions, oldest first: each a run of version ids that look the same to them.

    A version with nothing visible is not one of them, and neither is a version whose visible
    content (`_shown_content`) equals the previous visible one's: an edit the reader cannot see made
    nothing they can see, so it must not show as a new number either (DESIGN §3.3).
    """
    shown = _shown_content(session, reader, report_id)
    ids = set(shown)
    if ids and session.scalar(select(Report.received).where(Report.id == report_id)):
        ids = _delivered_versions(session, reader, report_id, ids)
    runs: list[list[int]] = []
    for version_id in sorted(ids):
        if runs and shown[version_id] == shown[runs[-1][-1]]:
            runs[-1].append(version_id)
        else:
            runs.append([version_id])
    return runs


def _shown_content(session: Session, reader: Reader, report_id: int) -> dict[int, tuple[Any, ...]]:
    """For each version with anything visible to the reader, what a view of it shows them but its
    number, date and hashes (which every version has its own of): metadata, portions and objects."""
    p, o = Portion, StixObject
    portions = session.execute(
        select(p.version_id, p.is_title, p.text, p.marking_id)
        .where(p.report_id == report_id, portion_visible(reader, p, current=False))
        .order_by(p.version_id, p.position)
    ).all()
    objects = session.scalars(
        select(o).where(o.report_id == report_id, object_visible(reader, o, current=False)).order_by(o.version_id, o.id)
    ).all()
    ids = {r.marking_id for r in portions} | {r.marking_id for r in objects}
    markings, hidden = markings_by_id(session, ids), markings_hiding_source(session, reader, ids)
    shown: dict[int, list[Any]] = {}
    for version_id, is_title, text, marking_id in portions:
        shown_text = portion_text(text, markings[marking_id], marking_id in hidden)
        shown.setdefault(version_id, []).append((is_title, shown_text, marking_id))
    for obj in objects:
        view = object_view(obj, markings[obj.marking_id], obj.marking_id in hidden, "")
        body = json.dumps(view.body, sort_keys=True, default=str)
        fields = (view.stix_id, view.stix_type, view.name, body, view.observed_at, view.latitude, view.longitude)
        shown.setdefault(obj.version_id, []).append((*fields, obj.marking_id))
    meta = session.execute(
        select(ReportVersion.id, ReportVersion.predicate, ReportVersion.need_to_know, ReportVersion.review_due).where(
            ReportVersion.id.in_(shown)
        )
    ).all()
    return {version_id: (predicate, need, due, *shown[version_id]) for version_id, predicate, need, due in meta}


def _delivered_versions(session: Session, reader: Reader, report_id: int, ids: set[int]) -> set[int]:
    """Of a received report's versions, those whose own delivery is live (DESIGN §3.3 rule 5).

    Each release of a report arrives as a new version, with the same hashes where nothing changed; a
    delivery covers its items by hash, so the newest one would keep the copies that recalled releases
    brought looking live, and "version 3 of 3" would count two recalled copies. An earlier version
    counts only while a delivery made with it (after it was stored, before the next one was) is
    live. The current version is left to the item rule: what is visible in it is live by that rule.
    """
    versions = session.execute(
        select(ReportVersion.id, ReportVersion.created_at, ReportVersion.number)
        .where(ReportVersion.report_id == report_id)
        .order_by(ReportVersion.number)
    ).all()
    live = {versions[-1].id} & ids
    for (version_id, stored, _), (_, following, _) in pairwise(versions):
        if version_id not in ids:
            continue
        made = [Grant.created_at >= stored]
        if following > stored:  # under a stopped clock both were stored at once: keep the delivery in range
            made.append(Grant.created_at < following)
        delivery = select(Grant.id).where(
            Grant.kind == "delivery",
            Grant.item_hash.in_(select(Portion.hash).where(Portion.version_id == version_id)),
            Grant.recalled_at.is_(None),
            Grant.expires_at > reader.now,
            *made,
        )
        if session.scalar(delivery.limit(1)) is not None:
            live.add(version_id)
    return live


def shown_version(session: Session, reader: Reader, stix_id: str, version_id: int) -> int | None:
    """The number this reader knows a version by (over the versions they may see); None if it is hidden."""
    report_id = session.scalar(select(Report.id).where(Report.stix_id == stix_id))
    if report_id is None:
        return None
    runs = visible_versions(session, reader, report_id)
    return next((number for number, run in enumerate(runs, 1) if version_id in run), None)


def report_view(
    session: Session, reader: Reader, table: EquivalenceTable, stix_id: str, version: int | None = None
) -> ReportView:
    """One report as this reader may see it; `version` (auditors only) picks an older visible version.

    Versions are numbered over what the reader sees (`visible_versions`): version N is the reader's
    N-th, shown with the content of the last version id of its run (so the current one for the
    current run) and dated by the first (when what the reader sees came to be).
    """
    report = session.scalar(select(Report).where(Report.stix_id == stix_id))
    if report is None:
        raise NotFound(f"no report {stix_id}")
    return _view_of(session, reader, table, report, visible_versions(session, reader, report.id), version)


def report_news(
    session: Session, reader: Reader, table: EquivalenceTable, stix_id: str, number: int
) -> tuple[ReportView, int] | None:
    """The report as the reader sees it now, and their number for stored version `number`, if that
    version changed what they see; None if it did not, or the report is hidden from them.

    A version that made nothing the reader can see is no news to them: telling them of it would
    show that a hidden edit happened (DESIGN §3.3).
    """
    report = session.scalar(select(Report).where(Report.stix_id == stix_id))
    if report is None:
        return None
    runs = visible_versions(session, reader, report.id)
    try:
        view = _view_of(session, reader, table, report, runs, None)
    except NotFound:
        return None
    announced = session.scalar(
        select(ReportVersion.id).where(ReportVersion.report_id == report.id, ReportVersion.number == number)
    )
    news = next((n for n, run in enumerate(runs, 1) if run[0] == announced), None)
    return None if news is None else (view, news)


def _view_of(
    session: Session, reader: Reader, table: EquivalenceTable, report: Report, runs: list[list[int]],
    version: int | None,
) -> ReportView:  # fmt: skip
    """The view of the reader's version `version` (None: the current one) among their `runs`."""
    missing = NotFound(f"no report {report.stix_id}")
    if version is not None and "auditor" not in reader.roles and version != len(runs):
        raise Forbidden("only auditors may read earlier versions", rule="auditor-role")
    current_version_id = session.scalar(
        select(ReportVersion.id).where(
            ReportVersion.report_id == report.id, ReportVersion.number == report.current_version
        )
    )
    if version is None:
        if not runs or runs[-1][-1] != current_version_id:
            raise missing
        shown = len(runs)
    elif 1 <= version <= len(runs):
        shown = version
    else:
        raise missing
    run = runs[shown - 1]
    view = _build_view(session, reader, table, report, run[-1], shown, len(runs), run[-1] == current_version_id)
    # The reader's version began with the first stored version of its run, and the report began, for
    # them, with the first of their first run: later times would date edits they may not see.
    if run[0] == run[-1] == runs[0][0]:  # the view's own version is both: its time is already read
        view.first_created_at = view.created_at
        return view
    began = dict(session.execute(
        select(ReportVersion.id, ReportVersion.created_at).where(ReportVersion.id.in_({run[0], runs[0][0]}))
    ).tuples().all())
    view.created_at, view.first_created_at = began[run[0]], began[runs[0][0]]
    return view


def _build_view(
    session: Session,
    reader: Reader,
    table: EquivalenceTable,
    report: Report,
    version_id: int,
    shown: int,
    count: int,
    current: bool,
) -> ReportView:
    portions = session.scalars(
        select(Portion)
        .where(Portion.version_id == version_id, portion_visible(reader, current=current))
        .order_by(Portion.position)
    ).all()
    objects = session.scalars(
        select(StixObject)
        .where(StixObject.version_id == version_id, object_visible(reader, StixObject, current=current))
        .order_by(StixObject.id)
    ).all()
    meta = session.get(ReportVersion, version_id)
    assert meta is not None
    return view_of_rows(session, reader, table, (report, meta, portions, objects), shown, count)



def visible_reports(session: Session, reader: Reader, table: EquivalenceTable) -> Iterator[ReportView]:
    """Every report the reader may see, in full (for export)."""
    ids = session.scalars(select(Report.stix_id).where(report_visible(reader)).order_by(Report.id)).all()
    for stix_id in ids:
        yield report_view(session, reader, table, stix_id)
