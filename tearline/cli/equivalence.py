"""`tearline equivalence show|sign|submit`: the equivalence table, versions signed by partners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tearline import journal
from tearline.cli.common import DEFAULT_DATA, DataDir, console, open_node, principal_named, reports_errors
from tearline.db.models import Principal
from tearline.errors import Forbidden, InvalidInput, Problem
from tearline.federation.equivalence import (
    Succession,
    node_origin,
    sign_table,
    submit_table,
    succession_for,
    table_from_json,
    version_signers,
)
from tearline.markings.scheme import EquivalenceTable

equivalence_app = typer.Typer(
    help="The equivalence table: versions agreed with partners, each change to a partner's column signed by it.",
    no_args_is_help=True,
)

TableFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help='JSON table: {"agreements": [...]} as `show` prints it.')
]


def _read_table(file: Path) -> EquivalenceTable:
    try:
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(Problem("file", f"{file} is not a JSON table: {err}")) from None
    if not isinstance(data, dict):
        raise InvalidInput(Problem("file", f'{file} must hold a JSON object with "agreements"'))
    return table_from_json(data)


def _signature_lines(files: list[Path]) -> list[str]:
    """Signature lines from each file (what `sign` printed); blank lines are skipped."""
    lines = []
    for file in files:
        lines += [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def _succession_asked(for_node: str | None, replaces: int | None) -> Succession:
    """The version the signer says it replaces; both options are required, and their absence says where to look."""
    if for_node is None or replaces is None:
        # A signature that named no version replaced could be replayed later, so the signer must say which.
        missing = [name for name, value in (("--for", for_node), ("--replaces", replaces)) if value is None]
        reason = (
            "a signature is for one version of one node's table; ask the submitting node's admin for the "
            "`origin` and `version` its `tearline equivalence show` prints, and sign with "
            "--for ORIGIN --replaces VERSION"
        )
        raise InvalidInput(Problem(" ".join(missing), reason), f"missing {' and '.join(missing)}")
    return succession_for(for_node, replaces)


@equivalence_app.command("show")
@reports_errors
def show(data: DataDir = DEFAULT_DATA) -> None:
    """Print the current version as JSON, with the partners that signed it and this node's origin
    (partners sign the next version with `--for ORIGIN --replaces VERSION`)."""
    node = open_node(data)
    with node.db.read() as session:
        table = node.table(session)
        _, signatures = version_signers(session)
    shown = {**table.as_dict(), "signed_by": sorted(signatures), "origin": node_origin(node)}
    print(json.dumps(shown, indent=1, ensure_ascii=False))


@equivalence_app.command("sign")
@reports_errors
def sign(
    file: TableFile,
    data: DataDir = DEFAULT_DATA,
    out: Annotated[Path | None, typer.Option(help="Write the signature line here instead of printing it.")] = None,
    for_node: Annotated[
        str | None,
        typer.Option("--for", help="The submitting node's origin, as its `equivalence show` prints it."),
    ] = None,
    replaces: Annotated[
        int | None,
        typer.Option(help="The version in force on the submitting node, as its `equivalence show` prints it."),
    ] = None,
) -> None:
    """Sign a table as the successor of one version on the submitting node; prints one signature line for it."""
    successor_of = _succession_asked(for_node, replaces)
    node = open_node(data)
    table = _read_table(file)
    line = sign_table(node, table, successor_of)
    if out is None:
        print(line, end="")
    else:
        out.write_text(line, encoding="utf-8")
        console.print(f"signature of {node.config.nation} for {for_node}, replacing v{replaces}, written to {out}")


@equivalence_app.command("submit")
@reports_errors
def submit(
    file: TableFile,
    data: DataDir = DEFAULT_DATA,
    signature: Annotated[
        list[Path] | None,
        typer.Option(exists=True, dir_okay=False, help="A partner's signature file (from `sign`); repeat for more."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="An admin of this node, recorded as the author.")] = None,
) -> None:
    """Make the table the node's new version; a change to a partner's column needs that partner's signature."""
    node = open_node(data)
    actor: Principal | str = journal.NODE_ADMIN
    if user is not None:
        actor = principal_named(node, user)
        if "admin" not in actor.roles or actor.nation != node.config.nation:
            raise Forbidden("only an admin of this node may change the equivalence table", rule="admin-role")
    version, signed = submit_table(node, _read_table(file), _signature_lines(signature or []), actor)
    signers = f", signed by {', '.join(signed)}" if signed else ""
    console.print(f"equivalence table version {version} in force{signers}")
