"""The command line as scripts use it: init, user add --print-token, serve, demo, and clear refusals."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tearline.cli.main import app
from tearline.db.models import Principal, Report
from tearline.fixtures import CAST
from tearline.node import Node
from tests.cli.support import free_port, run, serving
from tests.web.support import quick

__all__ = ["quick"]


def _text(output: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(output.split())


def _invoke(*args: str | Path) -> Result:
    """Run a command in-process (for refusals and set-up; servers run as real subprocesses)."""
    return CliRunner().invoke(app, [str(a) for a in args], prog_name="tearline")


def _rows(data: Path, model: type[Principal] | type[Report]) -> int:
    node = Node.open(data)
    try:
        with node.db.read() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        node.close()


def test_init_then_user_add_print_token_gives_a_token_that_serve_accepts(tmp_path: Path) -> None:
    data = tmp_path / "usa"
    init = run("init", "--data", data, "--nation", "USA", "--agency", "US-DEMO-NARC")
    assert init.returncode == 0, init.stderr
    assert "tearline user add" in _text(init.stdout)  # it says what to do next
    added = run(
        "user", "add", "bot", "--data", data, "--nation", "USA", "--agency", "US-DEMO-NARC",
        "--clearance", "SECRET", "--print-token",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert re.fullmatch(r"tl_[A-Za-z0-9_-]{20,}", token), added.stdout  # the token and nothing else on stdout
    port = free_port()
    bearer = {"Authorization": f"Bearer {token}"}
    with serving(["serve", "--data", str(data), "--port", str(port)], port, tmp_path / "logs") as server:
        me = httpx.get(f"{server.url}/api/me", headers=bearer, timeout=10)
        assert me.status_code == 200, me.text
        assert (me.json()["username"], me.json()["clearance"]) == ("bot", "SECRET")
        assert httpx.get(f"{server.url}/api/reports", headers=bearer, timeout=10).json() == {"total": 0, "items": []}
        assert httpx.get(f"{server.url}/api/reports", timeout=10).status_code == 401


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A node made by `tearline init`."""
    target = tmp_path / "usa"
    result = _invoke("init", "--data", target, "--nation", "USA", "--agency", "US-DEMO-NARC")
    assert result.exit_code == 0, result.output
    return target


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRETA"], "clearance"),
        (["--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "TOP-SEKRET"], "clearance"),
        (["--nation", "MEX", "--agency", "US-DEMO-NARC", "--clearance", "SECRETA"], "nation"),
        (["--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET", "--role", "boss"], "roles"),
    ],
    ids=["another-nations-label", "unknown-label", "nation-differs-from-agency", "unknown-role"],
)
def test_user_add_refuses_a_bad_principal_with_exit_2_naming_the_field(data: Path, args: list[str], field: str) -> None:
    before = _rows(data, Principal)
    result = _invoke("user", "add", "eve", "--data", data, *args, "--print-token")
    assert result.exit_code == 2, result.output
    assert f"{field}:" in _text(result.stderr)
    assert "tl_" not in result.stdout
    assert _rows(data, Principal) == before


def test_init_on_an_existing_node_refuses_and_says_what_to_do(data: Path) -> None:
    key = (data / "node.key").read_bytes()
    result = _invoke("init", "--data", data, "--nation", "MEX", "--agency", "MX-DEMO-FIA")
    assert result.exit_code == 2
    message = _text(result.stderr)
    assert "already holds a node" in message
    assert "choose another --data directory" in message
    assert (data / "node.key").read_bytes() == key
    assert Node.open(data).config.nation == "USA"


def test_a_command_on_a_missing_node_says_how_to_make_one(tmp_path: Path) -> None:
    result = _invoke(
        "user", "add", "eve", "--data", tmp_path / "none", "--nation", "USA", "--agency", "X", "--clearance", "SECRET"
    )
    assert result.exit_code == 2
    assert "tearline init --data" in _text(result.stderr)


