"""Adding what already exists: a refusal naming it (exit 2), never a traceback, and nothing changed.

`tearline workspace add` with a slug already taken reached the insert, and the unique index's
IntegrityError came out as a traceback on every database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tearline.audit.keys import generate_key
from tearline.cli.main import app
from tearline.db.audit_tables import AuditWitnessedLog
from tearline.db.federation_tables import Peer
from tearline.db.models import AgencyRow, CompartmentRow, Principal, Workspace
from tearline.node import Node

RUNNER = CliRunner()


def _run(node: Node, *args: str) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)])


def _rows(node: Node, model: Any) -> list[tuple[Any, ...]]:
    """Every row of the table, every column, in a stable order: to see that nothing changed."""
    with node.db.read() as session:
        table = model.__table__
        return [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]


def _ok(result: Result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)


def _refused(result: Result, *named: str) -> None:
    """Exit 2 (a refusal, not a traceback), with each of `named` in the message."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output, result.output
    for text in named:
        assert text in result.output, result.output


def test_workspace_add_with_a_slug_that_exists_is_refused_naming_the_slug(node: Node) -> None:
    _ok(_run(node, "workspace", "add", "fc-norte", "--name", "Fusion centre north", "--host-nation", "USA"))
    before = _rows(node, Workspace)

    result = _run(node, "workspace", "add", "fc-norte", "--name", "Another centre", "--host-nation", "MEX")

    _refused(result, "slug", "'fc-norte'", "exists")
    assert _rows(node, Workspace) == before


def test_user_add_with_a_username_that_exists_is_refused_naming_it(node: Node) -> None:
    user = ["--nation", "USA", "--agency", node.config.agency, "--clearance", "SECRET"]
    _ok(_run(node, "user", "add", "ana.analyst", *user))
    before = _rows(node, Principal)

    _refused(_run(node, "user", "add", "ana.analyst", *user, "--role", "admin"), "username", "'ana.analyst'")

    assert _rows(node, Principal) == before


def test_peer_add_for_a_nation_already_registered_is_refused_naming_it(node: Node) -> None:
    _, vkey = generate_key("mex.example/log")
    _, other = generate_key("mex.example/other-log")
    peer = ["peer", "add", "--nation", "MEX", "--agency", "MX-DEMO-FIA", "--url", "http://127.0.0.1:9"]
    _ok(_run(node, *peer, "--vkey", vkey))
    tables = (Peer, AgencyRow, Principal, AuditWitnessedLog)
    before = [_rows(node, model) for model in tables]

    _refused(_run(node, *peer, "--vkey", other), "MEX", "already registered")

    assert [_rows(node, model) for model in tables] == before


def test_agency_add_again_registers_it_again_and_under_another_nation_is_refused(node: Node) -> None:
    """`agency add` and `compartment add` register (or register again): never a traceback."""
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    before = _rows(node, AgencyRow)

    _refused(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "CAN"), "agency", "'MX-DEMO-UIS'", "MEX")

    assert _rows(node, AgencyRow) == before


def test_compartment_add_again_sets_its_owners(node: Node) -> None:
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    _ok(_run(node, "compartment", "add", "VU-HALCON", "--owner", node.config.agency))
    owners = ["--owner", node.config.agency, "--owner", "MX-DEMO-UIS"]
    refused = _run(node, "compartment", "add", "VU-HALCON", *owners)  # owners decide who may receive its items
    _refused(refused, "give --replace")
    _ok(_run(node, "compartment", "add", "VU-HALCON", *owners, "--replace"))

    with node.db.read() as session:
        assert session.scalar(select(func.count()).select_from(CompartmentRow)) == 1
        row = session.get(CompartmentRow, "VU-HALCON")
        assert row is not None and row.owners == sorted([node.config.agency, "MX-DEMO-UIS"])


def test_agency_add_again_keeps_its_law_enforcement_flag_unless_told(node: Node) -> None:
    # The flag decides who may see LES items: re-running a set-up script must not clear it.
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    again = _run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX")
    _ok(again)
    assert "law enforcement (LES)" in again.output and _law_enforcement(node, "MX-DEMO-UIS") is True
    cleared = _run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--not-law-enforcement")
    _ok(cleared)
    assert "not law enforcement" in cleared.output and _law_enforcement(node, "MX-DEMO-UIS") is False
    _ok(_run(node, "agency", "add", "CA-DEMO-RCMP", "--nation", "CAN"))
    assert _law_enforcement(node, "CA-DEMO-RCMP") is False  # a new agency is not, unless told


def _law_enforcement(node: Node, name: str) -> bool:
    with node.db.read() as session:
        row = session.get(AgencyRow, name)
        assert row is not None
        return row.law_enforcement
