"""Principals managed at the command line: each change applies to tokens already issued, and is logged.

An account that may be compromised must be shut out at once, and an auditor must be able to
answer who gave whom a clearance or a compartment, and when. So `tearline user set`, `disable`,
`enable`, `token`, `revoke-tokens` and `password` act on the next request of sessions and
tokens already issued, and every registry command writes an audit entry in its own transaction,
naming the node's administrator, the operating-system account, and what it set.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner, Result

from tearline.audit.event import AuditEvent
from tearline.audit.search import Query, search
from tearline.cli.common import console, os_account, reports_errors
from tearline.cli.main import app
from tearline.node import Node
from tearline.web.app import create_app

RUNNER = CliRunner()
ANA = "principal:ana@US-DEMO-NARC"


def _run(node: Node, *args: str, env: dict[str, str] | None = None) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)], env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.stdout.split())


def _refused(result: Result, *named: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    for text in named:
        assert text in " ".join(result.output.split()), result.output


def _entries(node: Node, object_id: str) -> list[AuditEvent]:
    with node.db.read() as session:
        return [hit.event for hit in search(session, Query(object_id=object_id)).hits]


def _listed(node: Node, *usernames: str) -> list[dict[str, Any]]:
    """`tearline user list --json` (one object a line), those of `usernames` (the node has its own service account)."""
    listed = _run(node, "user", "list", "--json")
    assert listed.exit_code == 0, listed.output
    return [row for line in listed.stdout.splitlines() if (row := json.loads(line))["username"] in usernames]


def _me(client: TestClient, token: str) -> Any:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def ana_token(node: Node) -> str:
    """A vetted-unit compartment, and an analyst who holds it, with an API token."""
    _ok(_run(node, "compartment", "add", "VU-NORTE", "--owner", "US-DEMO-NARC"))
    added = _run(
        node, "user", "add", "ana", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET",
        "--compartment", "VU-NORTE", "--role", "analyst", "--print-token",
    )  # fmt: skip
    _ok(added)
    return added.stdout.strip()


def test_a_change_of_clearance_compartments_or_roles_applies_to_a_token_already_issued(
    node: Node, ana_token: str
) -> None:
    client = TestClient(create_app(node))
    assert _me(client, ana_token).json()["compartments"] == ["VU-NORTE"]

    said = _ok(_run(node, "user", "set", "ana", "--clearance", "CONFIDENTIAL", "--no-compartments",
                    "--role", "analyst", "--role", "auditor"))  # fmt: skip
    assert "clearance SECRET -> CONFIDENTIAL" in said
    assert "compartments VU-NORTE -> none" in said
    me = _me(client, ana_token).json()
    assert (me["clearance"], me["compartments"], sorted(me["roles"])) == ("CONFIDENTIAL", [], ["analyst", "auditor"])

    [change] = [e for e in _entries(node, ANA) if e.action == "principal.change"]
    assert change.actor == "node-admin"
    assert change.detail is not None
    assert change.detail["os_account"] == os_account()
    assert change.detail["changed"]["clearance"] == {"from": "SECRET", "to": "CONFIDENTIAL"}
    assert change.detail["changed"]["compartments"] == {"from": ["VU-NORTE"], "to": []}
    assert "roles" in change.detail["changed"]


def test_a_refused_change_names_the_field_changes_nothing_and_logs_nothing(node: Node, ana_token: str) -> None:
    before = len(_entries(node, ANA))
    _refused(_run(node, "user", "set", "ana", "--compartment", "VU-SUR"), "compartments", "unknown compartment")
    _refused(_run(node, "user", "set", "ana", "--clearance", "SECRETA"), "clearance", "unknown label")
    _refused(_run(node, "user", "set", "nobody", "--clearance", "SECRET"), "no user 'nobody'", "tearline user list")
    assert _me(TestClient(create_app(node)), ana_token).json()["clearance"] == "SECRET"
    assert len(_entries(node, ANA)) == before


def test_a_change_to_what_is_held_already_says_so_and_logs_nothing(node: Node, ana_token: str) -> None:
    before = len(_entries(node, ANA))
    assert "user ana: nothing changed" in _ok(_run(node, "user", "set", "ana"))
    assert "nothing changed" in _ok(_run(node, "user", "set", "ana", "--clearance", "SECRET"))
    assert len(_entries(node, ANA)) == before
    _ok(_run(node, "user", "set", "ana", "--clearance", "CONFIDENTIAL"))
    assert len(_entries(node, ANA)) == before + 1


def test_disable_shuts_out_every_token_at_once_and_enable_needs_a_new_one(node: Node, ana_token: str) -> None:
    client = TestClient(create_app(node))
    second = _ok(_run(node, "user", "token", "ana"))
    assert _me(client, second).status_code == 200

    assert "2 session(s) and token(s) revoked" in _ok(_run(node, "user", "disable", "ana"))
    assert _me(client, ana_token).status_code == 401
    _refused(_run(node, "user", "token", "ana"), "is disabled", "tearline user enable ana")

    _ok(_run(node, "user", "enable", "ana"))
    assert _me(client, ana_token).status_code == 401  # revoked when disabled: it does not come back
    fresh = _ok(_run(node, "user", "token", "ana"))
    assert _me(client, fresh).status_code == 200

    actions = [e.action for e in _entries(node, ANA)]
    assert actions == ["principal.add", "principal.token", "principal.disable", "principal.enable", "principal.token"]


def test_revoke_tokens_ends_sessions_and_tokens_but_leaves_the_account(node: Node, ana_token: str) -> None:
    client = TestClient(create_app(node))
    _ok(_run(node, "user", "password", "ana", env={"TEARLINE_PASSWORD": "a-long-passphrase"}))
    login = client.post("/api/login", json={"username": "ana", "password": "a-long-passphrase"})
    assert login.status_code == 200, login.text
    [listed] = _listed(node, "ana")
    assert listed["tokens"] == {"api": 1, "session": 1}

    assert "2 session(s) and token(s) revoked" in _ok(_run(node, "user", "revoke-tokens", "ana"))
    assert _me(client, ana_token).status_code == 401
    assert client.post("/api/login", json={"username": "ana", "password": "a-long-passphrase"}).status_code == 200


def test_a_new_password_ends_open_sessions_only_and_a_short_one_is_refused(node: Node, ana_token: str) -> None:
    client = TestClient(create_app(node))
    _ok(_run(node, "user", "password", "ana", env={"TEARLINE_PASSWORD": "first-passphrase"}))
    session = client.post("/api/login", json={"username": "ana", "password": "first-passphrase"}).json()["token"]
    assert _me(client, session).status_code == 200

    _refused(_run(node, "user", "password", "ana", env={"TEARLINE_PASSWORD": "short"}), "password", "at least 8")
    assert _me(client, session).status_code == 200  # the refusal changed nothing
    assert "1 open session(s) ended" in _ok(
        _run(node, "user", "password", "ana", env={"TEARLINE_PASSWORD": "second-passphrase"})
    )
    assert _me(client, session).status_code == 401
    assert _me(client, ana_token).status_code == 200
    assert client.post("/api/login", json={"username": "ana", "password": "first-passphrase"}).status_code == 401


def test_a_password_is_read_from_a_pipe_and_input_that_ends_says_what_to_do(node: Node, ana_token: str) -> None:
    client = TestClient(create_app(node))
    piped = RUNNER.invoke(app, ["user", "password", "ana", "--data", str(node.data_dir)],
                          input="piped-passphrase\npiped-passphrase\n")  # fmt: skip
    assert piped.exit_code == 0, piped.output
    assert "may be echoed" not in piped.output
    assert client.post("/api/login", json={"username": "ana", "password": "piped-passphrase"}).status_code == 200
    for given in ("", "only-once-passphrase\n"):
        ended = RUNNER.invoke(app, ["user", "password", "ana", "--data", str(node.data_dir)], input=given)
        _refused(ended, "password", "the input ended before the password was given twice", "TEARLINE_PASSWORD")
    differ = RUNNER.invoke(app, ["user", "password", "ana", "--data", str(node.data_dir)], input="one-pass\ntwo-pass\n")
    _refused(differ, "password", "the two entries differ")
    unknown = RUNNER.invoke(app, ["user", "password", "nobody", "--data", str(node.data_dir)], input="")
    _refused(unknown, "no user 'nobody'")
    assert "Password" not in unknown.output, "an unknown user is refused before a password is asked for"
    assert client.post("/api/login", json={"username": "ana", "password": "piped-passphrase"}).status_code == 200


def test_user_add_refuses_a_short_password_like_user_password_does(node: Node) -> None:
    result = _run(node, "user", "add", "bea", "--nation", "USA", "--agency", "US-DEMO-NARC",
                  "--clearance", "SECRET", "--password", "short")  # fmt: skip
    _refused(result, "password", "at least 8")
    assert _listed(node, "bea") == []


def test_user_list_shows_each_principal_its_status_and_tokens(
    node: Node, ana_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok(_run(node, "user", "add", "ben", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "CUI"))
    _ok(_run(node, "user", "disable", "ben"))
    rows = _listed(node, "ana", "ben")
    assert [(r["username"], r["clearance"], r["disabled"], r["tokens"]) for r in rows] == [
        ("ana", "SECRET", False, {"api": 1}),
        ("ben", "CUI", True, {}),
    ]
    monkeypatch.setattr(console, "width", 200)  # a wide terminal: no cell wrapped
    table = _ok(_run(node, "user", "list"))
    assert "ana" in table and "VU-NORTE" in table and "disabled" in table


def test_every_registry_command_is_logged_with_what_it_set(node: Node, ana_token: str, tmp_path: Any) -> None:
    _ok(_run(node, "agency", "add", "CA-DEMO-BORDER", "--nation", "CAN", "--law-enforcement"))
    _ok(_run(node, "compartment", "add", "VU-NORTE", "--owner", "US-DEMO-NARC", "--owner", "CA-DEMO-BORDER",
             "--replace"))  # fmt: skip
    _ok(_run(node, "workspace", "add", "fc-norte", "--name", "Fusion centre", "--host-nation", "USA"))
    _ok(_run(node, "user", "add", "adam", "--nation", "USA", "--agency", "US-DEMO-NARC", "--clearance", "SECRET",
             "--role", "admin"))  # fmt: skip
    _ok(_run(node, "workspace", "member", "fc-norte", "ana"))
    _ok(_run(node, "workspace", "member", "fc-norte", "ana", "--remove"))
    rules = tmp_path / "rules.cedar"
    rules.write_text('@id("no-can")\nforbid(principal, action, resource) when { principal.nation == "CAN" };\n')
    _ok(_run(node, "workspace", "policy", "fc-norte", str(rules), "--user", "adam"))

    [agency] = _entries(node, "agency:CA-DEMO-BORDER")
    assert (agency.action, agency.detail and agency.detail["law_enforcement"]) == ("agency.register", True)
    first, second = _entries(node, "compartment:VU-NORTE")
    assert first.detail is not None and second.detail is not None
    assert (first.detail["owners_before"], first.detail["owners"]) == (None, ["US-DEMO-NARC"])
    assert second.detail["owners_before"] == ["US-DEMO-NARC"]
    assert second.detail["owners"] == ["CA-DEMO-BORDER", "US-DEMO-NARC"]
    workspace = [(e.action, e.actor) for e in _entries(node, "fc-norte")]
    assert workspace == [
        ("workspace.add", "node-admin"),
        ("workspace.member.add", "node-admin"),
        ("workspace.member.remove", "node-admin"),
        ("workspace.policy.change", "adam@US-DEMO-NARC"),
    ]
    assert all(e.detail and e.detail["os_account"] == os_account() for e in _entries(node, "fc-norte"))


def test_a_name_taken_at_the_same_moment_is_a_refusal_not_a_traceback() -> None:
    # Two `user add` of one name at once both pass the check; the database refuses the second insert.
    @reports_errors
    def second_insert() -> None:
        raise IntegrityError("INSERT INTO principal ...", {}, Exception("duplicate key value"))

    with pytest.raises(typer.Exit) as exited:
        second_insert()
    assert exited.value.exit_code == 2
