"""OASIS `medallion` 3.0.0, the reference TAXII 2.1 server, run as a subprocess on loopback.

It serves one collection from its memory backend, loaded from a data file written here, behind
HTTP Basic authentication. The TAXII benchmark compares our server with it, and the interop tests
push to it and pull from it with our client.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tearline import clock

API_ROOT = "tearline-bench"
COLLECTION_ID = "5d7a0c8e-3f55-4c1b-9a0e-2f6b8c1d4e70"
USER = ("bench", "bench-medallion-pass")  # a throw-away loopback server: not a secret
STIX = "application/stix+json;version=2.1"
TAXII = "application/taxii+json;version=2.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Medallion:
    """A running medallion: its discovery URL, API root URL, collection and Basic credentials."""

    discovery: str
    api_root: str
    collection_id: str
    user: tuple[str, str]


def _stamp(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _data(url: str, objects: Sequence[dict[str, Any]], added: Sequence[datetime], max_content: int) -> dict[str, Any]:
    manifest = [
        {"id": o["id"], "date_added": _stamp(at), "version": o.get("modified", o.get("created")), "media_type": STIX}
        for o, at in zip(objects, added, strict=True)
    ]
    collection = {
        "id": COLLECTION_ID,
        "title": "benchmark collection",
        "description": "The objects our node serves, loaded into medallion's memory backend.",
        "can_read": True,
        "can_write": True,
        "media_types": [STIX],
        "objects": list(objects),
        "manifest": manifest,
    }
    root = f"{url}{API_ROOT}/"
    return {
        "/discovery": {"title": "medallion", "description": "reference", "default": root, "api_roots": [root]},
        API_ROOT: {
            "information": {
                "title": "medallion benchmark root",
                "description": "medallion 3.0.0 memory backend",
                "versions": [TAXII],
                "max_content_length": max_content,
            },
            "status": [],
            "collections": [collection],
        },
    }


@contextmanager
def medallion_serving(
    directory: Path,
    objects: Sequence[dict[str, Any]] = (),
    added: Sequence[datetime] | None = None,
    *,
    max_page: int = 100,
    max_content: int = 100 * 1024 * 1024,
    start_timeout: float = 120.0,
) -> Iterator[Medallion]:
    """medallion serving `objects` (each added at the matching `added` time) until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    directory.mkdir(parents=True, exist_ok=True)
    data_file, config_file = directory / "medallion-data.json", directory / "medallion-config.json"
    moments = list(added) if added is not None else [clock.now()] * len(objects)
    data_file.write_text(json.dumps(_data(url, objects, moments, max_content)), encoding="utf-8")
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_file),
        },
        "users": {USER[0]: USER[1]},
        "taxii": {"max_page_size": max_page},
    }
    config_file.write_text(json.dumps(config), encoding="utf-8")
    command = [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port)]
    with (directory / "medallion.log").open("wb") as log:
        process = subprocess.Popen([*command, str(config_file)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(url + "taxii2/", process, start_timeout)
            yield Medallion(url + "taxii2/", f"{url}{API_ROOT}/", COLLECTION_ID, USER)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(discovery: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"medallion exited with {process.returncode} before it served {discovery}")
        try:
            if httpx.get(discovery, auth=USER, headers={"Accept": TAXII}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"medallion did not answer at {discovery} within {timeout:.0f} s")


@contextmanager
def uvicorn_serving(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """An ASGI app on a loopback port (a thread of this process), for as long as the block runs."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"the node's server did not start on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
