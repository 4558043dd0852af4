"""The live stream: server-sent events of new and changed items, each computed for its subscriber.

Every event is decided for the subscriber at the moment it is sent, by the same read path as a
report read: a report event goes out only if the subscriber may read that report now, and then with
the title and banner as the subscriber sees them. Role events (consent requests and answers,
partners' recalls, and this node's own release requests, decisions and recalls) go only to this
node's own officers and auditors, and of those only to the ones who may see what the event names
(DESIGN §3.3: roles grant actions, never visibility). An event id names the event's place in the
change log, sealed for its subscriber (`tearline.web.opaque`): the log's own ids would count, by
their gaps, the events skipped as unreadable. `Last-Event-ID` (or `after`) resumes exactly after the
last event received; what was skipped as unreadable is never sent later by accident, because it is
decided again on every resume.
The credential the stream was opened with is checked again on every poll, and the principal read
again with it: a stream ends once its token, session or principal would be refused a new request.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from tearline import clock, journal
from tearline.db.federation_tables import ChangeEvent
from tearline.db.models import Grant, Portion, Principal, Report, StixObject
from tearline.db.release_tables import Consent, ConsentRequest, Release
from tearline.errors import InvalidInput, NotFound, Problem, Unauthorized
from tearline.federation.auth import is_signed, principal_for_signature
from tearline.node import Node
from tearline.store.changes import changes_after, latest_change
from tearline.store.filters import Reader, audience_clause
from tearline.store.items import items_by_hash
from tearline.store.principals import principal_for_token
from tearline.store.reader_versions import report_news, report_view
from tearline.store.release_sight import release_sight
from tearline.web.app import SESSION_COOKIE, NodeDep, PrincipalDep, bearer
from tearline.web.opaque import seal, unseal
from tearline.web.params import INT_MAX

router = APIRouter(tags=["stream"])
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0
BATCH = 200

# The stream's credential checked again: its principal as it is now, or Unauthorized.
Admission = Callable[[Session], Principal]


def admission(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Admission:
    """The check `PrincipalDep` made when the stream opened, to make again on every poll.

    A stream outlives its request: a token revoked, a session logged out, a principal disabled or
    given other roles must bite on the open stream too, as it does on the next request. The same
    credential is taken as `current_principal` takes it, and checked by the same functions.
    """
    if credentials is None and is_signed(request.headers):
        # A partner's signature holds for its few minutes of clock skew; a longer stream then ends,
        # and the partner reconnects with a fresh signature and Last-Event-ID.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return lambda session: principal_for_signature(session, request.headers, request.method, target)
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE, "")
    return lambda session: principal_for_token(session, token)


def events_for(
    node: Node, principal: Principal, after: int, limit: int = BATCH, admit: Admission | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The events after `after` this principal may receive, and the last change id examined.

    With `admit`, the principal is read again through it first (Unauthorized once it no longer
    passes), so that roles and clearance are today's, not those of the moment the stream opened.
    """
    with node.db.read() as session:  # an idle subscriber costs one read, never the writer's lock
        if admit is not None:
            principal = admit(session)
            session.expunge(principal)  # used after this read, by the reader and the journal
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


def page_start(node: Node, principal: Principal) -> str:
    """Where a freshly rendered page starts listening: after the node's newest change, sealed with a
    fresh nonce. The newest change moves with every change on the node, seen by this reader or not;
    sealed alone, a page polled for it would count the changes hidden from its reader (DESIGN §3.3).
    With the nonce every rendering gives another id, so the ids tell nothing, and it costs one query."""
    with node.db.read() as session:
        change = latest_change(session)
    return seal(node, EVENT_ID_PURPOSE, principal.id, f"{change}.{secrets.token_hex(8)}")


def _decide(session: Any, reader: Reader, table: Any, row: ChangeEvent) -> dict[str, Any] | None:
    event: dict[str, Any] = {"id": row.id, "kind": row.kind, "at": clock.stix_timestamp(clock.as_utc(row.at))}
    if row.audience_role is not None:
        if reader.foreign or not ({row.audience_role, "auditor"} & reader.roles):
            return None
        if not _sees_subject(session, reader, table, row):
            return None
        return {**event, "report": row.report_stix_id, **row.detail}
    if row.report_stix_id is None:
        return None
    if row.version_number is None:
        try:
            view = report_view(session, reader, table, row.report_stix_id)
        except NotFound:
            return None
        number = view.version
    else:
        # An edit that changed nothing this reader sees is no event of theirs; a replayed event
        # carries the reader's number of the version it announced, not of the current one.
        news = report_news(session, reader, table, row.report_stix_id, row.version_number)
        if news is None:
            return None
        view, number = news
    return {**event, "report": view.stix_id, "version": number, "title": view.title, "banner": view.banner}


def _sees_subject(session: Session, reader: Reader, table: Any, row: ChangeEvent) -> bool:
    """Whether the reader may see what a role event names; a subject not found is not seen.

    A role only says who acts on an event: the report id, release and partner an event names are
    themselves news of the report, so they go only to a reader who may see at least one of its items.
    A recall of ours names a release, which goes only to a reader who sees an item it kept.
    """
    if row.kind == "recall":
        return _saw_recalled(session, reader, row.report_stix_id or "", str(row.detail.get("release", "")))
    if row.kind == "release-recall":  # ours: the release as the releases list shows it, or nothing
        release = session.get(Release, str(row.detail.get("release", "")))
        return release is not None and release_sight(session, reader, release) is not None
    # A release request's id is no consent request's: only consent events name consent items.
    named = _named_items(session, row.detail) if row.kind in CONSENT_KINDS else None
    if named is not None:
        return bool(items_by_hash(session, reader, named))  # the consent pages' own read of the items
    if row.report_stix_id is not None:
        try:
            report_view(session, reader, table, row.report_stix_id)
        except NotFound:
            return False
    return True  # an event that names nothing hides nothing


