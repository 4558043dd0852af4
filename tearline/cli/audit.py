"""`tearline audit`: checkpoints, verifier keys, proofs, end-to-end verification and witnessing.

Outputs are the C2SP text formats, printed verbatim, so that they can be piped to any C2SP tool.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from tearline import journal
from tearline.audit import log
from tearline.audit.errors import NoteError
from tearline.audit.event import format_time
from tearline.audit.keys import parse_verifier_key
from tearline.audit.remote import NotAppendOnly, client_for, request_cosignature, verify_remote
from tearline.audit.search import AUDIT_MAX, AUDITOR_RULE, MAX_LIMIT, EntrySight, search
from tearline.audit.search import Query as SearchQuery
from tearline.audit.witness import trust_log_key, witness_verifier_key
from tearline.cli.bench_audit import audit as bench_audit_command
from tearline.cli.common import (
    DEFAULT_DATA,
    DataDir,
    console,
    err_console,
    open_node,
    os_account,
    principal_named,
    progress_bars,
    record_admin,
    reports_errors,
)
from tearline.errors import InvalidInput, Problem, TearlineError
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
    index: Annotated[int, typer.Argument(min=0, max=AUDIT_MAX, help="The entry's index.")],
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
    old_size: Annotated[int, typer.Argument(min=0, max=AUDIT_MAX, help="The size of the earlier checkpoint.")],
    new: Annotated[
        int | None,
        typer.Option("--new", min=0, max=AUDIT_MAX, help="The size to prove to (default: the latest checkpoint)."),
    ] = None,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Print the consistency proof from OLD_SIZE to the latest checkpoint (or --new), one base64 hash a line.

    Which sizes (and roots) it goes from and to is said on stderr, so that it can be matched to checkpoints.
    """
    node = open_node(data)
    if new is None:
        with node.db.write() as session:
            signed = log.latest_checkpoint(session, log.node_log_signer(node))
        new = signed.checkpoint.size
    with node.db.read() as session:
        hashes = log.prove_consistency(session, old_size, new)
        old_root, new_root = log.root_at(session, old_size), log.root_at(session, new)
    err_console.print(
        f"consistency proof from size {old_size} (root {_b64(old_root)}) to size {new} (root {_b64(new_root)})",
        soft_wrap=True,
        highlight=False,
    )
    _out("".join(_b64(h) + "\n" for h in hashes))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


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
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A checkpoint kept earlier: the latest must be consistent with it (--url).",
        ),
    ] = None,
) -> None:
    """Recompute the log from its entries and check it against its signed checkpoints."""
    if (data is None) == (url is None):
        raise InvalidInput(Problem("--data/--url", "give exactly one of them"))
    if vkey is not None:
        _verifier_key(vkey, "--vkey")
    if url is not None:
        earlier = previous.read_text(encoding="utf-8", errors="replace") if previous else None
        try:
            with client_for(url, token) as client:
                remote = verify_remote(client, vkey, earlier, str(previous or ""))
        except NotAppendOnly as err:
            err_console.print(f"[red]error:[/red] {err.message}", soft_wrap=True, highlight=False)
            err_console.print("the latest checkpoint, as the node signed it:", highlight=False)
            sys.stderr.write(err.latest_note)
            raise typer.Exit(2) from None
        if remote.key_from_node:
            err_console.print("[yellow]no --vkey given: trusted the key the node served[/yellow]")
        console.print(remote.report.summary(), soft_wrap=True)
        return
    assert data is not None
    node = open_node(data)
    with node.db.read() as session, progress_bars("verify") as advance:
        report = log.verify_log(session, vkey or log.verifier_key(node), progress=advance)
    console.print(report.summary(), soft_wrap=True)


def _verifier_key(value: str, field: str) -> None:
    """Refuse `value`, naming `field`, unless it is a C2SP verifier key (name+keyid+key)."""
    try:
        parse_verifier_key(value)
    except NoteError as err:
        hint = "a node prints its own with `tearline audit vkey`; ask a partner for theirs"
        raise InvalidInput(Problem(field, f"is not a verifier key ({err.message}); {hint}")) from err


