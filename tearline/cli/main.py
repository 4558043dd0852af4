"""`tearline`: set up a node, manage its users and registry, ingest, export, serve and demo.

These command forms are relied on by scripts and partners: keep them stable.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tearline.cli import admin, demo, equivalence, federation, users
from tearline.cli.audit import audit_app, bench_audit_command
from tearline.cli.bench import bench_app
from tearline.cli.common import (
    DEFAULT_DATA,
    DataDir,
    console,
    open_node,
    principal_named,
    progress_bars,
    reports_errors,
)
from tearline.db.migrate import schema_revisions, upgrade
from tearline.errors import InvalidInput, Problem, TearlineError
from tearline.node import SERVICE_ACCOUNT, Node, init_node

app = typer.Typer(help="tearline: marked intelligence shared only as the markings allow.", no_args_is_help=True)
app.add_typer(users.user_app, name="user")
app.add_typer(admin.agency_app, name="agency")
app.add_typer(admin.compartment_app, name="compartment")
app.add_typer(admin.workspace_app, name="workspace")
app.command("demo")(demo.demo)
app.add_typer(bench_app, name="bench")
app.add_typer(audit_app, name="audit")
app.add_typer(federation.peer_app, name="peer")
app.add_typer(equivalence.equivalence_app, name="equivalence")
app.command("deliver")(federation.deliver)
bench_app.command("audit")(bench_audit_command)
from tearline.cli import bench_console, bench_release, screenshots  # noqa: E402, F401  (mount `bench release`, `bench console`)

app.command("screenshots")(screenshots.screenshots)
from tearline.cli import bench_resolve, resolve  # noqa: E402, F401  (mounts `tearline bench resolve`)

app.command("resolve")(resolve.resolve)
app.command("resolve-train")(resolve.resolve_train)
from tearline.cli import bench_federation, bench_search, bench_taxii  # noqa: E402, F401  (mount `bench federation`, `bench search`, `bench taxii`)


@app.command()
@reports_errors
def migrate(data: DataDir = DEFAULT_DATA) -> None:
    """Bring an existing node's database to the schema this version of tearline needs (Alembic)."""
    node = Node.open(data)
    try:
        before, heads = schema_revisions(node.db.engine)
        with progress_bars("migrate") as advance:
            # A bar over the migrations, and a line as each is applied: a large log's can take minutes.
            def applied(what: str, done: int, total: int) -> None:
                console.print(f"applied {what}")
                advance("migrations", done, total)

            upgrade(node.db.url, applied)
        after, _ = schema_revisions(node.db.engine)
    finally:
        node.close()
    was = ", ".join(sorted(before)) or "none"
    now = ", ".join(sorted(after))
    console.print(f"schema of {data}: at {now}" + ("" if before == after else f" (was {was})"))
    if after != heads:
        raise TearlineError(f"the schema stopped at {now}, short of {', '.join(sorted(heads))}")


@app.command()
@reports_errors
def init(
    nation: Annotated[str, typer.Option(help="ISO 3166 alpha-3 nation of this node: USA, MEX or CAN.")],
    agency: Annotated[str, typer.Option(help="The agency that runs this node.")],
    data: DataDir = DEFAULT_DATA,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of an empty database (or TEARLINE_DATABASE_URL), recorded in node.json; "
            "default is an embedded SQLite file in --data."
        ),
    ] = None,
    law_enforcement: Annotated[bool, typer.Option(help="Is the agency a law-enforcement agency?")] = True,
) -> None:
    """Create a node, its database and its Ed25519 signing key."""
    node = init_node(data, nation.upper(), agency, database_url, law_enforcement)
    node.close()
    console.print(f"node [bold]{escape(node.config.name)}[/bold] created in {escape(str(data))}")
    console.print(
        escape(f"next: add a user with `tearline user add NAME --data {data} --nation {nation.upper()} ...`")
    )


@app.command()
@reports_errors
def serve(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on (1-65535).")] = 8400,
) -> None:
    """Serve the node's API (and console) over HTTP."""
    import uvicorn

    from tearline.web.app import create_app

    node = open_node(data)
    listening = _listening_socket(host, port)  # before "serving" is said: the port may be taken
    console.print(f"serving {node.config.name} on http://{host}:{port}/ (web console at /, API under /api)")
    server = uvicorn.Server(uvicorn.Config(create_app(node, deliver=True), host=host, port=port, log_level="warning"))
    server.run(sockets=[listening])


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, or a refusal naming the option to change."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, _, _, address = found[0]
    except socket.gaierror as err:
        raise InvalidInput(Problem("--host", f"{host!r} is no address to listen on ({err.strerror})")) from None
    listening = socket.socket(family, kind)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's own bind
    try:
        listening.bind(address)
    except OSError as err:
        listening.close()
        if err.errno == errno.EADDRINUSE:
            taken = f"{port} on {host} is in use; stop what holds it or give another --port"
            raise InvalidInput(Problem("--port", taken)) from None
        raise InvalidInput(Problem("--host/--port", f"cannot listen on {host}:{port} ({err.strerror})")) from None
    listening.listen(2048)  # uvicorn's default backlog
    return listening


@app.command()
@reports_errors
def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True,
            help="A STIX 2.1 bundle (.json) or a CSV file (.csv, needs --mapping).",
        ),
    ],
    data: DataDir = DEFAULT_DATA,
    mapping: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="JSON mapping of CSV columns to fields."),
    ] = None,
    user: Annotated[str, typer.Option(help="Submitter recorded on each report.")] = SERVICE_ACCOUNT,
) -> None:
    """Ingest a file, all or nothing; a rejection lists each bad object or line."""
    from tearline.ingest import ingest_file
    from tearline.ingest.files import check_kind

    check_kind(file, mapping)  # before a progress bar is drawn, as below
    node = open_node(data)
    principal_named(node, user)  # an unknown submitter is refused before a progress bar is drawn
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"ingesting {file.name}", total=None)

        def advance(step: int, total: int) -> None:
            progress.update(task, advance=step, total=total)

        result = ingest_file(node, file, mapping=mapping, submitter=user, progress=advance)
    console.print(f"stored {result.summary()}")
    resolve.resolve_arrivals(node)  # committed first: the ingest stands whatever resolving does


@app.command()
@reports_errors
def export(
    user: Annotated[str, typer.Option(help="Export everything this user may see.")],
    out: Annotated[Path, typer.Option(help="Where to write the STIX 2.1 bundle.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Write a STIX 2.1 bundle of everything USER may see, with markings (audited as a read)."""
    from tearline.ingest import export_bundle

    _check_out(out)  # before the bundle is built (and its read logged)
    node = open_node(data)
    bundle = export_bundle(node, user)
    _write_replacing(out, json.dumps(bundle, indent=1, ensure_ascii=False) + "\n")
    console.print(f"wrote {len(bundle.get('objects', []))} STIX objects to {escape(str(out))}")


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be written: a directory, or a file in a missing or read-only directory."""
    if out.is_dir():
        raise TearlineError(f"--out {out} is a directory; give the path of a file, such as {out / 'bundle.json'}")
    folder = out.parent
    if not folder.is_dir():
        raise TearlineError(f"--out {out}: the directory {folder} does not exist; create it or give another --out")
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise TearlineError(f"--out {out} cannot be written (permission denied); give another --out")


def _write_replacing(out: Path, text: str) -> None:
    """Write to a temporary file beside `out`, then rename it: `out` is whole or as it was."""
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def main() -> None:  # pragma: no cover - a `tearline` script installed before tearline.cli.entry
    from tearline.cli.entry import main as entry

    entry()
