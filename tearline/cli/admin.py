"""The registry: agencies, compartments and workspaces (principals are in `tearline.cli.users`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

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
from tearline.db.models import AgencyRow, CompartmentRow, Principal, Workspace, WorkspaceMember
from tearline.policy import host
from tearline.store import registry as reg

agency_app = typer.Typer(help="Agencies known to this node (ours and partners').", no_args_is_help=True)
compartment_app = typer.Typer(help="Compartments, such as a binational vetted unit.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (fusion centres) and their host rules.", no_args_is_help=True)


@agency_app.command("add")
@reports_errors
def agency_add(
    name: Annotated[str, typer.Argument(help="Agency name.")],
    nation: Annotated[str, typer.Option(help="The agency's nation.")],
    law_enforcement: Annotated[
        bool | None,
        typer.Option(
            "--law-enforcement/--not-law-enforcement",
            help="Is it a law-enforcement agency (LES)? Left out: a new agency is not; "
            "one already registered keeps its flag.",
        ),
    ] = None,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Register an agency, ours or a partner's (again: to change its law-enforcement flag)."""
    node = open_node(data)
    with node.db.write() as session:
        reg.add_agency(session, name, nation.upper(), law_enforcement)
        row = session.get(AgencyRow, name)
        les = row is not None and row.law_enforcement
        detail: dict[str, object] = {"nation": nation.upper(), "law_enforcement": les}
        record_admin(session, node, "agency.register", [f"agency:{name}"], detail)
        flag = "law enforcement (LES)" if les else "not law enforcement"
    console.print(escape(f"agency {name} ({nation.upper()}) registered: {flag}"))


@compartment_app.command("add")
@reports_errors
def compartment_add(
    name: Annotated[str, typer.Argument(help="Compartment name.")],
    owner: Annotated[list[str], typer.Option(help="An owning agency; repeat for more.")],
    data: DataDir = DEFAULT_DATA,
    replace: Annotated[
        bool, typer.Option("--replace", help="Make these the owners of a compartment registered with others.")
    ] = False,
) -> None:
    """Register a compartment and its owning agencies (other owners for one registered: --replace)."""
    node = open_node(data)
    owners = sorted(set(owner))
    with node.db.write() as session:
        before = reg.add_compartment(session, name, owner, replace=replace)
        if before != owners:
            detail: dict[str, object] = {"owners": owners, "owners_before": before}
            record_admin(session, node, "compartment.register", [f"compartment:{name}"], detail)
    if before == owners:
        console.print(escape(f"compartment {name} is already owned by {', '.join(owners)}; nothing changed"))
    elif before is None:
        console.print(escape(f"compartment {name} owned by {', '.join(owners)}"))
    else:
        console.print(escape(f"compartment {name} owned by {', '.join(owners)} (was {', '.join(before)})"))