CONSENT_KINDS = frozenset({"consent-request", "consent-answer", "consent-revoke"})


def _named_items(session: Session, detail: dict[str, Any]) -> list[str] | None:
    """The item hashes a consent request, answer or revocation concerns; None if it names neither."""
    if "request" in detail:
        request = session.get(ConsentRequest, str(detail["request"]))
        return list(request.item_hashes) if request is not None else []
    if "consent" in detail:
        consent = session.get(Consent, str(detail["consent"]))
        return list(consent.item_hashes) if consent is not None else []
    return None


def _saw_recalled(session: Session, reader: Reader, report: str, release_id: str) -> bool:
    """Whether the reader could see an item the recalled release delivered, until the recall.

    The recall has already ended those deliveries, so the report read now answers 404 to everyone
    (rule 5), and the officers who read the report are the ones owed the news. So: rules 1-4 and 6
    as every read applies them (the item's audience, `audience_clause`), on the items this release
    delivered while it was live, and not withdrawn. Rule 7 needs nothing here: foreign readers get
    no role events. Relationships are left out, so rule 8 needs nothing either: one with visible
    ends has those ends to count instead.
    """
    delivered = select(Grant.item_hash, Grant.report_version_id).where(
        Grant.kind == "delivery",
        Grant.origin_id == release_id,
        or_(Grant.recalled_at.is_(None), Grant.expires_at > Grant.recalled_at),
    )
    grants = session.execute(delivered).all()
    hashes = [h for h, _ in grants if h]
    versions = [v for _, v in grants if v is not None]
    of_report = select(Report.id).where(Report.stix_id == report).scalar_subquery()
    for item in (Portion, StixObject):
        query = select(item.id).where(
            item.report_id == of_report,
            or_(item.hash.in_(hashes), item.version_id.in_(versions)),
            item.withdrawn.is_(false()),
            audience_clause(reader, item),
        )
        if item is StixObject:
            query = query.where(StixObject.source_ref.is_(None), StixObject.target_ref.is_(None))
        if session.scalar(query.limit(1)) is not None:
            return True
    return False


EVENT_ID_PURPOSE = "stream-event"


def _sse(node: Node, principal: Principal, event: dict[str, Any]) -> str:
    """One event as its subscriber receives it: its change-log id sealed (`tearline.web.opaque`),
    so that the gaps between two ids say nothing of the events skipped as unreadable."""
    shown = {**event, "id": event_id_after(node, principal, event["id"])}
    return f"id: {shown['id']}\nevent: {event['kind']}\ndata: {json.dumps(shown, ensure_ascii=False)}\n\n"


def event_id_after(node: Node, principal: Principal, change_id: int) -> str:
    """An event id for this principal that resumes after change `change_id`: what a page that opens
    the stream from its own moment passes as `after` (the change id itself is not for readers)."""
    return seal(node, EVENT_ID_PURPOSE, principal.id, str(change_id))


def _start(node: Node, principal: Principal, last_event_id: str | None, query_value: str | None) -> int:
    """The change-log id to resume after: Last-Event-ID, else `after`, else the start of the log."""
    if last_event_id is not None:
        return _opened(node, principal, "Last-Event-ID", last_event_id)
    if query_value is not None:
        return _opened(node, principal, "after", query_value)
    return 0


def _opened(node: Node, principal: Principal, name: str, value: str) -> int:
    """The change id an event id this stream sent to this principal names; anything else is refused."""
    position = unseal(node, EVENT_ID_PURPOSE, principal.id, value)
    # Only this node seals positions: a change id, alone or with a page start's nonce (`page_start`);
    # the checks below hold for every one it made.
    change, _, nonce = (position or "").partition(".")
    if not (change.isascii() and change.isdigit()) or int(change) > INT_MAX or not _is_nonce(nonce):
        raise InvalidInput(Problem(name, "must be the id of an event this stream sent you"))
    return int(change)


def _is_nonce(text: str) -> bool:
    return text == "" or (len(text) == 16 and all(c in "0123456789abcdef" for c in text))


STREAM_PATH = "/api/stream"


@router.get("/stream")
async def stream(
    request: Request,
    node: NodeDep,
    principal: PrincipalDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[
        str | None, Query(description="Resume after this event id (for clients without headers).")
    ] = None,
    once: Annotated[bool, Query(description="Send what is waiting, then end (catch-up).")] = False,
) -> StreamingResponse:
    """Server-sent events of new and changed items you may read; resumable with Last-Event-ID."""
    start = _start(node, principal, last_event_id, after)
    admit = admission(request, credentials)

    async def events() -> AsyncIterator[str]:
        cursor, idle = start, 0.0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            try:
                sent, examined = await to_thread.run_sync(events_for, node, principal, cursor, BATCH, admit)
            except Unauthorized as err:
                # The credential no longer admits: the stream ends (a reconnect is refused), and the
                # refusal is in the log like any refused request.
                await to_thread.run_sync(journal.record_refusal, node, principal, "stream", [STREAM_PATH], err.message)
                return
            for event in sent:
                yield _sse(node, principal, event)
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
