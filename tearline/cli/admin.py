"""The registry: agencies, compartments and workspaces (principals are in `tearline.cli.users`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tearline.cli.common import (
    DEFAULT_DATA,
    DataDir,
    console,
    open_node,
    principal_named,
    record_admin,
    reports_errors,
)
from tearline.db.models import AgencyRow, CompartmentRow, Principal
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
    console.print(f"agency {name} ({nation.upper()}) registered: {flag}")


@compartment_app.command("add")
@reports_errors
def compartment_add(
    name: Annotated[str, typer.Argument(help="Compartment name.")],
    owner: Annotated[list[str], typer.Option(help="An owning agency; repeat for more.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Register a compartment and its owning agencies (again: its owners become those given)."""
    node = open_node(data)
    with node.db.write() as session:
        row = session.get(CompartmentRow, name)
        before = list(row.owners) if row is not None else None
        reg.add_compartment(session, name, owner)
        detail: dict[str, object] = {"owners": sorted(owner), "owners_before": before}
        record_admin(session, node, "compartment.register", [f"compartment:{name}"], detail)
    console.print(f"compartment {name} owned by {', '.join(owner)}")


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
    console.print(f"workspace {slug} hosted by {host_nation.upper()}")


@workspace_app.command("member")
@reports_errors
def workspace_member(
    slug: Annotated[str, typer.Argument(help="Workspace.")],
    username: Annotated[str, typer.Argument(help="Principal to add or remove.")],
    data: DataDir = DEFAULT_DATA,
    remove: Annotated[bool, typer.Option("--remove", help="Remove instead of add.")] = False,
) -> None:
    """Add or remove a member; the host's membership record is authoritative."""
    node = open_node(data)
    principal = principal_named(node, username)
    with node.db.write() as session:
        ws = host.workspace_by_slug(session, slug)
        member = session.get(Principal, principal.id)
        assert member is not None
        (host.remove_member if remove else host.add_member)(session, ws, member)
        action = "workspace.member.remove" if remove else "workspace.member.add"
        record_admin(session, node, action, [slug, f"principal:{member.username}@{member.agency}"])
    console.print(f"{username} {'removed from' if remove else 'added to'} {slug}")


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
    console.print(f"{slug}: host rules version {version} in force")