@audit_app.command("trust-log")
@reports_errors
def trust(
    partner_vkey: Annotated[str, typer.Argument(help="The verifier key of the partner log to witness.")],
    data: DataDir = DEFAULT_DATA,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the key of a log already witnessed (after a key rotation).")
    ] = False,
) -> None:
    """Witness a partner's log: cosign its checkpoints at /api/audit/witness/add-checkpoint.

    Every change is in the audit log (`audit.witness.trust`, the log's origin as object).
    """
    _verifier_key(partner_vkey, "vkey")
    problems = key_name_problems(partner_vkey)
    if problems:
        raise InvalidInput(problems)
    node = open_node(data)
    with node.db.write() as session:
        trusted = trust_log_key(session, partner_vkey, replace)
        if trusted.changed:
            detail: dict[str, object] = {"vkey": partner_vkey, "previous_vkey": trusted.previous_vkey}
            record_admin(session, node, "audit.witness.trust", [trusted.origin], detail)
    if not trusted.changed:
        console.print(f"already witnessing {trusted.origin} with this key; nothing changed")
    elif trusted.previous_vkey is not None:
        console.print(f"witnessing {trusted.origin} with its new key (replaced {trusted.previous_vkey})")
    else:
        console.print(
            f"witnessing {trusted.origin}; partners verify our cosignatures with {witness_verifier_key(node)}"
        )


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


def _moment(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            Problem(field, f"{value!r} is not an RFC 3339 time or a date (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)")
        ) from None


@audit_app.command("search")
@reports_errors
def search_log(
    user: Annotated[str, typer.Option(help="The auditor searching (needs the auditor role); the search is logged.")],
    data: DataDir = DEFAULT_DATA,
    object_id: Annotated[str | None, typer.Option("--object", help="Who saw (or was refused) this object.")] = None,
    actor: Annotated[str | None, typer.Option(help="What this actor (user@agency) saw.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (e.g. report.read).")] = None,
    outcome: Annotated[str | None, typer.Option(help="Only allowed or only denied.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (RFC 3339 or a date; no zone: UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (RFC 3339 or a date; no zone: UTC).")] = None,
    after: Annotated[int, typer.Option(min=-1, max=AUDIT_MAX, help="Entries after this index (paging).")] = -1,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="At most this many entries.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line instead of a table.")] = False,
) -> None:
    """Search the audit log, as /api/audit/search does: give --object or --actor; the rest narrow."""
    moments = _moment(since, "--since"), _moment(until, "--until")
    try:
        query = SearchQuery(object_id, actor, action, outcome, *moments, after, limit)
        query.check()
    except InvalidInput as err:
        flags = {"object_id": "--object", "query": "--object/--actor", "since": "--since", "until": "--until"}
        renamed = [dataclasses.replace(p, field=flags.get(p.field, f"--{p.field}")) for p in err.problems]
        raise InvalidInput(renamed) from None
    node = open_node(data)
    principal = principal_named(node, user)
    allowed = "auditor" in principal.roles and not principal.disabled
    detail = {k: v for k, v in {"object": object_id, "actor": actor, "action": action}.items() if v}
    with node.db.write() as session:
        outcome_logged = "allowed" if allowed else "denied"
        journal.record(
            session,
            node,
            principal,
            "audit.search",
            [],
            rule=AUDITOR_RULE,
            outcome=outcome_logged,
            detail={**detail, "os_account": os_account()},
        )
    if not allowed:
        why = "is disabled" if principal.disabled else "does not hold the auditor role"
        raise TearlineError(f"{user} {why}: searching the audit log needs an auditor (the refusal is logged)")
    # The role grants the search, not what it shows (DESIGN §3.3): the same sight as the API's.
    reader = node.reader(principal)
    with node.db.read() as session:
        page = search(session, query, EntrySight(session, reader))
    if as_json:
        for hit in page.hits:
            _out(json.dumps({"index": hit.index, **hit.event.as_json()}, ensure_ascii=False) + "\n")
    else:
        # Folded, never cut short with an ellipsis: an auditor must read every actor and object whole.
        table = Table(*(Column(name, overflow="fold") for name in ("index", "time", "actor", "action", "outcome",
                                                                   "objects")))
        for hit in page.hits:
            event = hit.event
            table.add_row(
                str(hit.index),
                format_time(event.time),
                event.actor,
                event.action,
                event.outcome,
                ", ".join(event.objects),
            )
        if page.hits:
            console.print(table)
        else:
            err_console.print("no entries match")
    if page.next_after is not None:
        err_console.print(f"more entries may match: run again with --after {page.next_after}", highlight=False)
