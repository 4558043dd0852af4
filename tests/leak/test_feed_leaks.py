"""The leak harness over a partner's feed: random releases to Mexico and Canada, some recalled,
some expired. Each partner's TAXII feed serves exactly the objects of its live units (and the
messages sent to it), each object once, and nothing of a unit sealed for another partner alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tearline import clock
from tearline.audit.keys import generate_key
from tearline.db.release_tables import OutboxMessage, Release, ReleaseRecall
from tearline.federation.collections import partner_collections
from tearline.federation.feed import unit_for
from tearline.federation.peers import add_peer, peer_username
from tearline.federation.seal import digest, seal_definition
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.release.tearline import TearlineRefused
from tearline.store.federation import principal_named
from tearline.taxii.collections import Caller, Filters
from tests.conftest import NodeFactory
from tests.leak.test_leak_harness import NOW
from tests.release.support import cheap_passwords, p

AGENCY = {"MEX": "MX-DEMO-FIA", "CAN": "CA-DEMO-BORDER"}
Op = tuple[str, str, bool, bool]  # report, recipient nation, recalled, short expiry
ops = st.lists(
    st.tuples(st.sampled_from(["convoy", "precursor"]), st.sampled_from(["MEX", "CAN"]), st.booleans(), st.booleans()),
    min_size=1,
    max_size=4,
)


def _release(node: Node, report: str, nation: str, short: bool) -> Release | None:
    days = 5 if short else 60
    request = workflow.RequestIn(report, Recipient(nation, AGENCY[nation]), "Purpose", "Need", NOW + timedelta(days))
    try:
        with node.db.write() as session:
            request_id = workflow.request_release(session, node, p(session, "ana.analyst"), request).id
    except TearlineRefused:
        return None
    for officer in ("dan.disclosure", "dora.disclosure"):
        with node.db.write() as session:
            release = workflow.approve(session, node, p(session, officer), request_id, "No harm.")
            if release is not None:
                session.expunge(release)
                return release
    return None


def _served(node: Node, nation: str) -> list[dict[str, Any]]:
    with node.db.read() as session:
        principal = principal_named(session, peer_username(nation))
        assert principal is not None
        session.expunge(principal)
    caller = Caller(node, principal, node.reader(principal))
    with node.db.read() as session:
        feed = next(c for c in partner_collections(session, caller) if c.can_read)
        objects, after = [], None
        while True:
            page = feed.page(session, caller, Filters(versions=("all",)), 7, after)
            objects += [o.body for o in page.objects]
            if not page.more:
                return objects
            after = page.next


def _expected(node: Node, nation: str) -> set[tuple[str, str]]:
    want: set[tuple[str, str]] = set()
    with node.db.read() as session:
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.destination == nation)):
            # The seal's definition came with the partner's first unit, and no recall takes it away.
            want.add((str(seal_definition()["id"]), digest(seal_definition())))
            if message.kind == "release":
                release = session.get(Release, message.payload["release"]["id"])
                assert release is not None
                if session.get(ReleaseRecall, release.id) or clock.as_utc(release.expires_at) <= clock.now():
                    continue
            unit = unit_for(node, message)
            want |= {(str(o["id"]), digest(o)) for o in [*unit.objects, unit.seal]}
    return want


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_each_partner_reads_exactly_its_live_units(
    make_node: NodeFactory, monkeypatch: pytest.MonkeyPatch, steps: list[Op]
) -> None:
    cheap_passwords(monkeypatch)
    with clock.frozen_at(NOW):
        node = make_node()
        demo = build_demo(node)
        with node.db.write() as session:
            for nation, agency in AGENCY.items():
                add_peer(session, node, nation, agency, f"https://{nation.lower()}.example", generate_key("k")[1])
        for report, nation, recalled, short in steps:
            release = _release(node, demo.reports[report], nation, short)
            if release is not None and recalled:
                with node.db.write() as session:
                    workflow.recall(session, node, p(session, "dan.disclosure"), release.id, "Recalled.")
    with clock.frozen_at(NOW + timedelta(days=10)):  # the short releases have expired
        for nation in AGENCY:
            served = _served(node, nation)
            keys = [(str(o["id"]), digest(o)) for o in served]
            assert len(keys) == len(set(keys)), "an object version served twice"
            assert set(keys) == _expected(node, nation), nation
