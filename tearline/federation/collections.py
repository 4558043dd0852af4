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

from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.federation_tables import FeedObject, Peer
from tearline.errors import TearlineError
from tearline.federation import receive
from tearline.federation.peers import peer_of
from tearline.federation.seal import is_seal_definition, units_of, version_of
from tearline.stix import ids
from tearline.store.federation import FeedQuery, feed_page
from tearline.taxii.collections import AddResult, Caller, Collection, Filters, ObjectPage, TaxiiObject, register
from tearline.taxii.errors import BadRequest


def feed_id(nation: str, agency: str, partner: str) -> str:
    return str(uuid.uuid5(ids.NAMESPACE, f"taxii-feed:{nation}:{agency}:{partner}"))


def inbox_id(nation: str, agency: str) -> str:
    return str(uuid.uuid5(ids.NAMESPACE, f"taxii-inbox:{nation}:{agency}"))


def _cursor(row: FeedObject) -> str:
    return f"{clock.as_utc(row.date_added).isoformat()}|{row.id}"


LAST_ROW = 2**31 - 1  # feed_object.id is an Integer column


def _after(text: str | None) -> tuple[datetime, int] | None:
    """The position a `next` value names; anything this server could not have given is a 400,
    before it reaches a query (a row id past the column's range failed there with a 500)."""
    if text is None:
        return None
    stamp, _, row_id = text.rpartition("|")
    try:
        added = datetime.fromisoformat(stamp)
    except ValueError:
        added = None
    if added is None or added.tzinfo is None or not _row_id(row_id):
        raise BadRequest(f"next {text!r} is not a page this server gave")
    return added, int(row_id)


def _row_id(text: str) -> bool:
    # ASCII digits only: int() also takes a sign, spaces, underscores and other scripts' digits.
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= LAST_ROW


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
        query = FeedQuery(
            destination=self.destination,
            now=caller.reader.now,
            added_after=filters.added_after,
            ids=filters.ids,
            types=filters.types,
            versions=filters.versions,
            spec_ok=not filters.spec_versions or "2.1" in filters.spec_versions,
            after=_after(after),
        )
        rows = feed_page(session, query, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        objects = [TaxiiObject(r.stix_id, r.modified, clock.as_utc(r.date_added), r.body) for r in rows]
        return ObjectPage(objects, more, _cursor(rows[-1]) if more and rows else None)

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        raise NotImplementedError("the feed is read-only")  # the server checks can_write first


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
        result.successes += [_status(o, None) for o in objects if is_seal_definition(o)]  # taken as read
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
