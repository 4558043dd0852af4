"""`tearline audit`: checkpoints, verifier keys, proofs, end-to-end verification and witnessing.

Outputs are the C2SP text formats, printed verbatim, so that they can be piped to any C2SP tool.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated

import typer

from tearline.audit import log
from tearline.audit.remote import client_for, request_cosignature, verify_remote
from tearline.audit.witness import trust_log, witness_verifier_key
from tearline.cli.bench_audit import audit as bench_audit_command
from tearline.cli.common import DEFAULT_DATA, DataDir, console, err_console, open_node, progress_bars, reports_errors
from tearline.errors import InvalidInput, Problem
from tearline.federation.peers import key_name_problems

# `tearline bench audit`, mounted on the bench app by tearline.cli.main.
__all__ = ["audit_app", "bench_audit_command"]

audit_app = typer.Typer(help="The node's transparency audit log (RFC 9162, C2SP).", no_args_is_help=True)


def _out(text: str) -> None:
    # Not through rich: a checkpoint or a proof must come out byte for byte.
    sys.stdout.write(text)
    sys.stdout.flush()


@audit_app.command()
@reports_errors
def checkpoint(data: DataDir = DEFAULT_DATA) -> None:
    """Print the latest signed checkpoint (signing one for the current size if needed)."""
    node = open_node(data)
    with node.db.write() as session:
        signed = log.latest_checkpoint(session, log.node_log_signer(node))
    _out(signed.note)


@audit_app.command()
@reports_errors
def vkey(
    data: DataDir = DEFAULT_DATA,
    witness: Annotated[bool, typer.Option("--witness", help="The key of this node's witness cosignatures.")] = False,
) -> None:
    """Print the node's verifier key in C2SP signed-note form."""
    node = open_node(data)
    _out((witness_verifier_key(node) if witness else log.verifier_key(node)) + "\n")


@audit_app.command()
@reports_errors
def prove(
    index: Annotated[int, typer.Argument(min=0, help="The entry's index.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Print a c2sp.org/tlog-proof@v1 for one entry; its `extra` line is the entry's canonical bytes."""
    node = open_node(data)
    with node.db.write() as session:
        proof = log.tlog_proof(session, log.node_log_signer(node), index)
    _out(proof.to_text())


@audit_app.command()
@reports_errors
def consistency(
    old_size: Annotated[int, typer.Argument(min=0, help="The size of the earlier checkpoint.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Print the consistency proof from OLD_SIZE to the latest checkpoint, one base64 hash a line."""
    node = open_node(data)
    with node.db.write() as session:
        signed = log.latest_checkpoint(session, log.node_log_signer(node))
    with node.db.read() as session:
        hashes = log.prove_consistency(session, old_size, signed.checkpoint.size)
    _out("".join(base64.b64encode(h).decode() + "\n" for h in hashes))


@audit_app.command()
@reports_errors
def verify(
    data: Annotated[
        Path | None, typer.Option("--data", envvar="TEARLINE_DATA", help="Check this node's own database.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Check a node over its API instead (needs an auditor token).")] = None,
    vkey: Annotated[str | None, typer.Option(help="The verifier key to trust (default: the node's own).")] = None,
    token: Annotated[str | None, typer.Option(envvar="TEARLINE_TOKEN", help="Bearer token (with --url).")] = None,
    previous: Annotated[
        Path | None, typer.Option(help="A checkpoint kept earlier: the latest must be consistent with it (--url).")
    ] = None,
) -> None:
    """Recompute the log from its entries and check it against its signed checkpoints."""
    if (data is None) == (url is None):
        raise InvalidInput(Problem("--data/--url", "give exactly one of them"))
    if url is not None:
        with client_for(url, token) as client:
            remote = verify_remote(client, vkey, previous.read_text(encoding="utf-8") if previous else None)
        if remote.key_from_node:
            err_console.print("[yellow]no --vkey given: trusted the key the node served[/yellow]")
        console.print(remote.report.summary(), soft_wrap=True)
        return
    assert data is not None
    node = open_node(data)
    with node.db.read() as session, progress_bars("verify") as advance:
        report = log.verify_log(session, vkey or log.verifier_key(node), progress=advance)
    console.print(report.summary(), soft_wrap=True)


@audit_app.command("trust-log")
@reports_errors
def trust(
    partner_vkey: Annotated[str, typer.Argument(help="The verifier key of the partner log to witness.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Witness a partner's log: cosign its checkpoints at /api/audit/witness/add-checkpoint."""
    problems = key_name_problems(partner_vkey)
    if problems:
        raise InvalidInput(problems)
    node = open_node(data)
    with node.db.write() as session:
        origin = trust_log(session, partner_vkey)
    console.print(f"witnessing {origin}; partners verify our cosignatures with {witness_verifier_key(node)}")


@audit_app.command()
@reports_errors
def cosign(
    witness_url: Annotated[str, typer.Argument(help="The partner node's URL (its witness is under /api/audit).")],
    witness_vkey: Annotated[str, typer.Option(help="The partner witness's verifier key (type 0x04).")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Have a partner's witness cosign the latest checkpoint; the cosignature is kept and served with it."""
    node = open_node(data)
    with client_for(witness_url, None) as client:
        size = request_cosignature(node, client, witness_vkey)
    console.print(f"checkpoint of size {size} cosigned by {witness_vkey.split('+', 1)[0]}")
