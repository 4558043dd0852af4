"""`tearline audit search` shows an auditor only what `/api/audit/search` would (DESIGN §3.3: the
auditor role grants the search, never sight). On SQLite and on PostgreSQL.

carla.auditor is not read into VU-HALCON: the entries about a report of the vetted unit are left
out of her search at the command line, as they are from the API's; vera.auditor, read into it,
finds them, with their banner.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.fixtures import VETTED_UNIT
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.web.support import login
from tests.web.test_console_audit_search import _halcon_report

runner = CliRunner()


def _cli_search(node: Node, user: str, report: str) -> list[dict[str, Any]]:
    args = ["audit", "search", "--user", user, "--object", report, "--json", "--data", str(node.data_dir)]
    result = runner.invoke(app, args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_the_command_line_search_leaves_out_what_the_auditor_may_not_see(client: TestClient, node: Node) -> None:
    halcon = _halcon_report(client, login(client, "ana.analyst"))
    with node.db.write() as session:
        add_principal(session, "vera.auditor", "USA", "US-DEMO-NARC", "SECRET", [VETTED_UNIT], ["auditor"])
    assert _cli_search(node, "carla.auditor", halcon) == []
    seen = _cli_search(node, "vera.auditor", halcon)
    assert {"report.create", "report.read"} <= {hit["action"] for hit in seen}
    assert all(halcon in hit["objects"] for hit in seen)
    assert any(VETTED_UNIT in str(hit["marking"]) for hit in seen), "vera sees every item: the banner shows"
