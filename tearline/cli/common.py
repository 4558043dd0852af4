"""What every command shares: the --data option, opening the node, and rendering errors."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tearline import journal
from tearline.db.migrate import schema_revisions
from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, TearlineError
from tearline.node import Node

console = Console()
Advance = Callable[[str, int, int], None]
err_console = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option("--data", envvar="TEARLINE_DATA", help="The node's data directory.", show_default=True),
]
DEFAULT_DATA = Path("tearline-data")

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def progress_bars(label: str) -> Iterator[Advance]:
    """Rich progress bars, one per step, fed through an `Advance` callback (step name, done, total)."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"{label}: {name}", total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield advance


def reports_errors(func: F) -> F:
    """Turn a TearlineError into a clear message and exit status 2, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidInput as err:
            err_console.print(f"[red]error:[/red] {err.message}")
            for problem in err.problems[:50]:
                where = f"{problem.item}: " if problem.item else ""
                err_console.print(f"  - {where}{problem.field}: {problem.reason}")
            if len(err.problems) > 50:
                err_console.print(f"  … and {len(err.problems) - 50} more")
            raise typer.Exit(2) from None
        except TearlineError as err:
            err_console.print(f"[red]error:[/red] {err.message}")
            raise typer.Exit(2) from None
        except IntegrityError:
            # The checks passed, then the database refused: the same name was added at the same moment.
            err_console.print(
                "[red]error:[/red] another change to the same record was committed at the same moment, "
                "so nothing was stored; run the command again"
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_node(data: Path) -> Node:
    """The node in `data`, refused (with what to do) when its schema is older than this code's."""
    node = Node.open(data)
    current, heads = schema_revisions(node.db.engine)
    if current != heads:
        at = ", ".join(sorted(current)) or "none"
        node.close()
        raise TearlineError(
            f"the node's database schema is at revision {at}; this tearline needs {', '.join(sorted(heads))}. "
            f"Back the node up, then run `tearline migrate --data {data}`"
        )
    return node


def principal_named(node: Node, username: str) -> Principal:
    with node.db.read() as session:
        principal = session.scalar(select(Principal).where(Principal.username == username))
        if principal is None:
            raise NotFound(f"no user {username!r}; add one with `tearline user add {username} --data DIR ...`")
        session.expunge(principal)
    return principal


def os_account() -> str:
    """The operating-system account running this command, as recorded with its changes."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no password-file entry (a bare container)
        return "unknown"


def record_admin(
    session: Session,
    node: Node,
    action: str,
    objects: list[str],
    detail: dict[str, object] | None = None,
    *,
    actor: Principal | str = journal.NODE_ADMIN,
) -> int:
    """Log a change made at this command line in its own transaction: who ran it, and what it set.

    The actor is the node's administrator (whoever holds its data directory), unless the command
    names a principal; the operating-system account that ran it is kept with what was set.
    """
    return journal.record(session, node, actor, action, objects, detail={"os_account": os_account(), **(detail or {})})
