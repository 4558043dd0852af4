"""`tearline demo`: three demo nodes (US, Mexico, Canada) on loopback, and the storyline of
DESIGN §5 run across them through their real TAXII endpoints, then left serving."""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn

from tearline.cli.common import console, reports_errors
from tearline.errors import ConfigError
from tearline.node import init_node

if TYPE_CHECKING:
    from tearline.fixtures.story import Federation

NODES = [("USA", "US-DEMO-NARC", "usa"), ("MEX", "MX-DEMO-FIA", "mex"), ("CAN", "CA-DEMO-BORDER", "can")]


@reports_errors
def demo(
    data: Annotated[
        Path | None, typer.Option("--data", help="A new, empty directory for the demo nodes (default: a temp dir).")
    ] = None,
    port: Annotated[
        int, typer.Option(help="US node's port; Mexico's is the next, Canada's the one after.")
    ] = 8400,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    serve: Annotated[
        bool, typer.Option(help="Keep serving after the story (--no-serve: exit).")
    ] = True,
    story: Annotated[bool, typer.Option(help="Run the storyline across the nodes (--no-story: data only).")] = True,
) -> None:
    """Start three demo nodes, run the DESIGN §5 storyline across them, and print URLs and log-ins."""
    # Imported here, not with the module: the fixtures bring in the resolver (Splink, DuckDB,
    # pandas), about a second that every other command would pay at start-up.
    from tearline.fixtures import build_demo, request_convoy_release
    from tearline.fixtures.partners import build_can, build_mex
    from tearline.fixtures.story import Federation, link, run_story
    from tearline.web.app import create_app

    target = data or Path(tempfile.mkdtemp(prefix="tearline-demo-"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} is not an empty directory; the demo needs a fresh one (or omit --data)")
    console.print(f"building three demo nodes in {target} …")
    nodes = {nation: init_node(target / folder, nation, agency, demo=True) for nation, agency, folder in NODES}
    urls = {nation: f"http://{host}:{port + i}" for i, (nation, _, _) in enumerate(NODES)}
    # Each node has its own database: build them side by side (password hashing dominates).
    with ThreadPoolExecutor(max_workers=3) as pool:
        us_part = pool.submit(build_demo, nodes["USA"])
        mex_part = pool.submit(build_mex, nodes["MEX"])
        pool.submit(build_can, nodes["CAN"]).result()
        built, mex_record = us_part.result(), mex_part.result()
    ready = threading.Event()
    servers = [_server(create_app(nodes[n], deliver=True, ready=ready), host, port + i) for i, n in enumerate(urls)]
    try:
        _start(servers)
        fed = Federation(nodes["USA"], nodes["MEX"], nodes["CAN"], urls, built, mex_record)
        link(fed)  # the three nodes are each other's peers, with or without the story
        if story:
            run_story(fed, lambda line: console.print(line, soft_wrap=True, highlight=False))
        built.release_request = request_convoy_release(nodes["USA"], built)
        ready.set()
        _print_logins(fed)
        if serve:
            _wait_for_signal()
    finally:
        for server in servers:
            server.should_exit = True
        for node in nodes.values():
            node.close()


def _server(app: Any, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def _start(servers: list[uvicorn.Server]) -> None:
    for server in servers:
        threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not all(s.started for s in servers):
        if time.monotonic() > deadline:
            raise ConfigError("a demo node did not start: is one of its three ports in use? Try another --port")
        time.sleep(0.05)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _print_logins(fed: Federation) -> None:
    from tearline.fixtures.partners import CAN_CAST, MEX_CAST

    casts = {"USA": _us_cast(), "MEX": MEX_CAST, "CAN": CAN_CAST}
    for node in fed.nodes():
        nation = node.config.nation
        url = fed.urls[nation]
        console.print(f"{node.config.name} demo node: {url}/  API {url}/api  TAXII {url}/taxii2/", soft_wrap=True)
        for username, (user_nation, agency, clearance, roles, password) in casts[nation].items():
            line = f"  {username:<18} {password:<18} {user_nation}  {agency:<15} {clearance:<12} {','.join(roles)}"
            console.print(line, soft_wrap=True, highlight=False)
    console.print(f"reports: {', '.join(fed.demo.reports.values())}", soft_wrap=True)
    if fed.demo.release_request is not None:
        review = f"{fed.urls['USA']}/api/release-requests/{fed.demo.release_request}/review"
        console.print(
            f"release request {fed.demo.release_request} (convoy report to MEX/MX-DEMO-FIA) awaits two disclosure "
            f"officers: {review}",
            soft_wrap=True,
        )


def _us_cast() -> dict[str, tuple[str, str, str, list[str], str]]:
    from tearline.fixtures import CAST

    return {
        username: (nation, agency, "+".join([clearance, *compartments]), roles, password)
        for username, (nation, agency, clearance, compartments, roles, password) in CAST.items()
    }
