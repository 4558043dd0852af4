"""The third-party rule and consent across two nodes (DESIGN §3.5, §5 step 4).

The US node (the demo) releases the convoy report to Mexico's FIA; the release is delivered by
hand to a Mexican node, as the federation layer will deliver it. Mexico then wants to pass the
port contact on to Canada: the third-party rule holds it back until the US consents. The consent
request and its answers travel as outbox messages, carried here by hand.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from tearline import clock
from tearline.audit import log
from tearline.db.models import Grant
from tearline.db.release_tables import Consent, ConsentRequest, OutboxMessage, Release, ReleaseRecall
from tearline.errors import Conflict, Forbidden, InvalidInput
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient, Withheld
from tearline.node import Node
from tearline.release import consents, workflow
from tearline.release.tearline import Tearline, TearlineRefused
from tearline.store.content import version_content
from tests.conftest import Templates
from tests.release.support import DETERMINATION, cheap_passwords, deliver, mex_node, p, release_convoy_to_mexico

CANADA = Recipient("CAN", "CA-DEMO-BORDER")
PORT_CONTACT = "The network's buyer meets a contact at the port of Vancouver"
CONVOY = "Three tractor-trailers"


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


def _tearline(node: Node, report: str, recipient: Recipient = CANADA, allow_empty: bool = True) -> Tearline:
    with node.db.read() as session:
        content = version_content(session, report)
        return workflow.tearline_of(session, node, content, recipient, allow_empty=allow_empty)


def _outbox(node: Node, kind: str) -> list[OutboxMessage]:
    with node.db.read() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


def _ask(mex: Node, report: str) -> dict[str, Any]:
    """Mexico's officer asks the originators of what the third-party rule withholds; returns the message."""
    with mex.db.write() as session:
        content = version_content(session, report)
        tearline = workflow.tearline_of(session, mex, content, CANADA, allow_empty=True)
        origin = {i.hash: (i.marking.originator_nation, i.marking.originator_agency) for i in content.items}
        (row,) = consents.request_consent(
            session, mex, p(session, "lucia.divulgacion"), tearline, origin, "Canada's border agency works the port"
        )
        request_id = row.id
    (message,) = [m for m in _outbox(mex, "consent-request") if m.payload["id"] == request_id]
    assert message.destination == "USA"
    return message.payload


def _answer_on_us(
    us: Node, request: dict[str, Any], grant: bool, note: str = ""
) -> tuple[Consent | None, dict[str, Any]]:
    with us.db.write() as session:
        consents.receive_consent_request(session, us, request)
    with us.db.write() as session:
        expires = clock.now() + timedelta(days=30) if grant else None
        consent = consents.answer_consent(
            session, us, p(session, "dan.disclosure"), request["id"], grant, expires, note
        )
        if consent is not None:
            session.expunge(consent)
    (answer,) = [m for m in _outbox(us, "consent-answer") if m.payload["request"] == request["id"]]
    assert answer.destination == "MEX"
    return consent, answer.payload


def _receive(mex: Node, message: dict[str, Any], key: Any) -> Consent | None:
    with mex.db.write() as session:
        consent = consents.receive_consent_answer(session, mex, message, key)
        if consent is not None:
            session.expunge(consent)
        return consent


def _request(mex: Node, report: str, days: int) -> int:
    req = workflow.RequestIn(
        report, CANADA, "Port of Vancouver contact", "CBSA officers at the port", clock.now() + timedelta(days=days)
    )
    with mex.db.write() as session:
        return workflow.request_release(session, mex, p(session, "mateo.enlace"), req).id


def _approve(mex: Node, who: str, request_id: int) -> Release | None:
    with mex.db.write() as session:
        release = workflow.approve(session, mex, p(session, who), request_id, DETERMINATION)
        if release is not None:
            session.expunge(release)
        return release


def _audit_actions(node: Node) -> list[str]:
    with node.db.read() as session:
        return [json.loads(leaf.data)["action"] for leaf in log.read_leaves(session, 0, log.log_size(session))]


