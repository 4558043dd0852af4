"""The registry at the command line: blank and look-alike names refused, a compartment's owners
replaced only when asked, a removal that removes nothing said and not logged, and the lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tearline.audit.event import AuditEvent
from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.db.models import AgencyRow, CompartmentRow, Workspace
from tearline.node import Node

RUNNER = CliRunner()


def _run(node: Node, *args: str) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)])


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.output.split())


def _refused(result: Result, *named: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output, result.output
    for text in named:
        assert text in " ".join(result.output.split()), result.output


def _rows(node: Node, model: Any) -> list[tuple[Any, ...]]:
    with node.db.read() as session:
        table = model.__table__
        return [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]


def _entries(node: Node, object_id: str) -> list[AuditEvent]:
    with node.db.read() as session:
        return [hit.event for hit in search(session, Query(object_id=object_id)).hits]


BLANK: list[tuple[list[str], Any, str]] = [
    (["agency", "add", "", "--nation", "USA"], AgencyRow, "agency"),
    (["agency", "add", "   ", "--nation", "USA"], AgencyRow, "agency"),
    (["agency", "add", "US-DEMO-NARC ", "--nation", "USA"], AgencyRow, "agency"),
    (["agency", "add", " MX-DEMO-FIA", "--nation", "MEX"], AgencyRow, "agency"),
    (["agency", "add", "us-demo-narc", "--nation", "USA"], AgencyRow, "agency"),
    (["agency", "add", "MX\nFIA", "--nation", "MEX"], AgencyRow, "agency"),
    (["compartment", "add", "", "--owner", "US-DEMO-NARC"], CompartmentRow, "compartment"),
    (["compartment", "add", "VU-NORTE ", "--owner", "US-DEMO-NARC"], CompartmentRow, "compartment"),
    (["workspace", "add", "", "--name", "Fusion", "--host-nation", "USA"], Workspace, "slug"),
    (["workspace", "add", "fc-norte", "--name", "  ", "--host-nation", "USA"], Workspace, "name"),
    (["workspace", "add", " fc-norte", "--name", "Fusion", "--host-nation", "USA"], Workspace, "slug"),
]


@pytest.mark.parametrize(("args", "model", "field"), BLANK, ids=[f"{c[0][0]}-{c[0][2]!r}" for c in BLANK])
def test_a_blank_or_padded_name_is_refused_naming_the_field(
    node: Node, args: list[str], model: Any, field: str
) -> None:
    before = _rows(node, model)
    _refused(_run(node, *args), f"{field}: ")
    assert _rows(node, model) == before


def test_compartment_add_with_other_owners_is_refused_unless_replace(node: Node) -> None:
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    _ok(_run(node, "compartment", "add", "VU-HALCON", "--owner", "US-DEMO-NARC"))
    before = _rows(node, CompartmentRow)

    _refused(
        _run(node, "compartment", "add", "VU-HALCON", "--owner", "MX-DEMO-UIS"),
        "VU-HALCON", "owned by US-DEMO-NARC", "--replace",
    )  # fmt: skip
    assert _rows(node, CompartmentRow) == before
    assert len(_entries(node, "compartment:VU-HALCON")) == 1

    same = _ok(_run(node, "compartment", "add", "VU-HALCON", "--owner", "US-DEMO-NARC"))
    assert "nothing changed" in same
    assert len(_entries(node, "compartment:VU-HALCON")) == 1  # a no-op is not logged

    replaced = _ok(_run(node, "compartment", "add", "VU-HALCON", "--owner", "US-DEMO-NARC", "--owner",
                        "MX-DEMO-UIS", "--replace"))  # fmt: skip
    assert "was US-DEMO-NARC" in replaced
    with node.db.read() as session:
        row = session.get(CompartmentRow, "VU-HALCON")
        assert row is not None and row.owners == ["MX-DEMO-UIS", "US-DEMO-NARC"]
    first, second = _entries(node, "compartment:VU-HALCON")
    assert second.detail is not None
    assert (first.action, second.action) == ("compartment.register", "compartment.register")
    assert second.detail["owners_before"] == ["US-DEMO-NARC"]
    assert second.detail["owners"] == ["MX-DEMO-UIS", "US-DEMO-NARC"]


def test_removing_a_non_member_says_so_and_logs_nothing(node: Node) -> None:
    _ok(_run(node, "workspace", "add", "fc-norte", "--name", "Fusion centre", "--host-nation", "USA"))
    _ok(_run(node, "user", "add", "u7", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET"))

    removed = _ok(_run(node, "workspace", "member", "fc-norte", "u7", "--remove"))

    assert "u7 was not a member of fc-norte" in removed and "removed from" not in removed
    assert [e.action for e in _entries(node, "fc-norte")] == ["workspace.add"]
    _ok(_run(node, "workspace", "member", "fc-norte", "u7"))
    again = _ok(_run(node, "workspace", "member", "fc-norte", "u7"))
    assert "already a member" in again
    _ok(_run(node, "workspace", "member", "fc-norte", "u7", "--remove"))
    assert [e.action for e in _entries(node, "fc-norte")] == [
        "workspace.add",
        "workspace.member.add",
        "workspace.member.remove",
    ]


def _json_lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, (result.output, result.exception)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_lists_show_what_is_registered(node: Node, tmp_path: Any) -> None:
    _ok(_run(node, "agency", "add", "MX-DEMO-UIS", "--nation", "MEX", "--law-enforcement"))
    _ok(_run(node, "agency", "add", "CA-DEMO-CBSA", "--nation", "CAN"))
    _ok(_run(node, "compartment", "add", "VU-HALCON", "--owner", "US-DEMO-NARC", "--owner", "MX-DEMO-UIS"))
    _ok(_run(node, "workspace", "add", "fc-norte", "--name", "Fusion centre", "--host-nation", "USA"))
    _ok(_run(node, "user", "add", "u7", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET"))
    _ok(_run(node, "workspace", "member", "fc-norte", "u7"))

    agencies = {row["name"]: row for row in _json_lines(_run(node, "agency", "list", "--json"))}
    assert agencies["MX-DEMO-UIS"] == {"name": "MX-DEMO-UIS", "nation": "MEX", "law_enforcement": True,
                                       "this_node": False}  # fmt: skip
    assert agencies["CA-DEMO-CBSA"]["law_enforcement"] is False
    assert agencies["US-DEMO-NARC"]["this_node"] is True
    assert _json_lines(_run(node, "compartment", "list", "--json")) == [
        {"name": "VU-HALCON", "owners": ["MX-DEMO-UIS", "US-DEMO-NARC"]}
    ]
    assert _json_lines(_run(node, "workspace", "list", "--json")) == [
        {"slug": "fc-norte", "name": "Fusion centre", "host_nation": "USA", "members": ["u7"],
         "host_rules_version": 0}
    ]  # fmt: skip

    assert "MX-DEMO-UIS" in _ok(_run(node, "agency", "list"))
    assert "VU-HALCON" in _ok(_run(node, "compartment", "list"))
    table = _ok(_run(node, "workspace", "list"))
    assert "fc-norte" in table and "u7" in table
