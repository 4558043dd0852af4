"""`tearline peer add|list|token` and `tearline deliver`, run as the real executable."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.cli.support import free_port, run, serving

TAXII = "application/taxii+json;version=2.1"


def _node(tmp_path: Path, name: str, nation: str, agency: str) -> tuple[Path, str]:
    data = tmp_path / name
    assert run("init", "--data", data, "--nation", nation, "--agency", agency).returncode == 0
    vkey = run("audit", "vkey", "--data", data)
    assert vkey.returncode == 0, vkey.stderr
    return data, vkey.stdout.strip()


def test_peer_add_registers_a_partner_whose_token_reads_only_its_feed_and_inbox(tmp_path: Path) -> None:
    usa, _ = _node(tmp_path, "usa", "USA", "US-DEMO-NARC")
    _, mex_vkey = _node(tmp_path, "mex", "MEX", "MX-DEMO-FIA")
    added = run(
        "peer", "add", "--data", usa, "--nation", "MEX", "--agency", "MX-DEMO-FIA",
        "--url", "http://127.0.0.1:9", "--vkey", mex_vkey, "--print-token",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert re.fullmatch(r"tl_[A-Za-z0-9_-]{20,}", token)
    listed = run("peer", "list", "--data", usa)
    assert "MEX" in listed.stdout and "MX-DEMO-FIA" in listed.stdout
    assert re.fullmatch(r"tl_[A-Za-z0-9_-]{20,}", run("peer", "token", "MEX", "--data", usa).stdout.strip())

    port = free_port()
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    with serving(["serve", "--data", str(usa), "--port", str(port)], port, tmp_path / "logs") as server:
        root = httpx.get(f"{server.url}/taxii2/tearline/collections/", headers=headers, timeout=10)
        assert root.status_code == 200, root.text
        titles = sorted(c["title"] for c in root.json()["collections"])
        assert len(titles) == 2 and titles[0].startswith("Inbox of") and titles[1].startswith("Released by")
        assert not any("Holdings" in t for t in titles)  # a partner never reads our holdings as such

    delivered = run("deliver", "--data", usa)
    assert delivered.returncode == 0, delivered.stderr
    assert "pushed 0" in delivered.stdout


def test_peer_add_refuses_bad_input_naming_the_field(tmp_path: Path) -> None:
    usa, usa_vkey = _node(tmp_path, "usa", "USA", "US-DEMO-NARC")
    _, mex_vkey = _node(tmp_path, "mex", "MEX", "MX-DEMO-FIA")
    base = ["peer", "add", "--data", str(usa), "--agency", "MX-DEMO-FIA"]
    cases = [
        (["--nation", "MEX", "--url", "http://127.0.0.1:9", "--vkey", "not-a-key"], "vkey"),
        (["--nation", "MEX", "--url", "ftp://mex.example", "--vkey", mex_vkey], "url"),
        (["--nation", "XYZ", "--url", "http://127.0.0.1:9", "--vkey", mex_vkey], "nation"),
        (["--nation", "USA", "--url", "http://127.0.0.1:9", "--vkey", usa_vkey], "nation"),
    ]
    for args, field in cases:
        refused = run(*base, *args)
        assert refused.returncode == 2, (args, refused.stdout)
        assert f"{field}:" in refused.stderr, refused.stderr
    assert run(*base, "--nation", "MEX", "--url", "http://127.0.0.1:9", "--vkey", mex_vkey).returncode == 0
    again = run(*base, "--nation", "MEX", "--url", "http://127.0.0.1:9", "--vkey", mex_vkey)
    assert again.returncode == 2 and "already registered" in again.stderr
