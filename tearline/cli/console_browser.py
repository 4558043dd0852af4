"""A demo node served in this process and Debian's Chromium driven by Playwright.

Shared by `tearline screenshots` and `tearline bench console`: both need the console on the demo
data, on loopback, and a real browser. Playwright comes with the `dev` extra; the browser is the
system's `chromium` (no browser download).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tearline.errors import ConfigError
from tearline.fixtures import Demo, build_demo
from tearline.node import Node, init_node
from tearline.release.consents import receive_consent_request

CHROMIUM = os.environ.get("TEARLINE_CHROMIUM", "/usr/bin/chromium")
# An incoming request of the storyline's step 4, so that the consent screen has something to answer.
CONSENT_REQUEST = {
    "id": "consent-request--5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
    "requester": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
    "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
    "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
    "purpose": "Pass the Vancouver port contact to the Canadian border agency (fictional demo case).",
}


@dataclass
class DemoSite:
    url: str
    node: Node
    demo: Demo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _consent_request(node: Node, demo: Demo) -> None:
    from tearline.store.content import version_content

    with node.db.write() as session:
        content = version_content(session, demo.reports["convoy"])
        port_contact = [i.hash for i in content.items if "Vancouver" in getattr(i, "text", "")][:1]
        receive_consent_request(session, node, {**CONSENT_REQUEST, "item_hashes": port_contact or ["0" * 64]})


@contextmanager
def demo_site() -> Iterator[DemoSite]:
    """The demo scenario on a fresh node, served by uvicorn on a free loopback port."""
    import uvicorn

    from tearline.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="tearline-console-") as tmp:
        node = init_node(Path(tmp) / "usa", "USA", "US-DEMO-NARC", demo=True)
        demo = build_demo(node, pending_release=True)
        _consent_request(node, demo)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield DemoSite(f"http://127.0.0.1:{port}", node, demo)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            node.close()


@contextmanager
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ConfigError("Playwright is not installed: run `scripts/setup.sh dev`") from None
    if not Path(CHROMIUM).exists():
        raise ConfigError(f"no Chromium at {CHROMIUM}: run `scripts/setup.sh dev` (or set TEARLINE_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def logged_in(browser: Any, url: str, username: str, locale: str = "en-US", **context: Any) -> Any:
    """A page of a new browser context, logged in as a demo user."""
    page = browser.new_context(locale=locale, **context).new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", Demo.passwords()[username])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/inbox")
    return page
