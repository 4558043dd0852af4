"""A sender killed mid-delivery (issue 5 §8): `tearline deliver` is SIGKILLed at random moments
while it pushes to a partner; runs again until the outbox is empty. Every release arrives exactly
once, whole, and nothing arrives twice."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.db.federation_tables import Received, ReceivedRelease
from tearline.db.models import Report, ReportVersion
from tearline.db.release_tables import OutboxMessage
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.store.content import version_content
from tests.cli.support import TEARLINE, cli_env
from tests.conftest import Templates
from tests.federation.support import free_port, register_each_other, serving
from tests.release.support import cheap_passwords, mex_node, p

RELEASES = 10


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


def _release_precursor(us: Node, report: str) -> None:
    request = workflow.RequestIn(
        report, Recipient("MEX", "MX-DEMO-FIA"), "Manzanillo", "FIA port analysts", clock.now() + timedelta(days=9)
    )
    with us.db.write() as session:
        request_id = workflow.request_release(session, us, p(session, "ana.analyst"), request).id
    with us.db.write() as session:  # the two-person rule holds at every level
        assert workflow.approve(session, us, p(session, "dan.disclosure"), request_id, "No harm.") is None
    with us.db.write() as session:
        assert workflow.approve(session, us, p(session, "dora.disclosure"), request_id, "No harm.") is not None


def _pending(us: Node) -> int:
    with us.db.read() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) or 0


def _errors(us: Node) -> list[tuple[int, int, str | None]]:
    with us.db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None)))
        return [(m.id, m.attempts, m.last_error) for m in rows]


def test_killing_the_sender_at_random_moments_delivers_each_release_exactly_once(
    node: Node, mex: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    precursor = demo.reports["precursor"]
    rng = random.Random(7)
    kills = 0
    with serving(node) as us_url, serving(mex, free_port()) as mex_url:
        register_each_other(node, us_url, mex, mex_url)
        for _ in range(RELEASES):
            _release_precursor(node, precursor)
        for _ in range(40):
            waiting = _pending(node)
            if not waiting:
                break
            sender = subprocess.Popen([TEARLINE, "deliver", "--data", str(node.data_dir), "--no-pull"], env=cli_env())
            # Kill it mid-delivery: once it has delivered something, a random moment later.
            deadline = time.monotonic() + 60
            while sender.poll() is None and _pending(node) == waiting and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.25))
            if sender.poll() is None:
                sender.send_signal(signal.SIGKILL)
                kills += 1
            sender.wait()
        assert not _pending(node), f"the outbox did not empty: {_errors(node)}"
    assert kills >= 1, "no run was killed: the test did not test a crash"
    with mex.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Received)) == RELEASES
        assert session.scalar(select(func.count()).select_from(ReceivedRelease)) == RELEASES
        report_id = session.scalar(select(Report.id).where(Report.stix_id == precursor))
        versions = session.scalar(select(func.count()).where(ReportVersion.report_id == report_id))
        assert versions == RELEASES  # one version a release: none applied twice, none lost
        for number in range(1, RELEASES + 1):  # and each whole: its title and its one portion
            items = version_content(session, precursor, number).items
            assert sorted(i.kind for i in items) == ["portion", "title"]
