"""Principals at the command line: add, list, change, disable and enable them, and their tokens.

Each change takes effect from the principal's next request, on sessions and tokens already issued
(the API reads the principal afresh on every request), and each is logged in the node's audit log
in the same transaction, with the operating-system account that ran the command.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.cli.common import (
    DEFAULT_DATA,
    AsJson,
    DataDir,
    console,
    open_node,
    principal_named,
    print_json_lines,
    record_admin,
    reports_errors,
)
from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, Problem
from tearline.store.principals import (
    add_principal,
    issue_token,
    live_tokens,
    revoke_tokens,
    set_disabled,
    set_password,
    update_principal,
)

user_app = typer.Typer(help="Principals: people and service accounts.", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="Log-in name.")]
Compartments = Annotated[list[str] | None, typer.Option("--compartment", help="A compartment held; repeat for more.")]
Roles = Annotated[
    list[str] | None,
    typer.Option("--role", help="analyst, disclosure_officer, admin or auditor; repeat for more."),
]
Password = Annotated[
    str | None, typer.Option(envvar="TEARLINE_PASSWORD", help="Password for console log-in (argon2id, 8 or more).")
]


def _subject(principal: Principal) -> str:
    """How a principal is named among an entry's objects (its actor name is `username@agency`)."""
    return f"principal:{principal.username}@{principal.agency}"


def _attributes(principal: Principal) -> dict[str, object]:
    return {
        "nation": principal.nation,
        "agency": principal.agency,
        "clearance": principal.clearance,
        "compartments": list(principal.compartments),
        "roles": list(principal.roles),
    }


def _named(session: Session, username: str) -> Principal:
    principal = session.scalar(select(Principal).where(Principal.username == username))
    if principal is None:
        raise NotFound(f"no user {username!r}; `tearline user list --data DIR` shows who there is")
    return principal


@user_app.command("add")
@reports_errors
def user_add(
    username: Username,
    nation: Annotated[str, typer.Option(help="The principal's nation (must match the agency's).")],
    agency: Annotated[str, typer.Option(help="The principal's agency.")],
    clearance: Annotated[str, typer.Option(help="A label of the nation's scheme, e.g. SECRET or SECRETA.")],
    data: DataDir = DEFAULT_DATA,
    compartment: Compartments = None,
    role: Roles = None,
    password: Password = None,
    print_token: Annotated[bool, typer.Option("--print-token", help="Print an API bearer token on stdout.")] = False,
) -> None:
    """Add a principal; --print-token prints a bearer token for scripts."""
    node = open_node(data)
    with node.db.write() as session:
        principal = add_principal(
            session, username, nation.upper(), agency, clearance, compartment or [], role, password
        )
        token = issue_token(session, principal) if print_token else None
        detail = {**_attributes(principal), "password": password is not None, "token_issued": token is not None}
        record_admin(session, node, "principal.add", [_subject(principal)], detail)
    if token:
        print(token)
    else:
        console.print(f"user {username} added ({nation.upper()}, {agency}, {clearance})")


@user_app.command("list")
@reports_errors
def user_list(
    data: DataDir = DEFAULT_DATA,
    as_json: AsJson = False,
) -> None:
    """The principals of this node: attributes, whether disabled, and the tokens they hold."""
    node = open_node(data)
    with node.db.read() as session:
        rows = [
            {"username": p.username, **_attributes(p), "disabled": p.disabled, "tokens": live_tokens(session, p)}
            for p in session.scalars(select(Principal).order_by(Principal.username))
        ]
    if as_json:
        print_json_lines(rows)
        return
    table = Table("user", "nation", "agency", "clearance", "compartments", "roles", "status", "API tokens", "sessions")
    for row in rows:
        tokens = row["tokens"]
        assert isinstance(tokens, dict)
        table.add_row(
            str(row["username"]), str(row["nation"]), str(row["agency"]), str(row["clearance"]),
            ", ".join(row["compartments"]) or "-", ", ".join(row["roles"]) or "-",  # type: ignore[arg-type]
            "disabled" if row["disabled"] else "active", str(tokens.get("api", 0)), str(tokens.get("session", 0)),
        )  # fmt: skip
    console.print(table)


