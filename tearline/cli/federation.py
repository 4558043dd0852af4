"""`tearline peer …` and `tearline deliver`: partner nodes, registered by hand, and delivery."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tearline.cli.common import DEFAULT_DATA, DataDir, console, open_node, reports_errors
from tearline.federation import courier
from tearline.federation.peers import add_peer, all_peers, peer_token, revoke_peer_tokens, update_peer
from tearline.store.federation import undelivered

peer_app = typer.Typer(help="Partner nodes: trust is explicit, there is no discovery.", no_args_is_help=True)


@peer_app.command("add")
@reports_errors
def peer_add(
    nation: Annotated[str, typer.Option(help="The partner node's nation: USA, MEX or CAN.")],
    agency: Annotated[str, typer.Option(help="The agency that runs the partner node.")],
    url: Annotated[str, typer.Option(help="The partner node's base URL, e.g. https://fia.example.mx")],
    vkey: Annotated[str, typer.Option(help="The partner's verifier key (`tearline audit vkey` on that node).")],
    data: DataDir = DEFAULT_DATA,
    law_enforcement: Annotated[bool, typer.Option(help="Is the partner agency law enforcement (LES)?")] = True,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Print the bearer token the partner's TAXII clients use here.")
    ] = False,
) -> None:
    """Register a partner node; its requests must be signed with the key behind --vkey."""
    node = open_node(data)
    with node.db.write() as session:
        _, token = add_peer(session, node, nation.upper(), agency, url, vkey, law_enforcement)
    if print_token:
        print(token)
    else:
        console.print(f"peer {nation.upper()} ({agency}) at {url} registered")
        console.print("its TAXII clients need a token: run `tearline peer token` for one")


@peer_app.command("token")
@reports_errors
def peer_token_command(
    nation: Annotated[str, typer.Argument(help="The partner's nation.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Print a new bearer token for a registered partner (for a standard TAXII 2.1 client)."""
    node = open_node(data)
    with node.db.write() as session:
        print(peer_token(session, node, nation.upper()))


@peer_app.command("set")
@reports_errors
def peer_set(
    nation: Annotated[str, typer.Argument(help="The partner's nation.")],
    url: Annotated[str | None, typer.Option(help="The partner node's new base URL.")] = None,
    vkey: Annotated[str | None, typer.Option(help="The partner's new verifier key (it rotated its key).")] = None,
    replace_key: Annotated[
        bool, typer.Option("--replace-key", help="Trust --vkey instead of the partner's current key.")
    ] = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Move a registered partner to a new URL, or rotate its key; logged with the old and new values."""
    if url is None and vkey is None:
        raise typer.BadParameter("give --url or --vkey (with --replace-key)", param_hint="--url/--vkey")
    node = open_node(data)
    with node.db.write() as session:
        changes = update_peer(session, node, nation.upper(), url, vkey, replace_key)
    for field, (before, after) in changes.items():
        console.print(f"peer {nation.upper()}: {field} {before} -> {after}")
    if not changes:
        console.print(f"peer {nation.upper()}: nothing changed")


@peer_app.command("revoke-tokens")
@reports_errors
def peer_revoke_tokens(
    nation: Annotated[str, typer.Argument(help="The partner's nation.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """End every bearer token the partner's TAXII clients hold here (`tearline peer token` issues a new one)."""
    node = open_node(data)
    with node.db.write() as session:
        revoked = revoke_peer_tokens(session, node, nation.upper())
    console.print(f"peer {nation.upper()}: {revoked} token(s) revoked")


@peer_app.command("list")
@reports_errors
def peer_list(data: DataDir = DEFAULT_DATA) -> None:
    """The registered partners and what waits in the outbox for each."""
    node = open_node(data)
    table = Table("nation", "agency", "url", "waiting", "last error")
    with node.db.read() as session:
        for peer in all_peers(session):
            waiting = undelivered(session, peer.nation)
            error = next((m.last_error for m in waiting if m.last_error), "") or ""
            table.add_row(peer.nation, peer.agency, peer.url, str(len(waiting)), error[:60])
    console.print(table)


@reports_errors
def deliver(
    data: DataDir = DEFAULT_DATA,
    pull: Annotated[bool, typer.Option(help="Also pull from every partner (the fallback).")] = True,
) -> None:
    """Push what the outbox holds to partners now (and pull from them); `tearline serve` does this itself."""
    node = open_node(data)
    pushed = courier.push_pending(node)
    console.print(f"pushed {pushed.pushed}, refused by partners {pushed.refused}, failed {pushed.failed}")
    if pull:
        pulled = courier.pull_all(node)
        console.print(f"pulled {pulled.pulled} units")
        pushed.errors += pulled.errors
    for error in pushed.errors:
        console.print(f"[yellow]{error}[/yellow] (delivery retries with back-off)")
