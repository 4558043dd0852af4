"""`tearline equivalence show|sign|submit`: versions signed by partners, with the keys of real nodes.

Three nodes made by `tearline init` (each with its own Ed25519 key); the US node registers the
Mexican node as a peer, not the Canadian one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.federation.equivalence import ACTION
from tearline.node import Node

RUNNER = CliRunner()


def tearline(*args: str | Path) -> Any:
    return RUNNER.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("equivalence")
    made = {}
    for nation, agency in (("USA", "US-DEMO-NARC"), ("MEX", "MX-DEMO-FIA"), ("CAN", "CA-DEMO-BORDER")):
        made[nation] = root / nation.lower()
        assert tearline("init", "--data", made[nation], "--nation", nation, "--agency", agency).exit_code == 0
    vkey = tearline("audit", "vkey", "--data", made["MEX"]).output.strip()
    added = tearline("peer", "add", "--data", made["USA"], "--nation", "MEX", "--agency", "MX-DEMO-FIA",
                     "--url", "http://127.0.0.1:9", "--vkey", vkey)  # fmt: skip
    assert added.exit_code == 0, added.output
    return made


def _table_file(path: Path, nodes: dict[str, Path], nation: str, label: str, level: int) -> Path:
    shown = tearline("equivalence", "show", "--data", nodes["USA"])
    assert shown.exit_code == 0, shown.output
    table: dict[str, Any] = copy.deepcopy(json.loads(shown.output))
    table["agreements"][0]["columns"][nation][label] = level
    path.write_text(json.dumps(table), encoding="utf-8")
    return path


def _sign(nodes: dict[str, Path], nation: str, table: Path, out: Path) -> Path:
    signed = tearline("equivalence", "sign", table, "--data", nodes[nation], "--out", out)
    assert signed.exit_code == 0, signed.output
    return out


def _audit(nodes: dict[str, Path], outcome: str) -> list[list[str]]:
    node = Node.open(nodes["USA"])
    try:
        with node.db.read() as session:
            page = search(session, Query(actor="node-admin", action=ACTION, outcome=outcome))
    finally:
        node.close()
    return [list(hit.event.objects) for hit in page.hits]


def test_a_partners_column_changes_with_its_signature_and_only_then(nodes: dict[str, Path], tmp_path: Path) -> None:
    table = _table_file(tmp_path / "table.json", nodes, "MEX", "RESERVADA", 0)
    refused = tearline("equivalence", "submit", table, "--data", nodes["USA"])
    assert refused.exit_code == 2 and "MEX" in refused.output and "signed" in refused.output, refused.output

    signature = _sign(nodes, "MEX", table, tmp_path / "mex.sig")
    assert signature.read_text(encoding="utf-8").startswith("\u2014 tearline.mex.mx-demo-fia/log ")
    done = tearline("equivalence", "submit", table, "--data", nodes["USA"], "--signature", signature)
    assert done.exit_code == 0, done.output
    assert "signed by MEX" in done.output
    shown = json.loads(tearline("equivalence", "show", "--data", nodes["USA"]).output)
    assert shown["signed_by"] == ["MEX"]
    assert shown["agreements"][0]["columns"]["MEX"]["RESERVADA"] == 0
    assert [f"equivalence-v{shown['version']}", "signed-by:MEX:tearline.mex.mx-demo-fia/log"] in _audit(
        nodes, "allowed"
    )
    assert [] in _audit(nodes, "denied")


def test_an_unknown_signer_is_refused_by_name(nodes: dict[str, Path], tmp_path: Path) -> None:
    table = _table_file(tmp_path / "table.json", nodes, "CAN", "PROTECTED A", 0)
    signature = _sign(nodes, "CAN", table, tmp_path / "can.sig")
    refused = tearline("equivalence", "submit", table, "--data", nodes["USA"], "--signature", signature)
    assert refused.exit_code == 2
    assert "tearline.can.ca-demo-border/log" in refused.output and "unknown signer" in refused.output


def test_a_signature_over_another_table_is_refused_by_name(nodes: dict[str, Path], tmp_path: Path) -> None:
    signed = _table_file(tmp_path / "signed.json", nodes, "MEX", "CONFIDENCIAL", 1)
    signature = _sign(nodes, "MEX", signed, tmp_path / "mex.sig")
    other = _table_file(tmp_path / "other.json", nodes, "MEX", "CONFIDENCIAL", 3)
    refused = tearline("equivalence", "submit", other, "--data", nodes["USA"], "--signature", signature)
    assert refused.exit_code == 2
    assert "tearline.mex.mx-demo-fia/log" in refused.output and "does not verify" in refused.output
    garbled = tmp_path / "garbled.sig"
    garbled.write_text("not a signature\n", encoding="utf-8")
    refused = tearline("equivalence", "submit", other, "--data", nodes["USA"], "--signature", garbled)
    assert refused.exit_code == 2 and "line 1" in refused.output


def test_our_own_column_needs_no_partner(nodes: dict[str, Path], tmp_path: Path) -> None:
    table = _table_file(tmp_path / "table.json", nodes, "USA", "CUI", 0)
    done = tearline("equivalence", "submit", table, "--data", nodes["USA"])
    assert done.exit_code == 0, done.output
    assert json.loads(tearline("equivalence", "show", "--data", nodes["USA"]).output)["signed_by"] == []
