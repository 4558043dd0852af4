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
from tearline.fixtures import Demo, build_demo, us_marking
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.release.rules import set_two_person_levels
from tearline.release.tearline import TearlineRefused
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.reports import create_report


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


def _report(node: Node, hidden_goes_to_canada: bool) -> str:
    """Title and first portion REL TO USA; a second, LES portion (hidden from a non-LE analyst)
    REL TO USA, CAN when `hidden_goes_to_canada`, else REL TO USA too."""
    with node.db.write() as session:
        registry = node.registry(session)
        home = us_marking(registry, ["USA"])
        les = us_marking(registry, ["USA", "CAN"] if hidden_goes_to_canada else ["USA"], controls=["LES"])
        draft = ReportDraft(
            title=PortionDraft("Cross-border cash couriers (fictional)", home),
            portions=(PortionDraft("Couriers use the Blaine crossing.", home), PortionDraft("A CBSA lead.", les)),
            predicate="Reasonable suspicion of bulk cash smuggling (fictional).",
            review_due=clock.now() + timedelta(days=90),
        )
        return create_report(session, draft, _p(session, "ana.analyst"), node.identity, registry).stix_id


def _ask_for_canada(node: Node, report: str, requester: str) -> int:
    req = workflow.RequestIn(
        report, Recipient("CAN", "CA-DEMO-BORDER"), "Blaine", "CBSA officers", clock.now() + timedelta(days=30)
    )
    with node.db.write() as session:
        return workflow.request_release(session, node, _p(session, requester), req).id


def test_a_requester_who_reads_part_of_a_report_learns_nothing_of_the_rest(node: Node) -> None:
    """ian (no LES) reads the title and the first portion. Whether the hidden LES portion could go
    to Canada or not, his request is refused alike; ana, who reads it all, may ask."""
    build_demo(node)
    could_go, could_not = _report(node, True), _report(node, False)
    answers = []
    for report in (could_go, could_not):
        with pytest.raises(TearlineRefused) as refused:
            _ask_for_canada(node, report, "ian.intel")
        answers.append((refused.value.problems[0].field, refused.value.message))
    assert answers[0] == answers[1] == ("recipient", answers[0][1])
    assert "nothing you may read of this report may go to CAN/CA-DEMO-BORDER" in answers[0][1]
    assert _ask_for_canada(node, could_go, "ana.analyst") > 0
    with pytest.raises(TearlineRefused, match="nothing of this report may go to CAN/CA-DEMO-BORDER"):
        _ask_for_canada(node, could_not, "ana.analyst")
