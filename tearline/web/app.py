"""The node's HTTP API (FastAPI), under /api, with the OpenAPI document at /openapi.json."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from tearline import __version__, journal
from tearline.db.models import Principal
from tearline.errors import Forbidden, InvalidInput, Problem, TearlineError, Unauthorized
from tearline.federation.auth import is_signed, principal_for_signature
from tearline.node import Node
from tearline.store.principals import principal_for_token
from tearline.web.csrf import CSRF_HEADER, SAFE_METHODS, require_csrf
from tearline.web.gates import UntilReady, WakeAfterChange
from tearline.web.nul import RefuseNul

SESSION_COOKIE = "tearline_session"
bearer = HTTPBearer(auto_error=False)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller, re-read on every request so that a changed principal or revoked token bites at once."""
    if credentials is None and is_signed(request.headers):
        return principal_of_signature(request)
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if not token:
        refused = Unauthorized(
            "log in first: send 'Authorization: Bearer <token>' (from `tearline user add --print-token`)"
        )
        journal.record_refusal(node_of(request), "anonymous", "auth", [request.url.path], "no credentials")
        raise refused
    principal = principal_of_token(request, token)
    if credentials is None and request.method not in SAFE_METHODS:
        # A cookie rides along on any site's request: a change needs the session's CSRF token too.
        checked_csrf(request, principal, token, request.headers.get(CSRF_HEADER))
    return principal


def principal_of_signature(request: Request) -> Principal:
    """A partner node's own request, signed with its node key (tearline.federation.auth)."""
    node = node_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        with node.db.read() as session:
            principal = principal_for_signature(session, request.headers, request.method, target)
            session.expunge(principal)
    except Unauthorized as err:
        journal.record_refusal(node, "anonymous", "auth", [request.url.path], err.message)
        raise
    return principal


def principal_of_token(request: Request, token: str) -> Principal:
    """The principal of a bearer token or session; an unknown or expired one is refused and logged."""
    node = node_of(request)
    try:
        with node.db.read() as session:
            principal = principal_for_token(session, token)
            session.expunge(principal)
    except Unauthorized as err:
        journal.record_refusal(node, "anonymous", "auth", [request.url.path], err.message)
        raise
    return principal


def checked_csrf(request: Request, principal: Principal, session_token: str, given: str | None) -> None:
    node = node_of(request)
    try:
        require_csrf(node, session_token, given)
    except Forbidden:
        journal.record_refusal(node, principal, "auth", [request.url.path], "csrf")
        raise


NodeDep = Annotated[Node, Depends(node_of)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def _tearline_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TearlineError)
    return JSONResponse(exc.as_dict(), status_code=exc.status)


# Pydantic's reasons for a time it could not read ("input is too short") say nothing a caller can act on.
_TIME_ERRORS = frozenset({"datetime_type", "datetime_parsing", "datetime_from_date_parsing"})
TIME_REASON = "must be an RFC 3339 time or a date, such as 2026-12-07 or 2026-12-07T10:00:00Z"


def _validation_problem(err: Any) -> dict[str, str]:
    """One refused parameter, named by where it came from (`query.after`, `path.report_id`; a body
    field by its own path) and why."""
    field = ".".join(str(p) for p in err["loc"] if p != "body")
    return {"field": field, "reason": TIME_REASON if err["type"] in _TIME_ERRORS else err["msg"]}


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_validation_problem(err) for err in exc.errors()]
    first = problems[0] if problems else {"field": "", "reason": "invalid request"}
    body: dict[str, Any] = {"error": "invalid", "message": f"{first['field']}: {first['reason']}", "problems": problems}
    return JSONResponse(body, status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _nul_refused(problems: list[Problem]) -> JSONResponse:
    return JSONResponse(InvalidInput(problems).as_dict(), status_code=422)


def create_app(node: Node, deliver: bool = False, ready: threading.Event | None = None) -> FastAPI:
    """The node's application. `deliver=True` (as `tearline serve` does) also runs the courier that
    pushes the outbox to partners and pulls from them; tests drive delivery by hand instead.

    Until `ready` is set (the demo, while its storyline runs), people get 503 and partner nodes
    are served, so nobody acts on a half-built scenario."""
    from tearline.federation import collections as _partner  # noqa: F401  (registers the feed and inbox)
    from tearline.federation.courier import Courier
    from tearline.resolve.arrivals import ArrivalWorker
    from tearline.taxii.routes import taxii_app
    from tearline.web import (
        console,
        routes_admin,
        routes_audit,
        routes_release,
        routes_reports,
        routes_resolve,
        routes_stream,
    )

    courier = Courier(node) if deliver else None
    resolver = ArrivalWorker(node) if deliver else None  # resolves what arrives, right after it commits

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if courier is not None:
            courier.start()
        if resolver is not None:
            resolver.start()
        yield
        if courier is not None:
            courier.stop()
        if resolver is not None:
            resolver.stop()

    app = FastAPI(
        title="tearline",
        version=__version__,
        description="A tearline node: marked intelligence stored and served only to those the rules admit.",
        lifespan=lifespan,
    )
    app.state.node = node
    app.state.courier = courier
    app.state.resolver = resolver
    if ready is not None:
        app.add_middleware(UntilReady, ready=ready)
    if courier is not None:
        app.add_middleware(WakeAfterChange, workers=[w for w in (courier, resolver) if w is not None])
    # TAXII refuses NUL itself, in its own error media type (tearline.taxii.routes).
    app.add_middleware(RefuseNul, refuse=_nul_refused, skip="/taxii2")
    app.add_exception_handler(TearlineError, _tearline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(routes_reports.router, prefix="/api")
    app.include_router(routes_admin.router, prefix="/api")
    app.include_router(routes_release.router, prefix="/api")
    app.include_router(routes_audit.router, prefix="/api")
    app.include_router(routes_stream.router, prefix="/api")
    app.include_router(routes_resolve.router, prefix="/api")
    app.mount("/taxii2", taxii_app(node))  # TAXII 2.1: its own media types and error bodies
    console.install(app)  # the browser console: HTML pages, its assets, log-in and log-out
    return app
