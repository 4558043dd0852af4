"""Delivery between two real nodes over HTTP on loopback (DESIGN §5 step 2, issue 5 §3, §4, §8).

The US node approves a release to Mexico; the courier pushes the sealed unit to Mexico's inbox;
Mexico checks it and stores it with its provenance. Pull is the fallback. A partner that is down
gets everything once it is back, exactly once; tampered or unsigned units are refused whole.
"""

from __future__ import annotations

import copy
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from tearline import clock
from tearline.db.audit_tables import AuditLeaf
from tearline.db.federation_tables import Received, ReceivedRelease
from tearline.db.models import Report
from tearline.db.release_tables import OutboxMessage
from tearline.errors import NotFound
from tearline.federation import courier
from tearline.federation.auth import NodeAuth
from tearline.federation.collections import inbox_id
from tearline.federation.feed import unit_for
from tearline.federation.seal import seal_unit
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.stix.encode import bundle_for
from tearline.store.content import version_content
from tearline.store.principals import set_password
from tearline.store.reader_versions import report_view
from tests.conftest import Templates
from tests.federation.support import Pair, free_port, holds, register_each_other, serving
from tests.release.support import cheap_passwords, mex_node, p, release_convoy_to_mexico

CONVOY = "Three tractor-trailers"


def _mateo_sees(mex: Node, report: str) -> str:
    with mex.db.read() as session:
        mateo = p(session, "mateo.enlace")
        session.expunge(mateo)
    reader = mex.reader(mateo)  # its audience is refreshed before the reading snapshot starts
    with mex.db.read() as session:
        view = report_view(session, reader, mex.table(session), report)
    return " ".join(portion.text for portion in view.portions)


