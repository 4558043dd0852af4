"""Two gates around the node's app, as plain ASGI middleware.

Starlette's `BaseHTTPMiddleware` (what `@app.middleware("http")` makes) runs the app in a task of
its own and re-wraps the response stream, on every request the node serves. These do the same
work on the ASGI messages themselves. Measured in one process through httpx's ASGI transport
(median of 3,000 requests to a path no route serves, five alternating rounds): 1.23 ms a request
with the two gates as `BaseHTTPMiddleware`, 0.73 ms with these, 0.73 ms with no gate at all.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tearline.web.csrf import SAFE_METHODS

# Partner nodes' paths: served before the demo is ready, since partners build the storyline too.
PARTNER_PATHS = ("/taxii2", "/api/audit/witness")


class UntilReady:
    """Until `ready` is set, people get 503 (`starting`) and partner nodes and bearer tokens are served.

    Bearer tokens exist before `ready` only in the storyline's own hands: a person cannot log in
    until then (that too is refused here), so the storyline's API calls go through.
    """

    def __init__(self, app: ASGIApp, ready: threading.Event) -> None:
        self.app, self.ready = app, ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.ready.is_set() or self._let_through(scope):
            await self.app(scope, receive, send)
            return
        body = {"error": "starting", "message": "the demo is still setting up; try again in a few seconds"}
        await JSONResponse(body, status_code=503, headers={"Retry-After": "2"})(scope, receive, send)

    @staticmethod
    def _let_through(scope: Scope) -> bool:
        if str(scope["path"]).startswith(PARTNER_PATHS):
            return True
        return Headers(scope=scope).get("authorization", "").lower().startswith("bearer ")


class Wakeable(Protocol):
    def nudge(self) -> None: ...


class WakeAfterChange:
    """After a change (any method but GET, HEAD and OPTIONS) is answered below 400, nudge the workers.

    A change may have written outbox messages (a release, a recall, a consent answer) or stored a
    report: the courier then tells partners within the second, and the resolver resolves its
    persons, phones and vehicles, instead of waiting for their next round. The status is known
    only after the route's transaction has committed, so they never wake to find nothing.
    """

    def __init__(self, app: ASGIApp, workers: Sequence[Wakeable]) -> None:
        self.app, self.workers = app, tuple(workers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        if status < 400:
            for worker in self.workers:
                worker.nudge()
