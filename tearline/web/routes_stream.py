"""The live stream: server-sent events of new and changed items, each computed for its subscriber.

Every event is decided for the subscriber at the moment it is sent, by the same read path as a
report read: a report event goes out only if the subscriber may read that report now, and then
with the title and banner as the subscriber sees them. Role events (consent requests and
answers, recalls) go only to this node's own officers and auditors. Event ids are the change
log's ids, so `Last-Event-ID` resumes exactly after the last event received; what was skipped
as unreadable is never sent later by accident, because it is decided again on every resume.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from tearline import clock, journal
from tearline.db.federation_tables import ChangeEvent
from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, Problem
from tearline.node import Node
from tearline.store.changes import changes_after
from tearline.store.filters import Reader
from tearline.store.reads import report_view
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.params import INT_MAX

router = APIRouter(tags=["stream"])
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0
BATCH = 200


def events_for(node: Node, principal: Principal, after: int, limit: int = BATCH) -> tuple[list[dict[str, Any]], int]:
    """The events after `after` this principal may receive, and the last change id examined."""
    with node.db.read() as session:  # an idle subscriber costs one read, never the writer's lock
        if not changes_after(session, after, 1):
            return [], after
    reader = node.reader(principal)
    entry = None
    with node.db.read() as session:
        rows = changes_after(session, after, limit)
        table = node.table(session)
        sent = [event for row in rows if (event := _decide(session, reader, table, row)) is not None]
        if sent:
            objects = [f"change:{e['id']}" for e in sent] + sorted({e["report"] for e in sent if e.get("report")})
            entry = journal.event_of(session, node, principal, "stream.read", objects)
    if entry is not None:  # nothing is sent before its entry is durable
        journal.record_read(node, entry)
    return sent, rows[-1].id if rows else after


def _decide(session: Any, reader: Reader, table: Any, row: ChangeEvent) -> dict[str, Any] | None:
    event: dict[str, Any] = {"id": row.id, "kind": row.kind, "at": clock.stix_timestamp(clock.as_utc(row.at))}
    if row.audience_role is not None:
        if reader.foreign or not ({row.audience_role, "auditor"} & reader.roles):
            return None
        return {**event, "report": row.report_stix_id, **row.detail}
    if row.report_stix_id is None:
        return None
    try:
        view = report_view(session, reader, table, row.report_stix_id)
    except NotFound:
        return None
    return {**event, "report": view.stix_id, "version": view.version, "title": view.title, "banner": view.banner}


def _sse(event: dict[str, Any]) -> str:
    return f"id: {event['id']}\nevent: {event['kind']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def _start(last_event_id: str | None, query_value: int | None) -> int:
    if last_event_id is None:
        return query_value or 0  # `after` arrives already checked by its Query bounds
    # ASCII digits only: str.isdigit() also admits '²' and '¹', which int() then refuses (a 500).
    digits = last_event_id.isascii() and last_event_id.isdigit()
    if not digits or len(last_event_id.lstrip("0")) > len(str(INT_MAX)) or int(last_event_id) > INT_MAX:
        raise InvalidInput(Problem("Last-Event-ID", "must be the id of an event this stream sent (a number)"))
    return int(last_event_id)


@router.get("/stream")
async def stream(
    request: Request,
    node: NodeDep,
    principal: PrincipalDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[
        int | None, Query(ge=0, le=INT_MAX, description="Resume after this event id (for clients without headers).")
    ] = None,
    once: Annotated[bool, Query(description="Send what is waiting, then end (catch-up).")] = False,
) -> StreamingResponse:
    """Server-sent events of new and changed items you may read; resumable with Last-Event-ID."""
    start = _start(last_event_id, after)

    async def events() -> AsyncIterator[str]:
        cursor, idle = start, 0.0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            sent, examined = await to_thread.run_sync(events_for, node, principal, cursor)
            for event in sent:
                yield _sse(event)
            if examined != cursor:  # there may be more waiting: look again at once
                cursor, idle = examined, 0.0
                continue
            if once:
                return
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
