"""The analyst's web console: server-rendered pages over the node's own API functions.

Pages read through the same audited route functions as the JSON API, so a page shows exactly what
the API would give the reader, with the banner computed for them, and leaves the same audit entry.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tearline.web.console import (
    routes_admin,
    routes_audit,
    routes_map,
    routes_release,
    routes_reports,
    routes_resolve,
    routes_session,
)
from tearline.web.console.assets import STATIC


def install(app: FastAPI) -> None:
    """Mount the console's pages, its scripts' JSON actions and its static assets on the node's app."""
    pages = (routes_session, routes_reports, routes_release, routes_resolve, routes_admin, routes_map, routes_audit)
    for module in pages:
        app.include_router(module.router)
        actions = getattr(module, "actions", None)
        if actions is not None:
            app.include_router(actions)
    app.mount("/static", StaticFiles(directory=STATIC), name="console-static")