def test_third_party_items_leave_mexico_for_canada_only_under_a_us_consent(
    node: Node, mex: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    us = node
    demo = build_demo(us)
    us_release = release_convoy_to_mexico(us, demo)
    report = deliver(us, us_release, mex)

    # Mexico's tearline for Canada: the US items that Canada's marking would allow are held back by the
    # third-party rule; the rest is not releasable to Canada at all. Nothing may go, so it is refused.
    with pytest.raises(TearlineRefused, match="nothing of this report may go to CAN/CA-DEMO-BORDER"):
        _tearline(mex, report, allow_empty=False)
    blocked = _tearline(mex, report)
    third_party = {w.hash for w in blocked.withheld if w.rule == Withheld.THIRD_PARTY}
    with mex.db.read() as session:
        items = version_content(session, report).items
    for_canada = {i.hash for i in items if "CAN" in i.marking.rel_to}
    assert third_party == for_canada and len(third_party) == 3  # the port contact, the buyer, the port
    assert {w.rule for w in blocked.withheld if w.hash not in third_party} == {Withheld.NOT_RELEASABLE}
    assert all(i.marking.originator_nation == "USA" for i in items)

    # A request may wait for consent (what a consent could free); approving it now is still refused.
    short = _request(mex, report, days=20)
    long = _request(mex, report, days=60)
    with pytest.raises(TearlineRefused):
        _approve(mex, "lucia.divulgacion", short)

    # First request: the US officer refuses. The answer says "refused" and nothing else.
    request = _ask(mex, report)
    assert request["grantor"] == {"nation": "USA", "agency": "US-DEMO-NARC"}
    assert sorted(request["item_hashes"]) == sorted(third_party)
    assert request["recipient"] == {"nation": "CAN", "agency": "CA-DEMO-BORDER"}
    consent, refusal = _answer_on_us(us, request, grant=False, note="The Vancouver source is still in place.")
    assert consent is None
    assert refusal == {"request": request["id"], "answer": "refused"}
    text = json.dumps(refusal)
    for detail in ("USA", "US-DEMO-NARC", "Vancouver", "source", *third_party):
        assert detail not in text
    us_public = us.signing_key().public_key()
    assert _receive(mex, refusal, us_public) is None
    with mex.db.read() as session:
        assert session.get(ConsentRequest, request["id"]).state == "refused"  # type: ignore[union-attr]
    assert {w.hash for w in _tearline(mex, report).withheld if w.rule == Withheld.THIRD_PARTY} == third_party

    # Second request: granted for 30 days, signed by the US node's key.
    request = _ask(mex, report)
    granted, answer = _answer_on_us(us, request, grant=True)
    assert granted is not None and answer["answer"] == "granted"
    body, signature = answer["consent"], base64.b64decode(answer["signature"])
    us_public.verify(signature, consents.canonical(body))  # raises if not the US node's signature
    assert body["grantor"] == {"nation": "USA", "agency": "US-DEMO-NARC"}
    assert body["recipient"] == {"nation": "CAN", "agency": "CA-DEMO-BORDER"}
    assert sorted(body["item_hashes"]) == sorted(third_party)
    expiry = clock.parse_timestamp(body["expires_at"])
    assert timedelta(days=29, hours=23) < expiry - clock.now() <= timedelta(days=30)

    # A consent that the US node did not sign is refused, and nothing of it is stored.
    stretched = {**answer, "consent": {**body, "expires_at": (expiry + timedelta(days=335)).isoformat()}}
    impostor = Ed25519PrivateKey.generate()
    forged = {**answer, "signature": base64.b64encode(impostor.sign(consents.canonical(body))).decode()}
    for bad, key in ((stretched, us_public), (forged, us_public), (answer, mex.signing_key().public_key())):
        with pytest.raises(Forbidden) as refused:
            _receive(mex, bad, key)
        assert refused.value.rule == "consent-signature"
    with mex.db.read() as session:
        assert session.scalars(select(Consent)).all() == []

    stored = _receive(mex, answer, us_public)
    assert stored is not None and stored.id == body["id"]
    with pytest.raises(Conflict, match="already answered"):  # a second answer to the same request
        _receive(mex, answer, us_public)

    # Now the tearline for Canada keeps what the consent covers, and only that.
    freed = _tearline(mex, report, allow_empty=False)
    assert set(freed.kept_hashes) == third_party
    assert next(k.text for k in freed.kept if k.kind == "portion").startswith(PORT_CONTACT)
    assert [k.number for k in freed.kept if k.kind == "portion"] == [1]
    assert freed.banner == "SECRETA//REL TO MEX, CAN, USA"
    assert {c.origin_id for c in freed.consents_used} == {stored.id}
    # The consent names Canada's border agency: Canada without an agency is not covered.
    assert _tearline(mex, report, Recipient("CAN")).empty

    # A release may not outlive the consents it uses: refused when asked for, and at dissemination.
    with pytest.raises(InvalidInput) as too_long:
        _request(mex, report, days=45)
    assert [pr.field for pr in too_long.value.problems] == ["expires_at"]
    assert _approve(mex, "lucia.divulgacion", long) is None
    with pytest.raises(InvalidInput) as too_long:
        _approve(mex, "rafael.divulgacion", long)
    assert [pr.field for pr in too_long.value.problems] == ["expires_at"]
    with mex.db.read() as session:
        assert session.scalars(select(Release)).all() == []

    assert _approve(mex, "lucia.divulgacion", short) is None
    mx_release = _approve(mex, "rafael.divulgacion", short)
    assert mx_release is not None
    assert mx_release.consents_used == [stored.id]
    assert sorted(mx_release.kept_hashes) == sorted(third_party)
    assert clock.as_utc(mx_release.expires_at) <= expiry
    (sent,) = _outbox(mex, "release")
    assert sent.destination == "CAN"
    bundle = json.dumps(sent.payload["bundle"], ensure_ascii=False)
    assert PORT_CONTACT in bundle and CONVOY not in bundle and "Aurelio Quintanar" not in bundle

    # The US revokes the consent: the Mexican release that used it is recalled, and Canada is told.
    with mex.db.write() as session:
        recalled = consents.revoke_consent(session, mex, stored.id, by="USA/US-DEMO-NARC")
    assert recalled == [mx_release.id]
    with mex.db.read() as session:
        assert session.get(ReleaseRecall, mx_release.id) is not None
        live = session.scalars(
            select(Grant).where(Grant.origin_id.in_([mx_release.id, stored.id]), Grant.recalled_at.is_(None))
        ).all()
        assert live == []
    (recall,) = _outbox(mex, "recall")
    assert recall.destination == "CAN" and recall.payload["release"] == mx_release.id
    assert {"consent.request", "consent.revoke", "release.recall", "release.disseminate"} <= set(_audit_actions(mex))
    assert {w.hash for w in _tearline(mex, report).withheld if w.rule == Withheld.THIRD_PARTY} == third_party

    # The US recalls its own release to Mexico: the received items stop being live, and none may leave.
    with us.db.write() as session:
        workflow.recall(session, us, p(session, "dan.disclosure"), us_release.id, "Source compromised")
    with mex.db.write() as session:  # what federation will do when the recall arrives
        session.execute(update(Grant).where(Grant.origin_id == us_release.id).values(recalled_at=clock.now()))
    assert {w.rule for w in _tearline(mex, report).withheld} == {Withheld.NOT_LIVE}
