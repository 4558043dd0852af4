"""The queries of federation: registered peers, each partner's feed, the outbox's due messages,
and what we hold from partners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, Text, and_, cast, exists, false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from tearline import clock
from tearline.db.federation_tables import FeedObject, Peer, ReceivedRelease
from tearline.db.models import Grant, Principal, Report, Setting
from tearline.db.release_tables import OutboxMessage, Release, ReleaseRecall

# --- peers -------------------------------------------------------------------------------------


def peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.nation)))


def peer_for_principal(session: Session, principal_id: int) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.principal_id == principal_id))


def principal_named(session: Session, username: str) -> Principal | None:
    return session.scalar(select(Principal).where(Principal.username == username))


def report_named(session: Session, stix_id: str | None) -> Report | None:
    return session.scalar(select(Report).where(Report.stix_id == stix_id))


# --- the feed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedQuery:
    """What a partner asks of its feed (TAXII filters), already parsed."""

    destination: str
    now: datetime
    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_ok: bool = True
    after: tuple[datetime, int] | None = None  # the page cursor: (date_added, row id)


def feed_page(session: Session, q: FeedQuery, limit: int) -> list[FeedObject]:
    """Up to `limit` feed rows, oldest first, of releases still live (recalled or expired ones drop out).

    Units share objects (an identity, a marking-definition, the same person in two releases), and
    each unit's rows carry its own release, so that a recall takes only that release's rows away.
    Of several live copies of one object the oldest is served, so each appears once; a copy is
    the same version with the same body, since two tearlines of one report version (to two
    agencies of the partner) differ in what they keep, and each must reach its seal as sealed.
    """
    query = select(FeedObject).where(
        FeedObject.destination == q.destination, _live(FeedObject, q.now), ~_earlier_copy(q.destination, q.now)
    )
    if q.added_after is not None:
        query = query.where(FeedObject.date_added > q.added_after)
    if q.ids:
        query = query.where(FeedObject.stix_id.in_(q.ids))
    if q.types:
        query = query.where(FeedObject.stix_type.in_(q.types))
    if not q.spec_ok:
        query = query.where(false())
    if q.after is not None:
        stamp, row_id = q.after
        query = query.where(
            or_(FeedObject.date_added > stamp, and_(FeedObject.date_added == stamp, FeedObject.id > row_id))
        )
    query = _versions(query, q.versions, q.destination, q.now)
    return list(session.scalars(query.order_by(FeedObject.date_added, FeedObject.id).limit(limit)))


def _live(row: type[FeedObject], now: datetime) -> ColumnElement[bool]:
    recalled = exists().where(ReleaseRecall.release_id == row.release_id)
    expired = exists().where(Release.id == row.release_id, Release.expires_at <= now)
    return or_(row.release_id.is_(None), ~(recalled | expired))


def _earlier_copy(destination: str, now: datetime) -> ColumnElement[bool]:
    other = aliased(FeedObject)
    same = and_(
        other.destination == destination,
        other.stix_id == FeedObject.stix_id,
        other.modified == FeedObject.modified,
        other.id < FeedObject.id,
        # Both bodies were written by the same encoder, so equal objects are equal text.
        cast(other.body, Text) == cast(FeedObject.body, Text),
    )
    return exists().where(same, _live(other, now))


def _versions(
    query: Select[FeedObject], wanted: tuple[str, ...], destination: str, now: datetime
) -> Select[FeedObject]:
    if "all" in wanted:
        return query
    other = aliased(FeedObject)
    same = and_(other.destination == destination, other.stix_id == FeedObject.stix_id, _live(other, now))
    picks = []
    if "last" in wanted:
        picks.append(~exists().where(same, other.modified > FeedObject.modified))
    if "first" in wanted:
        picks.append(~exists().where(same, other.modified < FeedObject.modified))
    stamps = [v for v in wanted if v not in ("last", "first")]
    if stamps:
        picks.append(FeedObject.modified.in_(stamps))
    return query.where(or_(*picks)) if picks else query


def feed_clock(session: Session, destination: str, count: int) -> list[datetime]:
    """`count` strictly rising `date_added` values after the feed's last one. The feed's row stays
    locked until the caller commits, so publishers to one partner take turns and commit in order."""
    row = lock_feed(session, destination)
    start = clock.now()
    if row.value:
        start = max(start, datetime.fromisoformat(row.value) + timedelta(microseconds=1))
    stamps = [start + timedelta(microseconds=i) for i in range(count)]
    row.value = stamps[-1].isoformat()
    return stamps


def lock_feed(session: Session, destination: str) -> Setting:
    """The feed clock's row of `destination`, locked until the caller commits (SQLite's writer holds
    the database already): whoever takes it first writes to that partner first."""
    key = f"feed-clock:{destination}"
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    session.execute(insert(Setting).values(key=key, value="").on_conflict_do_nothing(index_elements=["key"]))
    row = session.get(Setting, key, with_for_update=True, populate_existing=True)
    assert row is not None, "inserted just above"
    return row


# --- the outbox --------------------------------------------------------------------------------


def undelivered(session: Session, destination: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None)).order_by(OutboxMessage.id)
    if destination is not None:
        query = query.where(OutboxMessage.destination == destination)
    return list(session.scalars(query))


def due(session: Session, destination: str, now: datetime) -> list[int]:
    """Messages for `destination` to push now, in order; one still backing off holds those behind it."""
    waiting = [(m.id, m.next_attempt_at) for m in undelivered(session, destination)]
    ready = []
    for message_id, next_attempt in waiting:
        if next_attempt is not None and next_attempt > now:
            break
        ready.append(message_id)
    return ready


def undelivered_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) or 0


# --- what partners gave us ---------------------------------------------------------------------


def received_releases(session: Session, report_ids: list[str]) -> list[ReceivedRelease]:
    """The live releases that brought us these reports (callers pass only reports the reader sees)."""
    query = (
        select(ReceivedRelease)
        .where(ReceivedRelease.report_stix_id.in_(report_ids), ReceivedRelease.recalled_at.is_(None))
        .order_by(ReceivedRelease.received_at.desc())
    )
    return list(session.scalars(query))


def recall_grants(session: Session, origin_id: str, now: datetime) -> set[str]:
    """Mark every grant a release or consent stands for as recalled; returns the item hashes."""
    session.execute(update(Grant).where(Grant.origin_id == origin_id).values(recalled_at=now))
    return {h for h in session.scalars(select(Grant.item_hash).where(Grant.origin_id == origin_id)) if h}


def releases_using(session: Session, hashes: set[str]) -> list[Release]:
    """Our own releases that passed on any of these items (the onward releases a recall reaches)."""
    return [r for r in session.scalars(select(Release)) if hashes & set(r.kept_hashes)]
