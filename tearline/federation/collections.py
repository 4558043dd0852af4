"""The two TAXII collections a partner node sees on us: its feed and our inbox.

- `feed`: what we released to the partner's nation, as sealed units, oldest first. A release
  that was recalled or has expired drops out of it at once (its recall message stays).
- `inbox`: where the partner pushes its sealed units to us. Each unit is checked and applied in a
  savepoint of its own, so one bad unit is refused whole without touching the others.

Our own principals never see these; a partner never sees our holdings through them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from tearline import clock
from tearline.db.federation_tables import FeedObject, Peer
from tearline.db.release_tables import Release, ReleaseRecall
from tearline.errors import NotFound, TearlineError
from tearline.federation import receive
from tearline.federation.peers import peer_of
from tearline.federation.seal import units_of, version_of
from tearline.stix import ids
from tearline.taxii.collections import AddResult, Caller, Collection, Filters, ObjectPage, TaxiiObject, register


def feed_id(nation: str, agency: str, partner: str) -> str:
    return str(uuid.uuid5(ids.NAMESPACE, f"taxii-feed:{nation}:{agency}:{partner}"))


def inbox_id(nation: str, agency: str) -> str:
    return str(uuid.uuid5(ids.NAMESPACE, f"taxii-inbox:{nation}:{agency}"))


def _cursor(row: FeedObject) -> str:
    return f"{clock.as_utc(row.date_added).isoformat()}|{row.id}"


def _after(text: str | None) -> tuple[datetime, int] | None:
    if text is None:
        return None
    try:
        stamp, row_id = text.rsplit("|", 1)
        return datetime.fromisoformat(stamp), int(row_id)
    except ValueError:
        raise NotFound("no such page: the 'next' value is not one this server gave") from None


class Feed:
    """What we released to one partner nation (its pull fallback, and what TAXII clients read)."""

    can_read = True
    can_write = False

    def __init__(self, caller: Caller, peer: Peer) -> None:
        config = caller.node.config
        self.id = feed_id(config.nation, config.agency, peer.nation)
        self.title = f"Released by {config.name} to {peer.nation}"
        self.description = "Sealed units released to your nation: tearlines, recalls and consent messages."
        self.destination = peer.nation

    def page(self, session: Session, caller: Caller, filters: Filters, limit: int, after: str | None) -> ObjectPage:
        query = self._query(filters, caller)
        cursor = _after(after)
        if cursor is not None:
            query = query.where(
                or_(
                    FeedObject.date_added > cursor[0],
                    and_(FeedObject.date_added == cursor[0], FeedObject.id > cursor[1]),
                )
            )
        rows = list(session.scalars(query.order_by(FeedObject.date_added, FeedObject.id).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        objects = [TaxiiObject(r.stix_id, r.modified, clock.as_utc(r.date_added), r.body) for r in rows]
        return ObjectPage(objects, more, _cursor(rows[-1]) if more and rows else None)

    def _query(self, filters: Filters, caller: Caller) -> Select[FeedObject]:
        query = select(FeedObject).where(FeedObject.destination == self.destination, _live(caller.reader.now))
        if filters.added_after is not None:
            query = query.where(FeedObject.date_added > filters.added_after)
        if filters.ids:
            query = query.where(FeedObject.stix_id.in_(filters.ids))
        if filters.types:
            query = query.where(FeedObject.stix_type.in_(filters.types))
        if filters.spec_versions and "2.1" not in filters.spec_versions:
            query = query.where(false())
        return _versions(query, filters.versions, self.destination)

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        raise NotImplementedError("the feed is read-only")  # the server checks can_write first


def _live(now: datetime) -> Any:
    """A release's objects (and its seal) leave the feed once it is recalled or past its expiry."""
    recalled = exists().where(ReleaseRecall.release_id == FeedObject.release_id)
    expired = exists().where(Release.id == FeedObject.release_id, Release.expires_at <= now)
    return or_(FeedObject.release_id.is_(None), ~(recalled | expired))


def _versions(query: Select[FeedObject], wanted: tuple[str, ...], destination: str) -> Select[FeedObject]:
    if "all" in wanted:
        return query
    other = aliased(FeedObject)
    same = and_(other.destination == destination, other.stix_id == FeedObject.stix_id)
    picks = []
    if "last" in wanted:
        picks.append(~exists().where(same, other.modified > FeedObject.modified))
    if "first" in wanted:
        picks.append(~exists().where(same, other.modified < FeedObject.modified))
    stamps = [v for v in wanted if v not in ("last", "first")]
    if stamps:
        picks.append(FeedObject.modified.in_(stamps))
    return query.where(or_(*picks)) if picks else query


class Inbox:
    """Where a partner node pushes its sealed units."""

    can_read = False
    can_write = True

    def __init__(self, caller: Caller, peer: Peer) -> None:
        config = caller.node.config
        self.id = inbox_id(config.nation, config.agency)
        self.title = f"Inbox of {config.name}"
        self.description = "Post sealed units here: each is checked and stored whole, or refused whole."
        self.peer = peer

    def page(self, session: Session, caller: Caller, filters: Filters, limit: int, after: str | None) -> ObjectPage:
        return ObjectPage([], False)  # write-only; the server refuses reads before asking

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        objects = [o for o in envelope.get("objects", []) if isinstance(o, dict)]
        units, strays = units_of(objects)
        result = AddResult()
        for unit in units:
            members = [unit.seal, *unit.objects]
            try:
                with session.begin_nested():
                    outcome = receive.receive_unit(session, caller.node, self.peer, unit)
            except TearlineError as err:
                receive.refuse(session, caller.node, self.peer.nation, str(unit.seal.get("id")), err)
                result.failures += [_status(o, err.message) for o in members]
                continue
            result.successes += [_status(o, outcome.detail if o is unit.seal else None) for o in members]
        result.failures += [_status(o, "not covered by any seal in this envelope") for o in strays]
        return result


def _status(obj: dict[str, Any], message: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(obj.get("id")), "version": version_of(obj)}
    if message:
        entry["message"] = message
    return entry


@register
def partner_collections(session: Session, caller: Caller) -> list[Collection]:
    """A partner node's principal sees its feed and our inbox; nobody else sees either."""
    peer = peer_of(session, caller.principal)
    if peer is None:
        return []
    return [Feed(caller, peer), Inbox(caller, peer)]


def feed_size(session: Session, destination: str) -> int:
    return session.scalar(select(func.count()).where(FeedObject.destination == destination)) or 0
