"""Over-long strings through the commands: exit 2 naming the field and its limit, on every database,
and nothing stored. (PostgreSQL refuses a string longer than its `String(N)` column with a DataError,
a traceback; SQLite stored it whole.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tearline.audit.keys import generate_key
from tearline.cli.main import app
from tearline.db.audit_tables import AuditWitnessedLog
from tearline.db.federation_tables import Peer
from tearline.db.models import AgencyRow, CompartmentRow, EquivalenceVersion, Principal, Workspace
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.conftest import Templates, _pg_admin, _pg_url

RUNNER = CliRunner()
LONG = "x" * 300


def _run(node: Node, *args: str) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)])


def _count(node: Node, model: Any) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _refused(result: Result, field: str, limit: int | None) -> None:
    """Exit 2 (a refusal, not a traceback), the field named, and the limit when it is one of length."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"{field}: " in result.output, result.output
    if limit is not None:
        assert f"at most {limit} characters" in result.output, result.output


# (command, the table it would write, the field named, the column's limit)
CASES: list[tuple[list[str], Any, str, int | None]] = [
    (["user", "add", LONG, "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET"], Principal,
     "username", 64),
    (["agency", "add", LONG, "--nation", "USA"], AgencyRow, "agency", 64),
    (["compartment", "add", LONG, "--owner", "US-DEMO-NARC"], CompartmentRow, "compartment", 64),
    (["workspace", "add", LONG, "--name", "Fusion centre", "--host-nation", "USA"], Workspace, "slug", 64),
    (["workspace", "add", "fc-long", "--name", LONG, "--host-nation", "USA"], Workspace, "name", 128),
    (["workspace", "add", "fc-nation", "--name", "Fusion centre", "--host-nation", "USAX"], Workspace,
     "host_nation", None),
]  # fmt: skip


@pytest.mark.parametrize(("args", "model", "field", "limit"), CASES, ids=[f"{c[0][0]}-{c[2]}" for c in CASES])
def test_an_over_long_name_is_refused_naming_the_field_and_nothing_is_stored(
    node: Node, args: list[str], model: Any, field: str, limit: int | None
) -> None:
    before = _count(node, model)
    _refused(_run(node, *args), field, limit)
    assert _count(node, model) == before


def test_peer_add_and_trust_log_refuse_an_over_long_agency_or_key_name_and_register_nothing(node: Node) -> None:
    """A verifier key's name is the origin of the partner log this node witnesses (`audit_witnessed_log`)."""
    _, vkey = generate_key("mex.example/log")
    _, long_vkey = generate_key("mex.example/" + LONG)
    base = ["peer", "add", "--nation", "MEX", "--url", "http://127.0.0.1:9"]
    counts = [_count(node, m) for m in (Peer, AgencyRow, Principal, AuditWitnessedLog)]

    _refused(_run(node, *base, "--agency", LONG, "--vkey", vkey), "agency", 64)
    _refused(_run(node, *base, "--agency", "MX-DEMO-FIA", "--vkey", long_vkey), "vkey", 255)
    _refused(_run(node, "audit", "trust-log", long_vkey), "vkey", 255)

    assert [_count(node, m) for m in (Peer, AgencyRow, Principal, AuditWitnessedLog)] == counts


def test_equivalence_submit_by_an_admin_whose_name_and_agency_are_long_records_the_author(
    node: Node, tmp_path: Path
) -> None:
    """The author's username fits its column; `username@agency` (73 characters here) did not fit `created_by`."""
    admin = "a" * 60
    with node.db.write() as session:
        add_principal(session, admin, "USA", node.config.agency, "SECRET", roles=["admin"])
        table = node.table(session).as_dict()
    file = tmp_path / "table.json"
    file.write_text(json.dumps({"agreements": table["agreements"]}), encoding="utf-8")
    before = _count(node, EquivalenceVersion)

    result = _run(node, "equivalence", "submit", str(file), "--user", admin)

    assert result.exit_code == 0, (result.output, result.exception)
    with node.db.read() as session:
        latest = session.scalars(select(EquivalenceVersion).order_by(EquivalenceVersion.version.desc())).first()
    assert _count(node, EquivalenceVersion) == before + 1
    assert latest is not None and latest.created_by == admin


def test_init_with_an_over_long_agency_is_refused_before_anything_is_made(
    backend: str, templates: Templates, tmp_path: Path
) -> None:
    args = ["init", "--data", str(tmp_path / "node"), "--nation", "USA", "--agency", LONG]
    if backend == "postgres":
        name = f"tl_init_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        templates.created.append(name)  # dropped with the others at the end of the session
        args += ["--database-url", _pg_url(name)]

    _refused(RUNNER.invoke(app, args), "agency", 64)

    assert not (tmp_path / "node" / "node.json").exists()
    assert not (tmp_path / "node" / "node.key").exists()
