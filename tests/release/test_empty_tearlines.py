"""An empty tearline is refused (DESIGN §3.5), at the request and not only at the approval; and the
Mexican node marks portions in its own order (§3.4). SQLite and PostgreSQL.

The US convoy tearline is received on Mexico's node. A request to pass it to Canada keeps nothing:
what Canada's marking allows is held back by the third-party rule. It stands only to ask the US for
consent, says so, and its review says approval is refused; a request that nothing could free, or
that only an impossible consent could, is a 422 naming the recipient and why the items stay home."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline import clock
from tearline.db.release_tables import Consent
from tearline.fixtures import Demo, build_demo, us_marking
from tearline.markings.marking import marking_from_dict
from tearline.node import Node
from tearline.release import consents
from tearline.store.content import version_content
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.principals import issue_token
from tearline.store.reports import create_report
from tearline.web.app import create_app
from tests.conftest import Templates
from tests.release.support import cheap_passwords, deliver, mex_node, p, release_convoy_to_mexico


@pytest.fixture
def demo(node: Node, monkeypatch: pytest.MonkeyPatch) -> Demo:
    cheap_passwords(monkeypatch)
    return build_demo(node)


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


@pytest.fixture
def received(node: Node, demo: Demo, mex: Node) -> str:
    """The convoy report as Mexico's node holds it, delivered under the US release."""
    return deliver(node, release_convoy_to_mexico(node, demo), mex)


def _headers(node: Node, username: str) -> dict[str, str]:
    with node.db.write() as session:
        return {"Authorization": f"Bearer {issue_token(session, p(session, username), ttl=timedelta(minutes=30))}"}


def _ask(node: Node, report: str, recipient: dict[str, str], who: str) -> Any:
    body = {
        "report": report,
        "recipient": recipient,
        "purpose": "The port contact",
        "need_to_know": "Border officers at the port",
        "expires_at": (clock.now() + timedelta(days=20)).isoformat(),
    }
    return TestClient(create_app(node)).post("/api/release-requests", json=body, headers=_headers(node, who))


def _review(node: Node, request_id: int, who: str) -> dict[str, Any]:
    found = TestClient(create_app(node)).get(f"/api/release-requests/{request_id}/review", headers=_headers(node, who))
    assert found.status_code == 200, found.text
    review: dict[str, Any] = found.json()
    return review


def _refusal(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {x["field"]: x["reason"] for x in response.json()["problems"]}


def test_a_request_that_only_a_consent_could_fill_waits_for_it_and_its_review_says_approval_is_refused(
    mex: Node, received: str
) -> None:
    # It was a 201 whose review showed an empty tearline with `approval_refused: null`.
    asked = _ask(mex, received, {"nation": "CAN"}, "mateo.enlace")
    assert asked.status_code == 201, asked.text
    assert asked.json()["waiting_for"].startswith("an originator's consent: nothing of this report may go to CAN ")
    review = _review(mex, asked.json()["id"], "lucia.divulgacion")
    assert review["banner_after"] == "" and review["tearline"]["portions"] == []
    assert review["approval_refused"] == {
        "rule": "empty-tearline",
        "message": "nothing of this report may go to CAN: withheld by not-releasable-to-recipient (14 items), "
        "third-party-without-consent (3 items)",
    }
    approve = TestClient(create_app(mex)).post(
        f"/api/release-requests/{asked.json()['id']}/approve",
        json={"determination": "No threat."},
        headers=_headers(mex, "lucia.divulgacion"),
    )
    assert _refusal(approve)["recipient"].startswith("nothing of this report may go to CAN: withheld by")


def test_approving_an_empty_tearline_counts_only_what_the_approver_may_see(mex: Node, received: str) -> None:
    """The refusal counts withheld items by rule: for an officer who may not see the report, a 404
    like a missing request, never the counts (DESIGN §3.3); for one who sees it, what their review says."""
    from tearline.store.principals import add_principal

    asked = _ask(mex, received, {"nation": "CAN"}, "mateo.enlace")
    assert asked.status_code == 201, asked.text
    with mex.db.write() as session:
        add_principal(session, "ines.divulgacion", "MEX", "MX-DEMO-FIA", "RESERVADA", roles=["disclosure_officer"])
    client = TestClient(create_app(mex))

    def approve(request_id: int, who: str) -> Any:
        return client.post(f"/api/release-requests/{request_id}/approve", json={"determination": "No threat."},
                           headers=_headers(mex, who))

    hidden, missing = approve(asked.json()["id"], "ines.divulgacion"), approve(999_999, "ines.divulgacion")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] and "withheld" not in hidden.text
    review = _review(mex, asked.json()["id"], "lucia.divulgacion")
    refused = _refusal(approve(asked.json()["id"], "lucia.divulgacion"))
    assert refused["recipient"] == review["approval_refused"]["message"]


