"""/releases shows a release's determination as the record holds it: each approver's text on its
own line, never run together (DESIGN §3.5: the release record holds the determination)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import Principal
from tearline.fixtures import Demo, request_convoy_release
from tearline.node import Node
from tearline.release import workflow
from tests.console.test_sessions import log_in


def test_each_approvers_determination_has_its_own_line(client: TestClient, node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    texts = {"dan.disclosure": "No threat to national security; shared for interdiction (fictional).",
             "dora.disclosure": "Concur."}
    for officer, text in texts.items():
        with node.db.write() as session:
            me = session.scalar(select(Principal).where(Principal.username == officer))
            assert me is not None
            workflow.approve(session, node, me, request_id, text)
    log_in(client, "dan.disclosure")
    page = client.get("/releases").text
    [cell] = re.findall(r'<td data-testid="determination">(.*?)</td>', page, re.S)
    lines = re.findall(r"<div>(.*?)</div>", cell, re.S)
    assert len(lines) == 2, cell
    assert "dan.disclosure" in lines[0] and "shared for interdiction" in lines[0]
    assert "dora.disclosure" in lines[1] and "Concur." in lines[1]