def test_demo_no_serve_builds_the_scenario_and_prints_the_log_ins(tmp_path: Path, quick: None) -> None:
    result = _invoke("demo", "--data", tmp_path / "demo", "--no-serve")
    assert result.exit_code == 0, result.output
    output = _text(result.stdout)
    for username, spec in CAST.items():
        assert f"{username} {spec[5]}" in output
    assert _rows(tmp_path / "demo" / "usa", Report) == 2
    again = _invoke("demo", "--data", tmp_path / "demo", "--no-serve")
    assert again.exit_code == 2
    assert "not an empty directory" in _text(again.stderr)


def test_demo_into_a_file_refuses_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = _invoke("demo", "--data", tmp_path / "a-file", "--no-serve")
    assert result.exit_code == 2
    assert "not an empty directory" in _text(result.stderr)
    assert "Traceback" not in result.output


def test_workspace_commands_set_host_rules_and_refuse_bad_ones(data: Path, tmp_path: Path) -> None:
    def ok(*args: str | Path) -> str:
        result = _invoke(*args, "--data", data)
        assert result.exit_code == 0, result.output
        return _text(result.stdout)

    ok("agency", "add", "CA-DEMO-BORDER", "--nation", "CAN", "--law-enforcement")
    ok("workspace", "add", "fc-norte", "--name", "Fusion centre", "--host-nation", "USA")
    ok("user", "add", "adam", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET", "--role", "admin")
    ok("user", "add", "chloe", "--nation", "CAN", "--agency", "CA-DEMO-BORDER", "--clearance", "SECRET")
    assert "chloe added to fc-norte" in ok("workspace", "member", "fc-norte", "chloe")

    missing = _invoke("workspace", "policy", "fc-norte", tmp_path / "none.cedar", "--user", "adam", "--data", data)
    assert missing.exit_code == 2
    assert "does not exist" in _text(missing.output)
    permit = tmp_path / "permit.cedar"
    permit.write_text('@id("open")\npermit(principal, action, resource);\n', encoding="utf-8")
    refused = _invoke("workspace", "policy", "fc-norte", permit, "--user", "adam", "--data", data)
    assert refused.exit_code == 2
    assert "policy: open: host rules may only forbid" in _text(refused.stderr)
    foreign = _invoke("workspace", "policy", "fc-norte", permit, "--user", "chloe", "--data", data)
    assert foreign.exit_code == 2
    assert "only an admin of the host nation" in _text(foreign.stderr)

    forbid = tmp_path / "no-can.cedar"
    forbid.write_text('@id("no-can")\nforbid(principal, action, resource) when { principal.nation == "CAN" };\n')
    assert "host rules version 1 in force" in ok("workspace", "policy", "fc-norte", forbid, "--user", "adam")
    assert "chloe removed from fc-norte" in ok("workspace", "member", "fc-norte", "chloe", "--remove")


def test_demo_serves_and_a_mexican_liaison_reads_the_convoy_report(tmp_path: Path) -> None:
    port = free_port()
    args = ["demo", "--data", str(tmp_path / "demo"), "--port", str(port)]
    with serving(args, port, tmp_path / "logs") as server:
        printed = _text(server.output())
        assert f"http://127.0.0.1:{port}/" in printed
        assert "mateo.enlace demo-mateo-2026" in printed
        convoy = re.search(r"reports: (report--[0-9a-f-]{36})", printed)
        assert convoy, printed
        with httpx.Client(base_url=server.url, timeout=10) as http:
            login = http.post("/api/login", json={"username": "mateo.enlace", "password": "demo-mateo-2026"})
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['token']}"}
            report = http.get(f"/api/reports/{convoy.group(1)}", headers=bearer)
            assert report.status_code == 200, report.text
            # mateo.enlace (MX-DEMO-FIA) is not in the vetted unit: its portion, and its name, stay out of his banner.
            assert report.json()["banner"] == "SECRET//LES//REL TO USA, MEX"
