"""The queue of arrivals to resolve, written by the store's write path (`tearline.resolve.arrivals`
drains it). Kept apart and light: the store imports it, and it imports nothing of the resolver."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.bulk import insert_rows
from tearline.db.resolve_tables import ResolveArrival
from tearline.store.drafts import ObjectDraft

RESOLVABLE_TYPES = ("identity", "x-tearline-phone", "x-tearline-vehicle")


def kind_of(stix_type: str, body: dict[str, Any]) -> str | None:
    """The resolver kind of a stored object, or None for objects that are not resolved."""
    if stix_type == "identity":
        return {"individual": "person", "organization": "organization"}.get(str(body.get("identity_class")))
    return {"x-tearline-phone": "phone", "x-tearline-vehicle": "vehicle"}.get(stix_type)


def note_arrivals(session: Session, objects: Iterable[ObjectDraft]) -> None:
    """Queue the resolvable objects just stored, in the storing transaction (one insert)."""
    now = clock.now()
    rows = [
        {"stix_id": o.stix_id, "kind": kind, "noted_at": now} for o in objects if (kind := kind_of(o.stix_type, o.body))
    ]
    insert_rows(session.connection(), ResolveArrival.__table__, rows)  # type: ignore[arg-type]