@user_app.command("set")
@reports_errors
def user_set(
    username: Username,
    data: DataDir = DEFAULT_DATA,
    clearance: Annotated[str | None, typer.Option(help="A new clearance, a label of the nation's scheme.")] = None,
    compartment: Compartments = None,
    no_compartments: Annotated[bool, typer.Option("--no-compartments", help="Hold no compartment.")] = False,
    role: Roles = None,
) -> None:
    """Change a principal's clearance, compartments or roles; each list given replaces the one held.

    It applies from the principal's next request, to sessions and tokens already issued.
    """
    node = open_node(data)
    with node.db.write() as session:
        principal = _named(session, username)
        before = _attributes(principal)
        compartments = [] if no_compartments else compartment
        update_principal(session, principal, clearance=clearance, compartments=compartments, roles=role)
        after = _attributes(principal)
        changed = {key: {"from": before[key], "to": value} for key, value in after.items() if before[key] != value}
        if changed:  # as `workspace member`: a change that changes nothing is no change to log
            record_admin(session, node, "principal.change", [_subject(principal)], {"changed": changed})
    if not changed:
        console.print(f"user {username}: nothing changed")
        return
    for key, change in changed.items():
        console.print(f"user {username}: {key} {_shown(change['from'])} -> {_shown(change['to'])}")


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)


@user_app.command("disable")
@reports_errors
def user_disable(username: Username, data: DataDir = DEFAULT_DATA) -> None:
    """Refuse a principal from its next request on, and revoke every session and API token it holds."""
    node = open_node(data)
    with node.db.write() as session:
        principal = _named(session, username)
        revoked = set_disabled(session, principal, True)
        record_admin(session, node, "principal.disable", [_subject(principal)], {"tokens_revoked": revoked})
    console.print(f"user {username} disabled; {revoked} session(s) and token(s) revoked")


@user_app.command("enable")
@reports_errors
def user_enable(username: Username, data: DataDir = DEFAULT_DATA) -> None:
    """Let a disabled principal in again; it needs a new token or a new log-in."""
    node = open_node(data)
    with node.db.write() as session:
        principal = _named(session, username)
        set_disabled(session, principal, False)
        record_admin(session, node, "principal.enable", [_subject(principal)])
    console.print(f"user {username} enabled; issue a token with `tearline user token {username}` or log in")


@user_app.command("token")
@reports_errors
def user_token(username: Username, data: DataDir = DEFAULT_DATA) -> None:
    """Print a new API bearer token for the principal on stdout; its other tokens stay."""
    node = open_node(data)
    with node.db.write() as session:
        principal = _named(session, username)
        if principal.disabled:
            raise NotFound(f"user {username!r} is disabled; `tearline user enable {username}` first")
        token = issue_token(session, principal)
        record_admin(session, node, "principal.token", [_subject(principal)])
    print(token)


@user_app.command("revoke-tokens")
@reports_errors
def user_revoke_tokens(username: Username, data: DataDir = DEFAULT_DATA) -> None:
    """End every session and API token of the principal at once (it may log in again)."""
    node = open_node(data)
    with node.db.write() as session:
        principal = _named(session, username)
        revoked = revoke_tokens(session, principal)
        record_admin(session, node, "principal.revoke-tokens", [_subject(principal)], {"tokens_revoked": revoked})
    console.print(f"user {username}: {revoked} session(s) and token(s) revoked")


def _asked_password() -> str:
    """The password typed twice: hidden at a terminal, read line by line from a pipe (there is no
    echo to hide, and getpass would warn that it cannot). A Ctrl-C stops the command as any other."""
    first, again = _secret("Password: "), _secret("Repeat for confirmation: ")
    if first != again:
        raise InvalidInput(Problem("password", "the two entries differ; type the same password twice"))
    return first


def _secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    sys.stderr.write(prompt)
    line = sys.stdin.readline()
    if not line:
        ended = "the input ended before the password was given twice (once, then again to confirm)"
        raise InvalidInput(Problem("password", f"{ended}; type it at a terminal, or set TEARLINE_PASSWORD"))
    return line.rstrip("\r\n")


@user_app.command("password")
@reports_errors
def user_password(
    username: Username,
    data: DataDir = DEFAULT_DATA,
    password: Annotated[
        str,
        typer.Option(
            envvar="TEARLINE_PASSWORD",
            help="The new password (8 or more characters); asked for, twice, when left out.",
        ),
    ] = "",
) -> None:  # fmt: skip
    """Set a principal's console password; its sessions already open are ended."""
    node = open_node(data)
    principal_named(node, username)  # an unknown user is refused before a password is typed
    password = password or _asked_password()
    with node.db.write() as session:
        principal = _named(session, username)
        set_password(session, principal, password)
        ended = revoke_tokens(session, principal, kind="session")
        record_admin(session, node, "principal.password", [_subject(principal)], {"sessions_ended": ended})
    console.print(f"user {username}: password set; {ended} open session(s) ended")
