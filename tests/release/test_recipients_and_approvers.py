"""A release's recipient agency belongs to its recipient nation, and every approver passes 3.3 for
every item that finally leaves (DESIGN §3.5), not only for the tearline they saw when they approved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.db.release_tables import Release
from tearline.errors import Conflict, InvalidInput
from tearline.fixtures import VETTED_UNIT, Demo, build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.store import registry as reg
from tearline.store.principals import update_principal
from tests.release.support import DETERMINATION, p


def _request(node: Node, demo: Demo, recipient: Recipient) -> int:
    req = workflow.RequestIn(
        demo.reports["convoy"], recipient, "Interdiction at Jiménez", "FIA analysts on Highway 49",
        clock.now() + timedelta(days=30),
    )  # fmt: skip
    with node.db.write() as session:
        return workflow.request_release(session, node, p(session, "ana.analyst"), req).id


@pytest.mark.parametrize(
    ("agency", "says"),
    [("US-DEMO-NARC", "is an agency of USA, not of the recipient nation MEX"), ("NOPE", "unknown agency 'NOPE'")],
    ids=["our-own-agency-named-for-mexico", "an-unknown-agency"],
)
def test_a_recipient_agency_of_another_nation_or_none_is_refused(node: Node, agency: str, says: str) -> None:
    # Named for Mexico, a US agency that owns the vetted unit let its portion go to Mexico's node.
    demo = build_demo(node)
    with pytest.raises(InvalidInput) as refused:
        _request(node, demo, Recipient("MEX", agency))
    assert [(pr.field, says in pr.reason) for pr in refused.value.problems] == [("recipient.agency", True)]


def test_an_approval_for_a_tearline_that_has_since_grown_does_not_count(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo, Recipient("MEX", "MX-DEMO-FIA"))
    with node.db.write() as session:  # dan holds no vetted-unit clearance: its portion is withheld from his tearline
        assert workflow.approve(session, node, p(session, "dan.disclosure"), request_id, DETERMINATION) is None
    with node.db.write() as session:  # then FIA becomes an owner, and dora is read into the unit
        reg.add_compartment(session, VETTED_UNIT, ["US-DEMO-NARC", "MX-DEMO-FIA"], replace=True)
        update_principal(session, p(session, "dora.disclosure"), compartments=[VETTED_UNIT])
    with node.db.write() as session, pytest.raises(Conflict) as stale:
        workflow.approve(session, node, p(session, "dora.disclosure"), request_id, DETERMINATION)
    assert "the tearline changed since dan.disclosure approved" in stale.value.message
    with node.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Release)) == 0
