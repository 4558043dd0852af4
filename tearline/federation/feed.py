"""The feed: what each partner may read from us, as the STIX objects of sealed units.

Every outbox message becomes one sealed unit in the feed of its destination, in the same
transaction that wrote the message, so push and pull carry the same signed bytes. A release's
STIX objects are written with each unit (the feed serves one copy of each), stamped by the outbox
with the times of the version as the partner sees it (`tearline.release.versions`). `date_added`
rises strictly within a destination's feed, and publishers of one destination take turns (a row
lock), so that a partner polling with `added_after` never skips a row that commits late. The
seal's extension-definition is written once into each feed, before the first seal that uses it
(migration 0014 put it ahead of the oldest row of feeds that held seals before it was written).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.federation_tables import FeedObject
from tearline.db.release_tables import OutboxMessage
from tearline.federation.seal import EXT_SEAL, Unit, seal_definition, seal_unit, version_of
from tearline.node import Node
from tearline.store.federation import feed_clock


def unit_for(node: Node, message: OutboxMessage) -> Unit:
    """The sealed unit an outbox message stands for."""
    payload = dict(message.payload)
    objects: list[dict[str, Any]] = []
    if message.kind == "release":
        objects = list(payload.pop("bundle")["objects"])
    at = clock.stix_timestamp(clock.as_utc(message.created_at))
    sender = (node.config.nation, node.config.agency)
    name = f"{node.config.nation}:{node.config.agency}:outbox:{message.id}"
    return seal_unit(node.signing_key(), sender, message.destination, message.kind, payload, objects, at, name)


def publish(session: Session, node: Node, message: OutboxMessage) -> Unit:
    """Write the message's unit into its destination's feed (call inside the message's transaction).

    Every object of the unit is written with the unit, even one an earlier unit brought: each
    row belongs to its release, so that a recall takes away that release's rows and no other's.
    """
    unit = unit_for(node, message)
    objects = [*_definitions(session, message.destination), *unit.objects, unit.seal]
    dates = iter(feed_clock(session, message.destination, len(objects)))
    session.add_all([_row(message, obj, next(dates)) for obj in objects])
    session.flush()
    return unit


def _definitions(session: Session, destination: str) -> list[dict[str, Any]]:
    """The seal's definition, if the feed lacks it. It belongs to no release, so no recall takes it
    away; two publishers racing may both write it, and the feed serves the oldest copy only."""
    held = select(FeedObject.id).where(FeedObject.destination == destination, FeedObject.stix_id == EXT_SEAL)
    return [] if session.scalar(held.limit(1)) is not None else [seal_definition()]


def _row(message: OutboxMessage, obj: dict[str, Any], added: datetime) -> FeedObject:
    # Only a release's own objects leave the feed with it; a recall message naming it must stay.
    release = message.payload.get("release") if message.kind == "release" else None
    release_id = release.get("id") if isinstance(release, dict) and obj["id"] != EXT_SEAL else None
    return FeedObject(
        destination=message.destination,
        stix_id=str(obj["id"]),
        stix_type=str(obj["type"]),
        modified=version_of(obj),
        date_added=added,
        body=obj,
        outbox_id=message.id,
        release_id=str(release_id) if release_id else None,
    )
