"""The release workflow on the demo: request, review, two-person approval, outbox, recall, denial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_instance

from tearline import clock
from tearline.db.models import Grant, Principal
from tearline.db.release_tables import OutboxMessage, Release
from tearline.errors import Conflict, Forbidden, InvalidInput
from tearline.fixtures import Demo, build_demo
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.release.rules import set_two_person_levels


def _p(session, name: str) -> Principal:  # type: ignore[no-untyped-def]
    return session.scalar(select(Principal).where(Principal.username == name))


def _request(node: Node, demo: Demo, requester: str = "ana.analyst") -> int:
    req = workflow.RequestIn(
        demo.reports["convoy"],
        Recipient("MEX", "MX-DEMO-FIA"),
        "Interdiction at Jiménez",
        "FIA analysts on the Highway 49 corridor",
        clock.now() + timedelta(days=30),
    )
    with node.db.write() as session:
        return workflow.request_release(session, node, _p(session, requester), req).id


def _approve(node: Node, who: str, request_id: int):  # type: ignore[no-untyped-def]
    with node.db.write() as session:
        return workflow.approve(
            session,
            node,
            _p(session, who),
            request_id,
            "Sharing does not threaten national security: no sources or methods leave.",
        )


def test_two_officers_approve_and_the_release_is_complete(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo)
    assert _approve(node, "dan.disclosure", request_id) is None  # SECRET: the two-person rule applies
    release = _approve(node, "dora.disclosure", request_id)
    assert release is not None
    with node.db.read() as session:
        stored = session.get(Release, release.id)
        assert stored is not None and stored.approvers == ["dan.disclosure", "dora.disclosure"]
        assert stored.banner == "SECRET//LES//REL TO USA, MEX"
        grants = session.scalars(select(Grant).where(Grant.origin_id == release.id)).all()
        assert sorted(g.item_hash for g in grants) == sorted(stored.kept_hashes)
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None and message.destination == "MEX"
        for obj in message.payload["bundle"]["objects"]:
            assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid, obj["id"]
        texts = str(message.payload["bundle"])
        assert "dispatch office" not in texts and "vetted unit plans" not in texts  # withheld stays home


def test_the_requester_may_not_approve_under_the_two_person_rule(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo, requester="dan.disclosure")
    with pytest.raises(Forbidden, match="requester may not approve"):
        _approve(node, "dan.disclosure", request_id)


def test_one_officer_may_not_approve_twice(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo)
    _approve(node, "dan.disclosure", request_id)
    with pytest.raises(Conflict):
        _approve(node, "dan.disclosure", request_id)


def test_two_person_rule_off_takes_two_admins(node: Node) -> None:
    demo = build_demo(node)
    with node.db.write() as session:
        from tearline.store.principals import add_principal

        second = add_principal(session, "ada.admin", "USA", "US-DEMO-NARC", "SECRET", roles=["admin"])
        admin = _p(session, "adam.admin")
        with pytest.raises(Forbidden, match="two different admins"):
            set_two_person_levels(session, [], admin, admin, "USA")
        set_two_person_levels(session, [], admin, second, "USA")
    request_id = _request(node, demo)
    assert _approve(node, "dan.disclosure", request_id) is not None


def test_an_analyst_may_not_approve_and_the_rule_is_named(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo)
    with pytest.raises(Forbidden) as err:
        _approve(node, "ian.intel", request_id)
    assert err.value.rule == "default-deny"


def test_denial_records_its_reason_and_closes_the_request(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo)
    with node.db.write() as session, pytest.raises(InvalidInput, match="reason"):
        workflow.deny(session, node, _p(session, "dan.disclosure"), request_id, " ")
    with node.db.write() as session:
        row = workflow.deny(session, node, _p(session, "dan.disclosure"), request_id, "Operation still covert")
        assert row.state == "denied" and row.denial_reason == "Operation still covert"
    with pytest.raises(Conflict):
        _approve(node, "dora.disclosure", request_id)


def test_recall_withdraws_the_grants_and_tells_the_recipient(node: Node) -> None:
    demo = build_demo(node)
    request_id = _request(node, demo)
    _approve(node, "dan.disclosure", request_id)
    release = _approve(node, "dora.disclosure", request_id)
    with node.db.write() as session:
        workflow.recall(session, node, _p(session, "dan.disclosure"), release.id, "Source compromised")
    with node.db.read() as session:
        live = session.scalar(
            select(func.count()).select_from(Grant).where(Grant.origin_id == release.id, Grant.recalled_at.is_(None))
        )
        assert live == 0
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "recall")) is not None


def test_a_record_past_its_review_date_cannot_be_released(node: Node) -> None:
    demo = build_demo(node)
    with clock.frozen_at(clock.now() + timedelta(days=400)), pytest.raises(Forbidden, match="review date"):
        _request(node, demo)


def test_release_needs_purpose_need_to_know_and_a_future_expiry(node: Node) -> None:
    demo = build_demo(node)
    req = workflow.RequestIn(
        demo.reports["convoy"], Recipient("MEX", "MX-DEMO-FIA"), "", "", clock.now() - timedelta(days=1)
    )
    with node.db.write() as session, pytest.raises(InvalidInput) as err:
        workflow.request_release(session, node, _p(session, "ana.analyst"), req)
    assert {p.field for p in err.value.problems} == {"purpose", "need_to_know", "expires_at"}
