"""The release record holds the determination (DESIGN §3.5): under the two-person rule, every
approver's own words, on the record, in what the partner receives over loopback, and in the audit.
The record kept only the last approver's text: dan's determination went out as dora's "Concur."."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.federation_tables import ReceivedRelease
from tearline.db.release_tables import OutboxMessage, Release
from tearline.federation import courier
from tearline.markings.release import Recipient
from tearline.release import workflow
from tests.federation.support import Pair
from tests.release.support import p

DAN = "No threat to national security; shared for interdiction."
DORA = "Concur."
BOTH = f"dan.disclosure: {DAN}\ndora.disclosure: {DORA}"


def _released(pair: Pair) -> tuple[int, str]:
    request = workflow.RequestIn(
        pair.demo.reports["convoy"],
        Recipient("MEX", "MX-DEMO-FIA"),
        "Interdiction at Jiménez",
        "FIA analysts on the Highway 49 corridor",
        clock.now() + timedelta(days=30),
    )
    with pair.us.db.write() as session:
        request_id = workflow.request_release(session, pair.us, p(session, "ana.analyst"), request).id
    with pair.us.db.write() as session:
        assert workflow.approve(session, pair.us, p(session, "dan.disclosure"), request_id, DAN) is None
    with pair.us.db.write() as session:
        release = workflow.approve(session, pair.us, p(session, "dora.disclosure"), request_id, DORA)
        assert release is not None
        return request_id, release.id


def test_every_approvers_determination_is_on_the_record_at_the_partner_and_in_the_audit(pair: Pair) -> None:
    request_id, release_id = _released(pair)
    with pair.us.db.read() as session:
        record = session.get(Release, release_id)
        assert record is not None and record.determination == BOTH
        assert record.approvers == ["dan.disclosure", "dora.disclosure"]
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None and message.payload["release"]["determination"] == BOTH

    done = courier.push_pending(pair.us)
    assert (done.pushed, done.failed, done.refused) == (1, 0, 0), done.errors
    with pair.mex.db.read() as session:
        received = session.get(ReceivedRelease, release_id)
        assert received is not None and received.record["determination"] == BOTH

    with pair.us.db.read() as session:
        (disseminated,) = search(session, Query(object_id=release_id, action="release.disseminate")).hits
        approvals = search(session, Query(object_id=f"release-request:{request_id}", action="release.approve")).hits
    assert disseminated.event.detail == {
        "determinations": [
            {"approver": "dan.disclosure", "determination": DAN},
            {"approver": "dora.disclosure", "determination": DORA},
        ]
    }
    assert [(h.event.actor, h.event.detail) for h in approvals] == [
        ("dan.disclosure@US-DEMO-NARC", {"determination": DAN}),
        ("dora.disclosure@US-DEMO-NARC", {"determination": DORA}),
    ]