def _count(node: Node, model: type, *where: object) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_an_approved_release_is_pushed_and_readable_at_the_partner_with_its_provenance(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    done = courier.push_pending(pair.us)
    assert (done.pushed, done.failed, done.refused) == (1, 0, 0), done.errors
    report = release.report_stix_id
    text = _mateo_sees(pair.mex, report)
    assert CONVOY in text
    assert "source" not in text.lower()  # the NOFORN source portion stayed home
    with pair.mex.db.read() as session:
        held = session.get(ReceivedRelease, release.id)
        assert held is not None
        assert (held.originator_nation, held.originator_agency, held.sender_nation) == ("USA", "US-DEMO-NARC", "USA")
        assert held.banner == release.banner
        assert session.scalar(select(Report.received).where(Report.stix_id == report)) is True
    with pair.us.db.read() as session:
        assert session.scalar(select(OutboxMessage.delivered_at).where(OutboxMessage.kind == "release")) is not None
    assert courier.push_pending(pair.us).pushed == 0  # nothing left to send


def test_a_recall_withdraws_the_partners_copy_on_every_read(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    courier.push_pending(pair.us)
    assert CONVOY in _mateo_sees(pair.mex, release.report_stix_id)
    with pair.us.db.write() as session:
        workflow.recall(session, pair.us, p(session, "dan.disclosure"), release.id, "The convoy was interdicted.")
    assert courier.push_pending(pair.us).pushed == 1
    with pytest.raises(NotFound):
        _mateo_sees(pair.mex, release.report_stix_id)
    with pair.mex.db.read() as session:
        assert session.get(ReceivedRelease, release.id).recalled_at is not None  # type: ignore[union-attr]


def _post(pair: Pair, objects: list[dict[str, object]], auth: httpx.Auth | None) -> httpx.Response:
    url = f"{pair.mex_url}/taxii2/tearline/collections/{inbox_id('MEX', 'MX-DEMO-FIA')}/objects/"
    media = "application/taxii+json;version=2.1"
    headers = {"Content-Type": media, "Accept": media}
    return httpx.post(url, json={"objects": objects}, headers=headers, auth=auth, timeout=10)


def test_tampered_unsigned_and_unknown_senders_are_refused_logged_and_nothing_is_stored(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    with pair.us.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        unit = unit_for(pair.us, message)
    signed_by_us = NodeAuth("USA", pair.us.signing_key())
    before = _count(pair.mex, AuditLeaf)

    tampered = copy.deepcopy(unit.objects)
    report = next(o for o in tampered if o["type"] == "report")
    report["name"] = "Nothing to see"
    answer = _post(pair, [*tampered, unit.seal], signed_by_us)
    assert answer.status_code == 202
    assert unit.seal["id"] in {f["id"] for f in answer.json()["failures"]}
    assert "does not match" in next(f["message"] for f in answer.json()["failures"] if f["id"] == unit.seal["id"])

    unsigned = {k: v for k, v in unit.seal.items() if k != "signature"}
    answer = _post(pair, [*unit.objects, unsigned], signed_by_us)
    assert unit.seal["id"] in {f["id"] for f in answer.json()["failures"]}

    assert _post(pair, [*unit.objects, unit.seal], None).status_code == 401
    stranger = NodeAuth("USA", Ed25519PrivateKey.generate())
    assert _post(pair, [*unit.objects, unit.seal], stranger).status_code == 401

    assert not holds(pair.mex, release.report_stix_id)
    assert _count(pair.mex, Received) == 0
    with pair.mex.db.read() as session:
        leaves = [bytes(row) for row in session.scalars(select(AuditLeaf.data).where(AuditLeaf.idx >= before))]
    refused = [leaf for leaf in leaves if b"federation.receive" in leaf and b"denied" in leaf]
    assert len(refused) == 2 and any(b"bad-digest" in leaf for leaf in refused)
    assert any(b"bad-signature" in leaf for leaf in refused)


def test_pull_is_the_fallback_and_applies_each_unit_once(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    done = courier.pull_all(pair.mex)
    assert done.pulled == 1, done.errors
    assert CONVOY in _mateo_sees(pair.mex, release.report_stix_id)
    assert courier.pull_all(pair.mex).pulled == 0
    assert courier.push_pending(pair.us).pushed == 1  # the late push is acknowledged, not applied again
    assert _count(pair.mex, Received) == 1
    assert _count(pair.mex, ReceivedRelease) == 1


def test_a_partner_down_for_a_while_gets_everything_exactly_once(
    node: Node, backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    mex = mex_node(backend, templates, tmp_path)
    mex_port = free_port()
    mex_url = f"http://127.0.0.1:{mex_port}"
    with serving(node) as us_url:
        register_each_other(node, us_url, mex, mex_url)
        release = release_convoy_to_mexico(node, demo)
        with node.db.write() as session:
            workflow.recall(session, node, p(session, "dan.disclosure"), release.id, "Interdicted.")
        down = courier.push_pending(node)  # Mexico is not listening
        assert (down.pushed, down.failed) == (0, 1)
        with node.db.read() as session:
            waiting = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert all(m.delivered_at is None for m in waiting)
        assert waiting[0].attempts == 1 and waiting[0].next_attempt_at is not None and waiting[0].last_error
        assert waiting[1].attempts == 0  # the recall waits behind its release
        with serving(mex, mex_port):
            assert courier.push_pending(node).pushed == 0  # still backing off: nothing is sent early
            time.sleep(courier.FIRST_BACKOFF_SECONDS + 0.1)
            back = courier.push_pending(node)
            again = courier.push_pending(node)
    assert (back.pushed, back.failed) == (2, 0)
    assert again.pushed == 0
    assert _count(mex, Received) == 2
    with mex.db.read() as session:
        assert session.get(ReceivedRelease, release.id).recalled_at is not None  # type: ignore[union-attr]
    mex.close()


def test_a_sender_that_dies_after_the_partner_took_a_unit_sends_it_again_and_it_is_applied_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)

    def die(*_args: object) -> None:
        raise KeyboardInterrupt("killed before it could mark the message delivered")

    monkeypatch.setattr(courier, "_delivered", die)
    with pytest.raises(KeyboardInterrupt):
        courier.push_pending(pair.us)
    monkeypatch.undo()
    assert _count(pair.mex, Received) == 1
    again = courier.push_pending(pair.us)
    assert again.pushed == 1
    assert _count(pair.mex, Received) == 1
    assert _count(pair.mex, ReceivedRelease) == 1


def test_a_later_pull_fetches_the_shared_objects_an_earlier_unit_brought(pair: Pair) -> None:
    """The feed holds each object version once: a second release's unit names the identities and
    extension definitions the first one brought, and the puller fetches them by id."""
    release_convoy_to_mexico(pair.us, pair.demo)
    assert courier.pull_all(pair.mex).pulled == 1
    precursor = pair.demo.reports["precursor"]
    request = workflow.RequestIn(
        precursor, Recipient("MEX", "MX-DEMO-FIA"), "Manzanillo", "FIA port analysts", clock.now() + timedelta(days=9)
    )
    with pair.us.db.write() as session:
        request_id = workflow.request_release(session, pair.us, p(session, "ana.analyst"), request).id
    with pair.us.db.write() as session:  # the two-person rule holds at every level
        assert workflow.approve(session, pair.us, p(session, "dan.disclosure"), request_id, "No harm.") is None
    with pair.us.db.write() as session:
        assert workflow.approve(session, pair.us, p(session, "dora.disclosure"), request_id, "No harm.") is not None
    again = courier.pull_all(pair.mex)
    assert (again.pulled, again.failed) == (1, 0), again.errors
    assert "Mislabelled precursor drums" in _mateo_sees(pair.mex, precursor)


def test_a_signed_unit_with_an_item_not_releasable_to_us_is_refused_whole(pair: Pair) -> None:
    """The receiver applies the release rules again: even a validly sealed unit from a known peer is
    refused when one item is not marked releasable to the receiving nation (here, NOFORN)."""
    release = release_convoy_to_mexico(pair.us, pair.demo)
    with pair.us.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        unit = unit_for(pair.us, message)
    # The whole report, as its own analyst sees it: the NOFORN source portion and the vetted unit's too.
    with pair.us.db.read() as session:
        ana = p(session, "ana.analyst")
        session.expunge(ana)
    reader = pair.us.reader(ana)
    with pair.us.db.read() as session:
        view = report_view(session, reader, pair.us.table(session), release.report_stix_id)
        content = version_content(session, release.report_stix_id)
    bundle = bundle_for([view], "USA", "US-DEMO-NARC")
    items = {i.stix_id or ("title" if i.kind == "title" else f"portion-{i.position}"): i.hash for i in content.items}
    payload = {**unit.payload, "items": items}
    resealed = seal_unit(
        pair.us.signing_key(), ("USA", "US-DEMO-NARC"), "MEX", "release", payload, bundle["objects"],
        unit.seal["created"], "whole-report",
    )  # fmt: skip
    answer = _post(pair, [*resealed.objects, resealed.seal], NodeAuth("USA", pair.us.signing_key()))
    failure = next(f for f in answer.json()["failures"] if f["id"] == resealed.seal["id"])
    assert "portion-3: not releasable to MEX: not-releasable-to-recipient" in failure["message"]  # NOFORN
    assert "portion-4: not releasable to MEX: compartment" in failure["message"]  # the vetted unit's
    assert not holds(pair.mex, release.report_stix_id)
    assert _count(pair.mex, Received) == 0 and _count(pair.mex, ReceivedRelease) == 0


def test_the_partners_inbox_lists_the_release_received_and_a_recall_takes_it_off(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    courier.push_pending(pair.us)
    with pair.mex.db.write() as session:
        set_password(session, p(session, "mateo.enlace"), "demo-mateo-2026")
    with httpx.Client(base_url=pair.mex_url, timeout=10) as browser:
        login = browser.post("/api/login", json={"username": "mateo.enlace", "password": "demo-mateo-2026"})
        assert login.status_code == 200, login.text

        def received() -> str:
            inbox = browser.get("/inbox")
            assert inbox.status_code == 200, inbox.text[:300]
            return inbox.text.split('data-testid="received"', 1)[1].split("</ul>", 1)[0]

        assert f'href="/reports/{release.report_stix_id}"' in received() and "USA" in received()
        with pair.us.db.write() as session:
            workflow.recall(session, pair.us, p(session, "dan.disclosure"), release.id, "Source compromised.")
        courier.push_pending(pair.us)
        assert release.report_stix_id not in received()


def test_a_unit_naming_another_nations_agency_as_its_recipient_is_refused(pair: Pair) -> None:
    """A US agency named as the Mexican recipient would pass the compartment, ORCON and LES rules for
    Mexico (a vetted-unit portion reached the MEX node so): the receiver refuses such a unit whole."""
    release = release_convoy_to_mexico(pair.us, pair.demo)
    with pair.us.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        unit = unit_for(pair.us, message)
    record = {**unit.payload["release"], "recipient": {"nation": "MEX", "agency": "US-DEMO-NARC"}}
    resealed = seal_unit(
        pair.us.signing_key(), ("USA", "US-DEMO-NARC"), "MEX", "release", {**unit.payload, "release": record},
        unit.objects, unit.seal["created"], "whole-report",
    )  # fmt: skip
    answer = _post(pair, [*resealed.objects, resealed.seal], NodeAuth("USA", pair.us.signing_key()))
    failure = next(f for f in answer.json()["failures"] if f["id"] == resealed.seal["id"])
    assert "US-DEMO-NARC is an agency of USA, not of the recipient nation MEX" in failure["message"]
    assert not holds(pair.mex, release.report_stix_id)