@workspace_app.command("add")
@reports_errors
def workspace_add(
    slug: Annotated[str, typer.Argument(help="Short name, e.g. fc-norte.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    host_nation: Annotated[str, typer.Option(help="The nation that hosts it and sets its rules.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Create a workspace (fusion centre)."""
    node = open_node(data)
    with node.db.write() as session:
        host.add_workspace(session, slug, name, host_nation.upper())
        record_admin(session, node, "workspace.add", [slug], {"name": name, "host_nation": host_nation.upper()})
    console.print(escape(f"workspace {slug} hosted by {host_nation.upper()}"))


@workspace_app.command("member")
@reports_errors
def workspace_member(
    slug: Annotated[str, typer.Argument(help="Workspace.")],
    username: Annotated[str, typer.Argument(help="Principal to add or remove.")],
    data: DataDir = DEFAULT_DATA,
    remove: Annotated[bool, typer.Option("--remove", help="Remove instead of add.")] = False,
) -> None:
    """Add or remove a member; the host's membership record is authoritative.

    Adding a member again, or removing a principal that is not one, changes nothing, logs nothing
    and says so (exit status 0).
    """
    node = open_node(data)
    principal = principal_named(node, username)
    with node.db.write() as session:
        ws = host.workspace_by_slug(session, slug)
        member = session.get(Principal, principal.id)
        assert member is not None
        if remove:
            changed = host.remove_member(session, ws, member)
        else:
            changed = session.get(WorkspaceMember, (ws.id, member.id)) is None
            host.add_member(session, ws, member)
        if changed:
            action = "workspace.member.remove" if remove else "workspace.member.add"
            record_admin(session, node, action, [slug, f"principal:{member.username}@{member.agency}"])
    if changed:
        console.print(escape(f"{username} {'removed from' if remove else 'added to'} {slug}"))
    elif remove:
        console.print(escape(f"{username} was not a member of {slug}; nothing changed"))
    else:
        console.print(escape(f"{username} is already a member of {slug}; nothing changed"))


@workspace_app.command("policy")
@reports_errors
def workspace_policy(
    slug: Annotated[str, typer.Argument(help="Workspace.")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Cedar file of forbid rules, each with @id(...).")
    ],
    user: Annotated[str, typer.Option(help="An admin of the host nation, recorded as the author.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Set a new version of the host rules; it applies at once, to existing sessions too."""
    node = open_node(data)
    principal = principal_named(node, user)
    with node.db.write() as session:
        ws = host.workspace_by_slug(session, slug)
        actor = session.get(Principal, principal.id)
        assert actor is not None
        row = host.set_host_rules(session, ws, file.read_text(encoding="utf-8"), actor)
        version = row.version
        record_admin(session, node, "workspace.policy.change", [slug], {"version": version}, actor=actor)
    console.print(escape(f"{slug}: host rules version {version} in force"))


@agency_app.command("list")
@reports_errors
def agency_list(
    data: DataDir = DEFAULT_DATA,
    as_json: AsJson = False,
) -> None:
    """The agencies registered: nation, whether law enforcement (LES), and which is this node's."""
    node = open_node(data)
    with node.db.read() as session:
        rows = [
            {
                "name": a.name,
                "nation": a.nation,
                "law_enforcement": a.law_enforcement,
                "this_node": a.name == node.config.agency,
            }
            for a in session.scalars(select(AgencyRow).order_by(AgencyRow.nation, AgencyRow.name))
        ]
    if as_json:
        print_json_lines(rows)
        return
    table = Table("agency", "nation", "law enforcement", "")
    for row in rows:
        table.add_row(
            escape(str(row["name"])), str(row["nation"]), "LES" if row["law_enforcement"] else "-",
            "this node" if row["this_node"] else "",
        )  # fmt: skip
    console.print(table)


@compartment_app.command("list")
@reports_errors
def compartment_list(
    data: DataDir = DEFAULT_DATA,
    as_json: AsJson = False,
) -> None:
    """The compartments registered and their owning agencies."""
    node = open_node(data)
    with node.db.read() as session:
        rows: list[dict[str, object]] = [
            {"name": c.name, "owners": sorted(c.owners)}
            for c in session.scalars(select(CompartmentRow).order_by(CompartmentRow.name))
        ]
    if as_json:
        print_json_lines(rows)
        return
    table = Table("compartment", "owners")
    for row in rows:
        owners = row["owners"]
        assert isinstance(owners, list)
        table.add_row(escape(str(row["name"])), escape(", ".join(owners)))
    console.print(table)


@workspace_app.command("list")
@reports_errors
def workspace_list(
    data: DataDir = DEFAULT_DATA,
    as_json: AsJson = False,
) -> None:
    """The workspaces: display name, host nation, members and the version of the host rules in force."""
    node = open_node(data)
    with node.db.read() as session:
        rows: list[dict[str, object]] = []
        for ws in session.scalars(select(Workspace).order_by(Workspace.slug)):
            names = session.scalars(
                select(Principal.username).join(WorkspaceMember).where(WorkspaceMember.workspace_id == ws.id)
            )
            policy = host.current_policy(session, ws.id)
            rows.append(
                {
                    "slug": ws.slug,
                    "name": ws.name,
                    "host_nation": ws.host_nation,
                    "members": sorted(names),
                    "host_rules_version": policy.version if policy else 0,
                }
            )
    if as_json:
        print_json_lines(rows)
        return
    table = Table("workspace", "name", "host", "members", "host rules")
    for row in rows:
        members = row["members"]
        assert isinstance(members, list)
        version = row["host_rules_version"]
        table.add_row(
            escape(str(row["slug"])), escape(str(row["name"])), str(row["host_nation"]),
            escape(", ".join(members)) or "-", f"version {version}" if version else "none",
        )  # fmt: skip
    console.print(table)

