"""A partner's record passed on under consent carries only what the consent covers.

A consent covers item hashes (DESIGN §3.5). The record's own fields, its criminal predicate and
review date, are unmarked text of the originator: Mexico passing the US port contact to Canada
had sent the US predicate ("Reasonable suspicion of ...") and review date along with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tearline import clock
from tearline.db.release_tables import Release
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release.outbox import tearline_view
from tearline.release.workflow import tearline_of
from tearline.store.content import version_content
from tests.conftest import Templates
from tests.release.support import deliver, mex_node, release_convoy_to_mexico


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


def test_a_partners_predicate_and_review_date_stay_behind_and_our_own_go(node: Node, mex: Node) -> None:
    demo = build_demo(node)
    report = deliver(node, release_convoy_to_mexico(node, demo), mex)
    with node.db.read() as session:
        ours = version_content(session, demo.reports["convoy"])
        to_mexico = tearline_of(session, node, ours, Recipient("MEX", "MX-DEMO-FIA"))
    assert (to_mexico.predicate, to_mexico.review_due) == (ours.predicate, ours.review_due)

    with mex.db.read() as session:
        received = version_content(session, report)
        onward = tearline_of(session, mex, received, Recipient("CAN", "CA-DEMO-BORDER"), allow_empty=True)
    assert received.predicate == ours.predicate  # Mexico holds the US predicate itself
    assert (onward.predicate, onward.review_due) == ("", None)

    expires = clock.now() + timedelta(days=20)
    release = Release(purpose="Port of Vancouver interdiction", need_to_know="CBSA targeting", expires_at=expires)
    sent = tearline_view(onward, release, "MEX/MX-DEMO-FIA")
    assert ours.predicate not in sent.predicate
    assert sent.predicate.startswith("Criminal predicate recorded by the originator of this record")
    assert "MEX/MX-DEMO-FIA" in sent.predicate and "Port of Vancouver interdiction" in sent.predicate
    assert sent.review_due == expires
