"""Every object of both feeds passes stix2-validator: a release, a consent request and its answer,
and a recall. A message seal covers no object, and its `object_digests` was an empty list, which
STIX 2.1 does not allow. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tearline import clock
from tearline.db.federation_tables import FeedObject
from tearline.federation import courier
from tearline.federation.seal import SEAL_TYPE
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import consents, workflow
from tearline.store.content import version_content
from tests.federation.support import Pair
from tests.release.support import p, release_convoy_to_mexico
from tests.taxii.support import assert_valid_stix

CANADA = Recipient("CAN", "CA-DEMO-BORDER")


def _feed(node: Node) -> list[dict[str, Any]]:
    with node.db.read() as session:
        return [dict(b) for b in session.scalars(select(FeedObject.body).order_by(FeedObject.id))]


def _ask_consent_on_mex(pair: Pair, report: str) -> str:
    with pair.mex.db.write() as session:
        content = version_content(session, report)
        tearline = workflow.tearline_of(session, pair.mex, content, CANADA, allow_empty=True)
        origin = {i.hash: (i.marking.originator_nation, i.marking.originator_agency) for i in content.items}
        officer = p(session, "lucia.divulgacion")
        (row,) = consents.request_consent(session, pair.mex, officer, tearline, origin, "Canada works the port")
        return row.id


def test_every_object_of_a_feed_with_messages_is_valid_stix(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    assert courier.push_pending(pair.us).pushed == 1
    request = _ask_consent_on_mex(pair, release.report_stix_id)
    assert courier.push_pending(pair.mex).pushed == 1
    with pair.us.db.write() as session:
        officer = p(session, "dan.disclosure")
        consents.answer_consent(session, pair.us, officer, request, True, clock.now() + timedelta(days=30))
    with pair.us.db.write() as session:
        workflow.recall(session, pair.us, p(session, "dan.disclosure"), release.id, "Source compromised.")
    done = courier.push_pending(pair.us)
    assert (done.pushed, done.refused, done.failed) == (2, 0, 0), done.errors  # both messages taken whole

    us_feed, mex_feed = _feed(pair.us), _feed(pair.mex)
    kinds = sorted(o["kind"] for o in us_feed + mex_feed if o["type"] == SEAL_TYPE)
    assert kinds == ["consent-answer", "consent-request", "recall", "release"]
    assert_valid_stix(us_feed + mex_feed)
