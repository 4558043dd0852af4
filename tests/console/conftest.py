"""Browser tests start the real CLI (`tearline demo`) on a free port and drive Debian's Chromium.

Under CI=true a missing browser or Playwright fails the run; elsewhere those tests are skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("TEARLINE_CHROMIUM", "/usr/bin/chromium")
TEARLINE = Path(sys.executable).parent / "tearline"


def free_ports(count: int = 3) -> int:
    """The first of `count` consecutive free loopback ports (the demo's US, Mexican and Canadian nodes)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first: int = probe.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no run of free loopback ports")


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (browser tests are required under CI=true)", pytrace=False)
    pytest.skip(message)


class Served:
    """A `tearline demo` process: the US node at `url`, Mexico's at `mex_url`, Canada's at `can_url`.

    The demo runs its storyline first; the browser then walks it again through the screens.
    """

    def __init__(self, data: Path) -> None:
        self.port = free_ports()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mex_url = f"http://127.0.0.1:{self.port + 1}"
        self.can_url = f"http://127.0.0.1:{self.port + 2}"
        self.log = data.parent / "demo.log"
        self.process = subprocess.Popen(
            [str(TEARLINE), "demo", "--data", str(data), "--port", str(self.port)],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tearline demo exited: {self.log.read_text(errors='replace')}")
            try:
                if all(httpx.get(f"{u}/login", timeout=2).status_code == 200 for u in (self.url, self.mex_url)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"tearline demo did not answer in time: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    demo = Served(tmp_path_factory.mktemp("console") / "demo")
    yield demo
    demo.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (scripts/setup.sh dev)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (scripts/setup.sh dev installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """One English page per test module, in its own browser context."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
