"""What every command shares: the --data option, opening the node, and rendering errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select

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
