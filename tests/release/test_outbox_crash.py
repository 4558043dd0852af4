"""Kill -9 a releasing writer at random points, at least 30 times: no partial release, none lost.

A supervisor process (outbox_crash_worker.py) forks a writer that requests and approves releases
in a loop, and SIGKILLs it at random moments, restarting it each time. The writer acknowledges a
release only after the approving transaction committed. Afterwards (DESIGN §3.5, issue 4 item 5):
- every acknowledged release exists;
- every release is complete: its request is disseminated with two approvals, its grants cover
  exactly its kept hashes, its outbox message carries it, and its audit entry names it;
- nothing exists without its release: no grant, outbox message or disseminated request;
- the audit log verifies, and the node goes on releasing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tearline.audit import log
from tearline.db.models import Grant
from tearline.db.release_tables import OutboxMessage, Release, ReleaseApproval, ReleaseRequest
from tearline.fixtures import build_demo
from tearline.node import Node
from tests.release.support import cheap_passwords, release_convoy_to_mexico

SUPERVISOR = Path(__file__).with_name("outbox_crash_worker.py")
KILLS = 48


def test_a_killed_approval_leaves_no_release_or_a_complete_one(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    run = subprocess.run(
        [sys.executable, str(SUPERVISOR), str(node.data_dir), str(KILLS), "20260405"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout)
    acked = set(outcome["acked"])
    assert outcome["kills"] >= 30
    assert len(acked) >= 15, "the writer was killed before it could release much: the test proves little"

    with node.db.read() as session:
        releases = {r.id: r for r in session.scalars(select(Release))}
        requests = {r.id: r for r in session.scalars(select(ReleaseRequest))}
        approvals = Counter(a.request_id for a in session.scalars(select(ReleaseApproval)))
        grants: dict[str, list[str]] = {}
        for grant in session.scalars(select(Grant).where(Grant.kind == "release")):
            grants.setdefault(grant.origin_id or "", []).append(grant.item_hash or "")
        messages = Counter(
            m.payload["release"]["id"] for m in session.scalars(select(OutboxMessage)) if m.kind == "release"
        )
        leaves = {
            r.id: json.loads(log.read_leaf(session, r.audit_index).data)
            for r in releases.values()
            if r.audit_index is not None
        }
        report = log.verify_log(session, log.verifier_key(node))

    missing = sorted(acked - releases.keys())
    assert missing == [], f"acknowledged releases lost: {missing[:10]}"
    assert len(releases) >= len(acked)
    for release_id, release in releases.items():
        assert sorted(grants.get(release_id, [])) == sorted(release.kept_hashes), release_id
        assert messages[release_id] == 1, release_id
        leaf = leaves.get(release_id)
        assert leaf is not None and leaf["action"] == "release.disseminate" and release_id in leaf["objects"], (
            release_id
        )
        request = requests[release.request_id]
        assert request.state == "disseminated" and approvals[request.id] == 2, release_id
    assert set(grants) <= releases.keys(), "grants without their release"
    assert set(messages) <= releases.keys(), "outbox messages without their release"
    disseminated = {r.id for r in requests.values() if r.state == "disseminated"}
    assert disseminated == {r.request_id for r in releases.values()}
    assert all(r.state == "requested" and approvals[r.id] <= 1 for r in requests.values() if r.id not in disseminated)
    assert report.size >= len(releases)
    in_flight = [r for r in requests.values() if r.id not in disseminated and approvals[r.id] == 1]
    assert len(in_flight) >= 3, "too few kills fell between a first approval and the commit of the release"

    # The node goes on: a release after the crashes is complete too.
    after = release_convoy_to_mexico(node, demo)
    with node.db.read() as session:
        assert session.get(Release, after.id) is not None
        assert len(session.scalars(select(Grant).where(Grant.origin_id == after.id)).all()) == len(after.kept_hashes)
