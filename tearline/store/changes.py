"""The change log behind the live stream: one row per new or changed item, in the transaction
that made the change, so a subscriber never hears of a change that did not commit. Rows say only
which report changed; what a subscriber is told is computed for that subscriber when sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.bulk import insert_rows
from tearline.db.federation_tables import ChangeEvent


def note(
    session: Session,
    kind: str,
    report: str | None,
    version: int | None = None,
    role: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a change: a report event (`report` set) or a role's event (a consent request)."""
    session.add(
        ChangeEvent(
            at=clock.now(),
            kind=kind,
            report_stix_id=report,
            version_number=version,
            audience_role=role,
            detail=detail or {},
            note="",
        )
    )


def note_reports(session: Session, kind: str, versions: Sequence[tuple[str, int]]) -> None:
    """Record a change of each (report, version), in order, in one pipelined insert (a batch of reports)."""
    if not versions:
        return
    now = clock.now()
    rows: list[dict[str, Any]] = [
        {"at": now, "kind": kind, "report_stix_id": report, "version_number": number, "audience_role": None,
         "detail": {}, "note": ""}
        for report, number in versions
    ]  # fmt: skip
    insert_rows(session.connection(), ChangeEvent.__table__, rows)  # type: ignore[arg-type]


def latest_change(session: Session) -> int:
    """The newest change's id (0 if none): where a freshly rendered page starts listening."""
    return session.scalar(select(func.max(ChangeEvent.id))) or 0


def changes_after(session: Session, after: int, limit: int) -> list[ChangeEvent]:
    """The next `limit` changes after change `after`, oldest first."""
    query = select(ChangeEvent).where(ChangeEvent.id > after).order_by(ChangeEvent.id).limit(limit)
    return list(session.scalars(query))
