"""An originator may grant consent for part of what was asked (DESIGN §3.5: a consent is scoped to
portion hashes). Before, a grant always covered every item the request named, so an officer who
could pass on the port but not the contact had to refuse both. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tearline import clock
from tearline.errors import InvalidInput, NotFound
from tearline.fixtures import build_demo
from tearline.markings.release import Withheld
from tearline.node import Node
from tearline.release import consents
from tearline.store.principals import add_principal
from tests.conftest import Templates
from tests.release.support import cheap_passwords, deliver, mex_node, p, release_convoy_to_mexico
from tests.release.test_consent import _ask, _outbox, _receive, _tearline


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


def _grant(us: Node, request_id: str, hashes: list[str] | None, officer: str = "dan.disclosure") -> None:
    with us.db.write() as session:
        consents.answer_consent(
            session, us, p(session, officer), request_id, True, clock.now() + timedelta(days=30), "", hashes
        )


def test_a_grant_for_part_of_the_request_frees_only_that_part(
    node: Node, mex: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    us = node
    report = deliver(us, release_convoy_to_mexico(us, build_demo(us)), mex)
    request = _ask(mex, report)
    asked = sorted(request["item_hashes"])
    assert len(asked) == 3
    with us.db.write() as session:
        consents.receive_consent_request(session, us, request)

    # An officer who may see none of the items decides nothing, and learns nothing of the request.
    with us.db.write() as session:
        add_principal(session, "dale.disclosure", "USA", "US-DEMO-NARC", "CUI", roles=["disclosure_officer"])
    with pytest.raises(NotFound, match="no consent request"):
        _grant(us, request["id"], None, officer="dale.disclosure")

    for bad, reason in (([], "at least one item"), ([asked[0], "f" * 64], "not asked for")):
        with pytest.raises(InvalidInput, match=reason) as refused:
            _grant(us, request["id"], bad)
        assert refused.value.problems[0].field == "item_hashes"
    assert _outbox(us, "consent-answer") == []  # nothing half done: no answer went out

    _grant(us, request["id"], [asked[1]])
    (answer,) = [m.payload for m in _outbox(us, "consent-answer")]
    assert answer["consent"]["item_hashes"] == [asked[1]]
    assert _receive(mex, answer, us.signing_key().public_key()) is not None

    freed = _tearline(mex, report)
    assert freed.kept_hashes == [asked[1]]
    still = {w.hash for w in freed.withheld if w.rule == Withheld.THIRD_PARTY}
    assert still == {asked[0], asked[2]}
