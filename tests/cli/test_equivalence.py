"""`tearline equivalence show|sign|submit`: versions signed by partners, with the keys of real nodes.

Three nodes made by `tearline init` (each with its own Ed25519 key); the US node registers the
Mexican node as a peer, not the Canadian one. A partner signs a table for the origin and version the
US node's `show` prints.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tearline.audit.event import AuditEvent
from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.federation.equivalence import ACTION, SEQUENCE_RULE
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


def _shown(nodes: dict[str, Path]) -> dict[str, Any]:
    shown = tearline("equivalence", "show", "--data", nodes["USA"])
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.output))


def _sign(nodes: dict[str, Path], nation: str, table: Path, out: Path, replaces: int | None = None) -> Path:
    """The partner signs for the US node's origin and, unless told otherwise, the version in force there."""
    shown = _shown(nodes)
    version = shown["version"] if replaces is None else replaces
    signed = tearline("equivalence", "sign", table, "--data", nodes[nation], "--out", out,
                      "--for", shown["origin"], "--replaces", str(version))  # fmt: skip
    assert signed.exit_code == 0, signed.output
    return out


def _said(result: Any) -> str:
    """The command's output with the terminal's line wrapping undone."""
    return " ".join(result.output.split())


def _events(nodes: dict[str, Path], outcome: str) -> list[AuditEvent]:
    node = Node.open(nodes["USA"])
    try:
        with node.db.read() as session:
            page = search(session, Query(actor="node-admin", action=ACTION, outcome=outcome))
    finally:
        node.close()
    return [hit.event for hit in page.hits]


def _audit(nodes: dict[str, Path], outcome: str) -> list[list[str]]:
    return [list(event.objects) for event in _events(nodes, outcome)]


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


def test_show_names_what_partners_sign_for_and_sign_asks_for_it(nodes: dict[str, Path], tmp_path: Path) -> None:
    shown = _shown(nodes)
    assert shown["origin"] == "tearline.usa.us-demo-narc/log" and shown["version"] >= 1
    table = _table_file(tmp_path / "table.json", nodes, "MEX", "RESERVADA", 1)
    unbound = tearline("equivalence", "sign", table, "--data", nodes["MEX"])
    assert unbound.exit_code == 2
    assert "missing --for and --replaces" in _said(unbound)
    assert "--for ORIGIN --replaces VERSION" in _said(unbound) and "tearline equivalence show" in _said(unbound)
    half = tearline("equivalence", "sign", table, "--data", nodes["MEX"], "--for", shown["origin"])
    assert half.exit_code == 2 and "missing --replaces" in _said(half)


def test_a_replayed_signature_is_refused_and_the_refusal_audited(nodes: dict[str, Path], tmp_path: Path) -> None:
    relaxed = _table_file(tmp_path / "relaxed.json", nodes, "MEX", "SECRETA", 2)
    replaced = _shown(nodes)["version"]
    replayable = _sign(nodes, "MEX", relaxed, tmp_path / "relaxed.sig")
    done = tearline("equivalence", "submit", relaxed, "--data", nodes["USA"], "--signature", replayable)
    assert done.exit_code == 0, done.output
    strict = _table_file(tmp_path / "strict.json", nodes, "MEX", "SECRETA", 4)
    signed = _sign(nodes, "MEX", strict, tmp_path / "strict.sig")
    done = tearline("equivalence", "submit", strict, "--data", nodes["USA"], "--signature", signed)
    assert done.exit_code == 0, done.output
    in_force = _shown(nodes)["version"]

    replay = tearline("equivalence", "submit", relaxed, "--data", nodes["USA"], "--signature", replayable)
    assert replay.exit_code == 2
    assert "tearline.mex.mx-demo-fia/log" in _said(replay)
    assert f"signed to replace v{replaced}, but v{in_force} is in force: ask for a new signature" in _said(replay)
    assert _shown(nodes)["version"] == in_force
    assert SEQUENCE_RULE in [event.rule for event in _events(nodes, "denied")]


def test_a_signature_for_the_wrong_version_is_refused_and_for_the_right_one_accepted(
    nodes: dict[str, Path], tmp_path: Path
) -> None:
    table = _table_file(tmp_path / "table.json", nodes, "MEX", "CONFIDENCIAL", 2)
    in_force = _shown(nodes)["version"]
    wrong = _sign(nodes, "MEX", table, tmp_path / "wrong.sig", replaces=in_force + 1)
    refused = tearline("equivalence", "submit", table, "--data", nodes["USA"], "--signature", wrong)
    assert refused.exit_code == 2
    assert f"signed to replace v{in_force + 1}, but v{in_force} is in force" in _said(refused)

    right = _sign(nodes, "MEX", table, tmp_path / "right.sig")
    done = tearline("equivalence", "submit", table, "--data", nodes["USA"], "--signature", right)
    assert done.exit_code == 0, done.output
    assert f"version {in_force + 1} in force, signed by MEX" in _said(done)
