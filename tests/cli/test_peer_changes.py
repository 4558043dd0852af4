"""`tearline peer set` and `tearline peer revoke-tokens`: a partner that moves, rotates its key or
leaks a token is handled without re-registering it, and each change is logged with its old and
new values. Before, a registered peer's URL and key could not be changed at all.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tearline.audit.keys import generate_key
from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.db.audit_tables import AuditWitnessedLog
from tearline.db.federation_tables import Peer
from tearline.node import Node
from tearline.web.app import create_app

RUNNER = CliRunner()
TAXII = "application/taxii+json;version=2.1"


def _run(node: Node, *args: str) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)])


def _mex_key(name: str = "mx-demo-fia.example/log") -> str:
    return generate_key(name)[1]


def _add_mexico(node: Node, vkey: str) -> str:
    added = _run(node, "peer", "add", "--nation", "MEX", "--agency", "MX-DEMO-FIA", "--url", "http://127.0.0.1:9",
                 "--vkey", vkey, "--print-token")  # fmt: skip
    assert added.exit_code == 0, added.output
    return added.stdout.strip()


def _peer(node: Node) -> Peer:
    with node.db.read() as session:
        peer = session.get(Peer, "MEX")
        assert peer is not None
        session.expunge(peer)
        return peer


def _logged(node: Node, action: str) -> list[dict[str, object]]:
    with node.db.read() as session:
        hits = search(session, Query(object_id="MEX", action=action)).hits
    return [dict(hit.event.detail or {}) for hit in hits]


def test_a_partner_moves_to_a_new_url_and_the_change_is_logged(node: Node) -> None:
    _add_mexico(node, _mex_key())
    moved = _run(node, "peer", "set", "mex", "--url", "https://fia.example.mx/")
    assert moved.exit_code == 0, moved.output
    assert _peer(node).url == "https://fia.example.mx"
    assert _logged(node, "peer.update") == [{"url": ["http://127.0.0.1:9", "https://fia.example.mx"]}]

    bad = _run(node, "peer", "set", "MEX", "--url", "ftp://fia.example.mx")
    assert bad.exit_code == 2 and "url:" in bad.output
    assert _peer(node).url == "https://fia.example.mx"
    nothing = _run(node, "peer", "set", "MEX")
    assert nothing.exit_code == 2 and "--url" in nothing.output


def test_a_rotated_key_is_trusted_only_with_replace_key_and_keeps_the_witnessed_state(node: Node) -> None:
    old, new = _mex_key(), _mex_key()
    _add_mexico(node, old)
    refused = _run(node, "peer", "set", "MEX", "--vkey", new)
    assert refused.exit_code == 2 and "--replace-key" in refused.output
    assert _peer(node).vkey == old
    assert _run(node, "peer", "set", "MEX", "--vkey", "not-a-key", "--replace-key").exit_code == 2

    rotated = _run(node, "peer", "set", "MEX", "--vkey", new, "--replace-key")
    assert rotated.exit_code == 0, rotated.output
    assert _peer(node).vkey == new
    with node.db.read() as session:
        witnessed = session.scalars(select(AuditWitnessedLog)).all()
    assert [(w.origin, w.vkey) for w in witnessed] == [("mx-demo-fia.example/log", new)]
    assert _logged(node, "peer.update") == [{"vkey": [old, new]}]


def test_revoking_a_partners_tokens_shuts_its_taxii_clients_out(node: Node) -> None:
    token = _add_mexico(node, _mex_key())
    client = TestClient(create_app(node))
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
    assert client.get("/taxii2/tearline/collections/", headers=headers).status_code == 200
    revoked = _run(node, "peer", "revoke-tokens", "MEX")
    assert revoked.exit_code == 0 and "1 token(s) revoked" in revoked.output
    assert client.get("/taxii2/tearline/collections/", headers=headers).status_code == 401
    assert _logged(node, "peer.revoke-tokens") == [{"revoked": 1}]
    assert _run(node, "peer", "revoke-tokens", "CAN").exit_code == 2  # no such peer: a clear refusal
