"""`tearline audit search`: the auditor's search at the command line, logged as the API's is."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from tearline.audit.search import Query, search
from tearline.cli.common import console
from tearline.cli.main import app
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.audit.support import fill

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console is made once, at import, whatever COLUMNS says later: widen it so each row is one line."""
    monkeypatch.setattr(console, "width", 300)


@pytest.fixture
def audited(node: Node) -> Node:
    fill(node, 30)  # analyst<i % 5> reads report--<i % 11>, at 2026-03-01T12:00:00Z + i s
    with node.db.write() as session:
        add_principal(session, "inspector", "USA", "US-DEMO-NARC", "SECRET", roles=["auditor"])
        add_principal(session, "snoop", "USA", "US-DEMO-NARC", "SECRET", roles=["analyst"])
    return node


def run(node: Node, *args: str) -> Result:
    return runner.invoke(
        app, ["audit", "search", *args, "--data", str(node.data_dir)], env={"COLUMNS": "300", "NO_COLOR": "1"}
    )


def searches(node: Node, actor: str) -> list[tuple[str, dict[str, object]]]:
    with node.db.read() as session:
        hits = search(session, Query(actor=actor, action="audit.search")).hits
    return [(h.event.outcome, dict(h.event.detail or {})) for h in hits]


def test_an_auditor_searches_pages_and_the_search_is_logged(audited: Node) -> None:
    result = run(audited, "--user", "inspector", "--object", "report--0003", "--limit", "2")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "report--0003" in line]
    assert [row.split()[1] for row in rows] == ["3", "14"]
    assert "analyst3@US-DEMO-NARC" in rows[0] and "report.read" in rows[0] and "allowed" in rows[0]
    assert "2026-03-01T12:00:03" in rows[0]
    assert "run again with --after 14" in result.stderr
    more = run(audited, "--user", "inspector", "--object", "report--0003", "--after", "14", "--json")
    assert more.exit_code == 0, more.output
    lines = [json.loads(line) for line in more.stdout.splitlines()]
    assert [(line["index"], line["actor"], line["objects"]) for line in lines] == [
        (25, "analyst0@US-DEMO-NARC", ["report--0003"])
    ]
    logged = searches(audited, "inspector@US-DEMO-NARC")
    assert [(outcome, detail["object"]) for outcome, detail in logged] == [("allowed", "report--0003")] * 2


def test_narrowing_by_actor_outcome_and_time(audited: Node) -> None:
    result = run(
        audited,
        "--user",
        "inspector",
        "--actor",
        "analyst2@US-DEMO-NARC",
        "--outcome",
        "allowed",
        "--action",
        "report.read",
        "--since",
        "2026-03-01T12:00:05",
        "--until",
        "2026-03-01T13:00:20+01:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["index"] for line in result.stdout.splitlines()] == [7, 12, 17]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "snoop", "--object", "report--0003"], "does not hold the auditor role"),
        (["--user", "nobody", "--object", "report--0003"], "no user 'nobody'"),
        (["--user", "inspector"], "--object/--actor"),
        (["--user", "inspector", "--actor", "a", "--outcome", "maybe"], "--outcome: must be one of allowed, denied"),
        (["--user", "inspector", "--actor", "a", "--since", "yesterday"], "--since: 'yesterday' is not"),
        (
            ["--user", "inspector", "--actor", "a", "--since", "2026-03-02", "--until", "2026-03-01"],
            "--since: is after",
        ),
    ],
)
def test_refusals_exit_2_and_only_a_role_refusal_is_logged(audited: Node, args: list[str], words: str) -> None:
    result = run(audited, *args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert words in " ".join(result.output.split())
    assert searches(audited, "inspector@US-DEMO-NARC") == []
    snooped = searches(audited, "snoop@US-DEMO-NARC")
    assert [o for o, _ in snooped] == (["denied"] if "snoop" in args else [])


def test_a_narrow_terminal_folds_the_table_and_cuts_nothing_short(
    audited: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 60)
    result = run(audited, "--user", "inspector", "--object", "report--0003", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout  # folded onto more lines, never cut short
