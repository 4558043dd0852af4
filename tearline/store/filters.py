"""The visibility rule as SQL (DESIGN §3.3), for every read path.

`tearline.markings.visibility.decide` is the per-item form of the same rule; a differential test
holds the two to the same answers. Rules 1-4 and 6 come from the principal's precomputed audience;
cover by releases and consents, liveness and workspaces are checked here per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, false, or_, select, true
from sqlalchemy.orm import aliased

from tearline.db.among import MarkingAmong
from tearline.db.models import Audience, Grant, MarkingRow, Portion, StixObject, UTCDateTime
from tearline.markings.visibility import ORCON_COVER_KINDS, Viewer
from tearline.store.audience import AudienceSnapshot, coordinates_source_sensitive

Item = Any  # Portion, StixObject or an alias of either


@dataclass(frozen=True)
class Reader:
    """One principal at one moment: everything a read needs to apply the rules."""

    principal_id: int
    viewer: Viewer
    node_nation: str
    now: datetime
    allowed_workspaces: frozenset[int]
    roles: frozenset[str] = frozenset()
    # The principal's audience when the reader was made; None: probe the audience table instead.
    audience: AudienceSnapshot | None = None

    @property
    def foreign(self) -> bool:
        return self.viewer.nation != self.node_nation


def _live_grant(reader: Reader, item: Item) -> list[ColumnElement[bool]]:
    return [
        or_(Grant.item_hash == item.hash, Grant.report_version_id == item.version_id),
        Grant.recalled_at.is_(None),
        Grant.expires_at > now_param(reader),
    ]


def now_param(reader: Reader) -> BindParameter[datetime]:
    """The decision time as a named parameter, so that a built statement can be reused later."""
    return bindparam("now", value=reader.now, type_=UTCDateTime())


def _grant_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # Correlate the item explicitly: these EXISTS sit two levels deep (inside the audience EXISTS),
    # and automatic correlation only looks one level up; it would cross-join a fresh copy of the
    # item table and let any item's grant cover every item.
    return select(Grant.id).where(*conditions).correlate_except(Grant).exists()


def orcon_cover(reader: Reader, item: Item) -> ColumnElement[bool]:
    """Rule 4: a live release, delivery or consent naming the reader's agency (a nation alone does not count)."""
    return _grant_exists(
        Grant.kind.in_(ORCON_COVER_KINDS),
        Grant.nation == reader.viewer.nation,
        Grant.agency == reader.viewer.agency,
        *_live_grant(reader, item),
    )


def consent_cover(reader: Reader, item: Item) -> ColumnElement[bool]:
    """Rule 6: a live consent from the item's originator covering the reader."""
    originator_nation = (
        select(MarkingRow.originator_nation)
        .where(MarkingRow.id == item.marking_id)
        .correlate_except(MarkingRow)
        .scalar_subquery()
    )
    return _grant_exists(
        Grant.kind == "consent",
        Grant.nation == reader.viewer.nation,
        or_(Grant.agency.is_(None), Grant.agency == reader.viewer.agency),
        Grant.grantor_nation == originator_nation,
        *_live_grant(reader, item),
    )


def delivered_live(reader: Reader, item: Item) -> ColumnElement[bool]:
    """Rule 5 for received items: at least one unrecalled, unexpired release delivered it."""
    return _grant_exists(Grant.kind == "delivery", *_live_grant(reader, item))


def audience_clause(
    reader: Reader, item: Item, *, searchable: bool = False, placed: bool = False, by_marking: bool = False
) -> ColumnElement[bool]:
    """Rules 1-4 and 6: the item's marking is in the reader's audience, with cover where it needs it.

    `searchable` keeps only items none of whose source fields is hidden from the reader (a text
    search must not match what the reader is not shown); `placed` keeps only items whose coordinates
    the reader is shown (a search by place), however many other source fields are hidden.

    With a snapshot of the audience, the markings seen without cover are constants of the query
    (`MarkingAmong`), and only the others, and markings stored since the snapshot, are probed in the
    audience table. `by_marking` lets the database find the rows through the marking index (a
    count); without it, SQLite keeps walking rows in the query's order (a page).
    """
    snapshot = reader.audience
    probe = _audience_probe(reader, item, searchable, placed)
    if snapshot is None:
        return probe
    # First a test on the marking alone, which an index can serve: one of the audience's markings,
    # or one stored since the snapshot. Then the probe, only for markings that need more than that.
    candidate = MarkingAmong(item.marking_id, snapshot.known, snapshot.newest, walk=not by_marking)
    plain = snapshot.searchable if searchable else snapshot.placed if placed else snapshot.plain
    if not plain:
        return and_(candidate, probe)
    return and_(candidate, or_(MarkingAmong(item.marking_id, plain, None, walk=True), probe))


def _audience_probe(reader: Reader, item: Item, searchable: bool, placed: bool) -> ColumnElement[bool]:
    audience = aliased(Audience)
    conditions = [
        audience.principal_id == reader.principal_id,
        audience.marking_id == item.marking_id,
        or_(audience.needs_orcon.is_(false()), orcon_cover(reader, item)),
        or_(audience.needs_consent.is_(false()), consent_cover(reader, item)),
    ]
    if searchable:
        conditions.append(audience.hides_source.is_(false()))
    elif placed:
        conditions.append(or_(audience.hides_source.is_(false()), ~coordinates_source_sensitive(audience.marking_id)))
    return select(audience.principal_id).where(*conditions).correlate_except(audience).exists()


def item_visible(
    reader: Reader,
    item: Item,
    *,
    current: bool = True,
    searchable: bool = False,
    placed: bool = False,
    by_marking: bool = False,
) -> ColumnElement[bool]:
    """Rules 1-7 for one portion or object row (`current=False` reads old versions, for auditors).

    `searchable` and `placed` narrow it to what a search may match (`audience_clause`).
    """
    clauses = [
        audience_clause(reader, item, searchable=searchable, placed=placed, by_marking=by_marking),
        item.withdrawn.is_(false()),
        or_(item.received.is_(false()), delivered_live(reader, item)),
    ]
    if current:
        clauses.append(item.is_current.is_(true()))
    if reader.foreign:
        allowed = sorted(reader.allowed_workspaces)
        clauses.append(item.workspace_id.in_(allowed) if allowed else false())
    return and_(*clauses)


def object_visible(
    reader: Reader, obj: Item, *, current: bool = True, searchable: bool = False, placed: bool = False
) -> ColumnElement[bool]:
    """Rule 8 on top of 1-7: a relationship or sighting is visible iff both its ends are."""
    return and_(
        item_visible(reader, obj, current=current, searchable=searchable, placed=placed),
        _end_visible(reader, obj, obj.source_ref, current),
        _end_visible(reader, obj, obj.target_ref, current),
    )


def _end_visible(reader: Reader, obj: Item, ref: Any, current: bool) -> ColumnElement[bool]:
    end = aliased(StixObject)
    return or_(
        ref.is_(None),
        select(end.id)
        .where(end.version_id == obj.version_id, end.stix_id == ref, item_visible(reader, end, current=current))
        .correlate_except(end)
        .exists(),
    )


def portion_visible(reader: Reader, portion: Item = Portion, **kw: Any) -> ColumnElement[bool]:
    return item_visible(reader, portion, **kw)
