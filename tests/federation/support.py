"""Two real nodes on loopback: a US node with the demo data and a Mexican node, each served over
HTTP by uvicorn, registered as each other's peers with their real verifier keys."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select

from tearline.audit import log
from tearline.bench.medallion import free_port, uvicorn_serving
from tearline.db.models import Report
from tearline.federation.peers import add_peer
from tearline.fixtures import Demo
from tearline.node import Node
from tearline.web.app import create_app

__all__ = ["Pair", "free_port", "holds", "register_each_other", "serving"]


def serving(node: Node, port: int | None = None) -> AbstractContextManager[str]:
    """The node's app on a loopback port, for as long as the block runs."""
    return uvicorn_serving(create_app(node), port)


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
