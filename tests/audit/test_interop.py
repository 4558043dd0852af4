"""An implementation we did not write accepts our checkpoints and proofs: the Go team's sumdb/note and
sumdb/tlog (golang.org/x/mod, from Debian's golang-golang-x-mod-dev, built with golang-go, offline).

And the other way round: tearline opens a checkpoint that Go signed, with the key string Go made.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tearline.audit import CosignatureSigner, MemoryTree, cosign_checkpoint, log, open_checkpoint, parse_verifier_key
from tearline.node import Node
from tests.audit.support import checkpoint, fill

SOURCE = Path(__file__).with_name("interop") / "main.go"
DEBIAN_PACKAGE = "golang-golang-x-mod-dev"
DEBIAN_DEFAULT = Path("/usr/share/gocode/src/golang.org/x/mod")


def _unavailable(reason: str) -> None:
    message = f"{reason}: install the Debian packages golang-go and {DEBIAN_PACKAGE} (scripts/setup.sh dev)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def x_mod_source() -> Path:
    """Where Debian's package put golang.org/x/mod (asked of dpkg, so no path is assumed)."""
    listing = subprocess.run(["dpkg", "-L", DEBIAN_PACKAGE], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/golang.org/x/mod/go.mod"):
            return Path(line).parent
    return DEBIAN_DEFAULT


@pytest.fixture(scope="session")
def go_checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the Go checker once per test process, offline, against the Debian source."""
    go = shutil.which("go")
    if go is None:
        _unavailable("the `go` command is missing")
    assert go is not None
    module = x_mod_source()
    if not (module / "sumdb" / "tlog" / "tlog.go").exists():
        _unavailable(f"golang.org/x/mod is not at {module}")
    work = tmp_path_factory.mktemp("go-interop")
    shutil.copy(SOURCE, work / "main.go")
    (work / "go.mod").write_text(
        "module tearline.test/interop\n\ngo 1.19\n\nrequire golang.org/x/mod v0.7.0\n\n"
        f"replace golang.org/x/mod => {module}\n"
    )
    env = os.environ | {
        "GOFLAGS": "-mod=mod",
        "GOPATH": str(work / "gopath"),
        "GOCACHE": str(work / "gocache"),
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    build = subprocess.run([go, "build", "-o", "interop", "."], cwd=work, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return work / "interop"


def run_go(binary: Path, request: dict[str, Any]) -> list[dict[str, Any]]:
    done = subprocess.run([str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def by_check(results: list[dict[str, Any]], check: str) -> list[dict[str, Any]]:
    return [r for r in results if r["check"] == check]


def test_go_accepts_our_checkpoints_and_proofs_and_rejects_forgeries(node: Node, go_checker: Path) -> None:
    empty = checkpoint(node).note
    fill(node, 30)
    old = checkpoint(node)
    fill(node, 17, start=30)
    signer = log.node_log_signer(node)
    with node.db.write() as session:
        proofs = [log.tlog_proof(session, signer, index).to_text() for index in (0, 1, 29, 30, 46)]
    new = checkpoint(node)
    # A witness cosignature is a key Go does not know: it must ignore it, not reject the note.
    cosigned = cosign_checkpoint(new.note, CosignatureSigner("tearline.mex.demo/witness", b"\x05" * 32))
    with node.db.read() as session:
        proof = [base64.b64encode(h).decode() for h in log.prove_consistency(session, 30, 47)]
        wrong = [base64.b64encode(h).decode() for h in log.prove_consistency(session, 29, 47)]
    forged_extra = proofs[2].replace("extra ey", "extra eZ", 1)
    request = {
        "vkey": log.verifier_key(node),
        "checkpoints": [empty, old.note, cosigned],
        "tlog_proofs": [*proofs, forged_extra],
        "consistency": [
            {"name": "30-47", "old": old.note, "new": cosigned, "proof": proof},
            {"name": "wrong", "old": old.note, "new": new.note, "proof": wrong},
        ],
    }
    results = run_go(go_checker, request)
    assert by_check(results, "vkey")[0]["ok"], results
    assert [(r["ok"], r.get("size", 0)) for r in by_check(results, "checkpoint")] == [(True, 0), (True, 30), (True, 47)]
    tlog = by_check(results, "tlog-proof")
    assert [r["ok"] for r in tlog] == [True, True, True, True, True, False], tlog
    assert [r.get("size", 0) for r in tlog[:5]] == [0, 1, 29, 30, 46]
    assert [r["ok"] for r in by_check(results, "consistency")] == [True, False]


def test_we_accept_a_checkpoint_that_go_signed(go_checker: Path) -> None:
    tree = MemoryTree()
    for i in range(5):
        tree.append(f"entry {i}".encode())
    origin = "go.example/log"
    body = f"{origin}\n5\n{base64.b64encode(tree.root()).decode()}\n"
    signed = by_check(run_go(go_checker, {"vkey": "", "sign_origin": origin, "sign_body": body}), "sign")[0]
    assert signed["ok"], signed
    vkey = parse_verifier_key(signed["vkey"])  # our key id computation must agree with Go's
    opened, _ = open_checkpoint(signed["note"], [vkey], origin)
    assert (opened.size, opened.root_hash) == (5, tree.root())
