"""`tearline demo`: the fictional scenario of DESIGN §5 on a fresh node, served on loopback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from tearline.cli.common import console, reports_errors
from tearline.errors import ConfigError
from tearline.fixtures import CAST, Demo, build_demo
from tearline.node import init_node


@reports_errors
def demo(
    data: Annotated[
        Path | None, typer.Option("--data", help="A new, empty directory for the demo node (default: a temp dir).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8400,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    serve: Annotated[bool, typer.Option(help="Serve after building (--no-serve only builds).")] = True,
) -> None:
    """Build the demo scenario in a fresh data dir, serve it, and print the URL and log-ins."""
    import uvicorn

    from tearline.web.app import create_app

    target = data or Path(tempfile.mkdtemp(prefix="tearline-demo-"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} is not an empty directory; the demo needs a fresh one (or omit --data)")
    console.print(f"building the demo node in {target} …")
    node = init_node(target / "usa", "USA", "US-DEMO-NARC", demo=True)
    built = build_demo(node, pending_release=True)
    _print_logins(built, f"http://{host}:{port}")
    if serve:
        uvicorn.run(create_app(node), host=host, port=port, log_level="warning")


def _print_logins(built: Demo, url: str) -> None:
    console.print(f"US demo node (US-DEMO-NARC): {url}/  API {url}/api  OpenAPI {url}/openapi.json", soft_wrap=True)
    console.print("demo log-ins (fictional people): username  password  nation  agency  clearance  roles")
    for username, password in Demo.passwords().items():
        nation, agency, clearance, compartments, roles, _ = CAST[username]
        held = "+".join([clearance, *compartments])
        line = f"  {username:<16} {password:<18} {nation}  {agency:<15} {held:<22} {','.join(roles)}"
        console.print(line, soft_wrap=True, highlight=False)
    console.print(f"reports: {', '.join(built.reports.values())}", soft_wrap=True)
    if built.release_request is not None:
        console.print(
            f"release request {built.release_request} (convoy report to MEX/MX-DEMO-FIA) awaits two disclosure "
            f"officers: {url}/api/release-requests/{built.release_request}/review",
            soft_wrap=True,
        )
