"""NUL (U+0000) in a request: refused at the edge, for every database alike.

PostgreSQL text and jsonb cannot hold NUL, and SQLite stores it: such input was a 500 on one
database and stored on the other, and in the audit log's search columns it failed a whole group of
reads. The node's app answers these problems with a 422, and the TAXII app with a TAXII 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tearline.errors import Problem
from tearline.store.reports import NUL_REASON, nul_paths


class RefuseNul:
    """ASGI middleware: a request holding NUL gets `refuse(problems)` and never reaches the app.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs about 0.1 ms a request.
    A body is read only for JSON and forms, and then handed on to the app as it came.
    """

    def __init__(self, app: ASGIApp, refuse: Callable[[list[Problem]], Response], skip: str | None = None) -> None:
        self.app, self.refuse, self.skip = app, refuse, skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.skip is not None and scope["path"].startswith(self.skip)):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        problems = [Problem("path", NUL_REASON)] if "\x00" in request.url.path else []
        query = request.query_params.multi_items()
        problems += [Problem(f"query.{k}", NUL_REASON) for k, v in query if "\x00" in k + v]
        kind = request.headers.get("content-type", "")
        if "json" in kind or kind.startswith("application/x-www-form-urlencoded"):
            body = await request.body()
            problems += _body_problems(kind, body)
            receive = _replay(body, receive)
        if problems:
            await self.refuse(problems)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, as one message; then whatever the client sends next (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _body_problems(kind: str, body: bytes) -> list[Problem]:
    if "json" in kind:
        return [Problem(f"body.{path}" if path else "body", NUL_REASON) for path in _body_nul_paths(body)]
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return [Problem(f"form.{k}", NUL_REASON) for k, v in fields if "\x00" in k + v]


def _body_nul_paths(body: bytes) -> list[str]:
    # JSON spells NUL only as an escape: parse (rarely) only when the escape is there.
    if b"\\u0000" not in body:
        return []
    try:
        parsed = json.loads(body)
    except ValueError:
        return []  # not JSON: the route's own validation answers that
    return list(nul_paths(parsed))