def test_a_request_that_became_empty_says_so_in_its_review(mex: Node, received: str) -> None:
    """A US consent lets the port contact go to Canada; the US revokes it before anyone approves."""
    with mex.db.write() as session:
        content = version_content(session, received)
        freed = [i.hash for i in content.items if "CAN" in i.marking.rel_to]
        consent = Consent(
            id=f"consent--{uuid.uuid4()}",
            grantor_nation="USA",
            grantor_agency="US-DEMO-NARC",
            recipient_nation="CAN",
            recipient_agency="CA-DEMO-BORDER",
            item_hashes=freed,
            purpose="The port contact",
            expires_at=clock.now() + timedelta(days=30),
            body={},
            signature="",
            created_at=clock.now(),
        )
        session.add(consent)
    asked = _ask(mex, received, {"nation": "CAN", "agency": "CA-DEMO-BORDER"}, "mateo.enlace")
    assert asked.status_code == 201, asked.text
    assert "waiting_for" not in asked.json()
    request_id = asked.json()["id"]
    assert _review(mex, request_id, "lucia.divulgacion")["approval_refused"] is None
    with mex.db.write() as session:
        consents.revoke_consent(session, mex, consent.id, "federation")
    review = _review(mex, request_id, "lucia.divulgacion")
    assert review["tearline"]["portions"] == [] and review["banner_after"] == ""
    assert review["approval_refused"]["rule"] == "empty-tearline"
    assert review["approval_refused"]["message"].startswith("nothing of this report may go to CAN/CA-DEMO-BORDER: ")
    assert "third-party-without-consent (3 items)" in review["approval_refused"]["message"]


def test_a_request_nothing_could_fill_is_refused_naming_the_recipient_and_why(node: Node, demo: Demo) -> None:
    with node.db.write() as session:
        registry = node.registry(session)
        home = us_marking(registry, ["USA"], controls=["NOFORN"])
        draft = ReportDraft(
            title=PortionDraft("Courier schedule (fictional)", home),
            portions=(PortionDraft("Couriers cross on Fridays.", home), PortionDraft("And on Sundays.", home)),
            predicate="Reasonable suspicion of bulk cash smuggling (fictional).",
            review_due=clock.now() + timedelta(days=90),
        )
        report = create_report(session, draft, p(session, "ana.analyst"), node.identity, registry).stix_id
    refused = _refusal(_ask(node, report, {"nation": "MEX", "agency": "MX-DEMO-FIA"}, "ana.analyst"))
    why = "nothing of this report may go to MEX/MX-DEMO-FIA: withheld by not-releasable-to-recipient (3 items)"
    assert refused == {"recipient": why}


def test_an_orcon_item_cannot_wait_for_a_consent_to_a_whole_nation(node: Node, demo: Demo) -> None:
    """ORCON needs the originator agency's consent naming the recipient agency (DESIGN §3.3 rule 4):
    no consent frees it for a nation alone, so such a request no longer waits for one forever."""
    with node.db.write() as session:
        registry = node.registry(session)
        raw = {"originator": {"nation": "USA", "agency": "US-DEMO-INTEL"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}
        orcon = marking_from_dict(raw | {"controls": ["ORCON"]}, registry)
        draft = ReportDraft(
            title=PortionDraft("Intelligence note (fictional)", orcon),
            portions=(PortionDraft("A warehouse in Hermosillo.", orcon),),
            predicate="Reasonable suspicion of narcotics storage (fictional).",
            review_due=clock.now() + timedelta(days=90),
        )
        report = create_report(session, draft, p(session, "ian.intel"), node.identity, registry).stix_id
    refused = _refusal(_ask(node, report, {"nation": "MEX"}, "ian.intel"))
    why = "nothing of this report may go to MEX: withheld by orcon-without-approval (2 items)"
    assert refused == {"recipient": why}
    waits = _ask(node, report, {"nation": "MEX", "agency": "MX-DEMO-FIA"}, "ian.intel")
    assert waits.status_code == 201, waits.text
    assert "waiting_for" in waits.json()


def test_portion_marks_on_the_mexican_node_follow_its_banner_order(mex: Node, received: str) -> None:
    # They read `(SECRET//LES//REL TO USA, MEX)` under a banner `REL TO MEX, USA`.
    shown = TestClient(create_app(mex)).get(f"/api/reports/{received}", headers=_headers(mex, "mateo.enlace"))
    assert shown.status_code == 200, shown.text
    report = shown.json()
    assert report["banner"].endswith("//REL TO MEX, USA")
    marks = [x["marking"]["portion_mark"] for x in report["portions"]]
    assert marks[0] == "(SECRET//LES//REL TO MEX, USA)"
    assert marks[1] == "(SECRET//REL TO MEX, CAN, USA)"
    assert report["title_marking"]["portion_mark"] == "(SECRET//REL TO MEX, USA)"
