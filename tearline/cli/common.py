"""What every command shares: the --data option, opening the node, and rendering errors."""

from __future__ import annotations

import functools
import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tearline import journal
from tearline.config import ENV_URL, NODE_FILE, URL_FORMS
from tearline.db.migrate import schema_revisions
from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, Problem, TearlineError
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
    """Turn a TearlineError, or a database that cannot be reached or read, into a clear message and
    exit status 2, instead of a traceback. What is printed is text, never Rich markup."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidInput as err:
            _print_invalid(err)
            raise typer.Exit(2) from None
        except TearlineError as err:
            _print_error(err.message)
            raise typer.Exit(2) from None
        except IntegrityError:
            # The checks passed, then the database refused: the same name was added at the same moment.
            _print_error(
                "another change to the same record was committed at the same moment, "
                "so nothing was stored; run the command again"
            )
            raise typer.Exit(2) from None
        except (OperationalError, DatabaseError, ArgumentError) as err:
            creating = "database_url" in kwargs  # `tearline init`: the URL is the one it was given
            _print_error(_database_problem(err, None if creating else kwargs.get("data")))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _print_error(message: str) -> None:
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)


def _print_invalid(err: InvalidInput) -> None:
    """The message, then each problem once: a message made of the first problem is not repeated."""
    problems = err.problems
    first = problems[0] if problems else None
    made_of_first = first is not None and (
        err.message == f"{first.field}: {first.reason}"
        or err.message == f"{first.field}: {first.reason} (and {len(problems) - 1} more)"
    )
    if made_of_first and len(problems) == 1:
        _print_error(_problem_line(problems[0]))
        return
    _print_error(f"{len(problems)} problems; nothing was stored" if made_of_first else err.message)
    for problem in problems[:50]:
        err_console.print(f"  - {escape(_problem_line(problem))}", soft_wrap=True)
    if len(problems) > 50:
        err_console.print(f"  … and {len(problems) - 50} more")


def _problem_line(problem: Problem) -> str:
    where = f"{problem.item}: " if problem.item else ""
    return f"{where}{problem.field}: {problem.reason}"


def _database_problem(err: Exception, data: object) -> str:
    """One line for a database that cannot be reached, read or named, and where its URL is set."""
    where = (
        f"the node's database_url in {Path(data) / NODE_FILE}, or {ENV_URL}"
        if isinstance(data, Path)
        else f"--database-url or {ENV_URL}"
    )
    if isinstance(err, ArgumentError):
        return f"not a usable database URL ({err}); give one such as {URL_FORMS} ({where})"
    assert isinstance(err, DatabaseError)
    reason = " ".join(str(err.orig).split()) if err.orig is not None else str(err).splitlines()[0]
    if isinstance(err, OperationalError):
        return (
            f"the database could not be reached or used: {reason}; check that its server is running "
            f"and its URL ({where}), then run the command again"
        )
    return (
        f"the database could not be read: {reason}; the node's database is damaged or not a tearline "
        f"database: restore it from a backup, or check its URL ({where})"
    )


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


AsJson = Annotated[bool, typer.Option("--json", help="One JSON object a line, for scripts.")]


def print_json_lines(rows: list[dict[str, object]]) -> None:
    """What a list command prints with --json: one object a line, on stdout, for scripts."""
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


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
