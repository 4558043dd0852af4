"""Two real nodes on loopback: a US node with the demo data and a Mexican node, each served over
HTTP by uvicorn, registered as each other's peers with their real verifier keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from sqlalchemy import select

from tearline.audit import log
from tearline.db.models import Report
from tearline.federation.peers import add_peer
from tearline.fixtures import Demo
from tearline.node import Node
from tearline.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(node: Node, port: int | None = None) -> Iterator[str]:
    """The node's app on a loopback port, for as long as the block runs."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Pair:
    us: Node
    mex: Node
    demo: Demo
    us_url: str
    mex_url: str
    mex_token_on_us: str = ""


def register_each_other(us: Node, us_url: str, mex: Node, mex_url: str) -> str:
    """`tearline peer add` on both sides; returns the token MEX's TAXII clients use on the US node."""
    with us.db.write() as session:
        _, token = add_peer(session, us, "MEX", "MX-DEMO-FIA", mex_url, log.verifier_key(mex))
    with mex.db.write() as session:
        add_peer(session, mex, "USA", "US-DEMO-NARC", us_url, log.verifier_key(us))
    return token


def holds(node: Node, report: str) -> bool:
    with node.db.read() as session:
        return session.scalar(select(Report.id).where(Report.stix_id == report)) is not None
