"""The two-person rule (DESIGN §3.5) holds at every level until two people turn it off, and both
steps are in the audit log. On SQLite and on PostgreSQL.

It used to be off below common level 2 on every new node without anyone turning it off, and the
only way to change it was a library call that logged nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.models import Principal
from tearline.fixtures import Demo
from tearline.markings.marking import marking_from_dict
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.release.rules import PROPOSAL_LIFETIME
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report
from tearline.web.routes_release import RULE_SETTING
from tests.web.support import assert_error, token_headers

RULE = "/api/release/two-person-rule"
DETERMINATION = "Sharing does not threaten national security: no sources or methods leave."


def _p(session, name: str) -> Principal:  # type: ignore[no-untyped-def]
    principal = session.scalar(select(Principal).where(Principal.username == name))
    assert principal is not None
    return principal


@pytest.fixture
def admins(node: Node, demo: Demo) -> tuple[dict[str, str], dict[str, str]]:
    """Bearer headers of the demo's admin and of a second admin of the same node."""
    with node.db.write() as session:
        add_principal(session, "ada.admin", "USA", "US-DEMO-NARC", "SECRET", roles=["admin"])
    return token_headers(node, "adam.admin"), token_headers(node, "ada.admin")


def _cui_request(node: Node, requester: str = "ana.analyst") -> int:
    """A one-portion CUI report (common level 1) and a request to release it to Mexico."""
    with node.db.write() as session:
        registry = node.registry(session)
        cui = marking_from_dict(
            {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "CUI", "rel_to": ["USA", "MEX"]},
            registry,
        )
        draft = ReportDraft(
            title=PortionDraft("Route survey (fictional)", cui),
            portions=(PortionDraft("Trucks switch trailers at the Saltillo yard.", cui),),
            predicate="Reasonable suspicion of narcotics transport (fictional).",
            review_due=clock.now() + timedelta(days=90),
        )
        report = create_report(session, draft, _p(session, "ana.analyst"), node.identity, registry).stix_id
    request = workflow.RequestIn(
        report, Recipient("MEX", "MX-DEMO-FIA"), "Saltillo", "FIA analysts", clock.now() + timedelta(days=30)
    )
    with node.db.write() as session:
        return workflow.request_release(session, node, _p(session, requester), request).id


def _approve(node: Node, officer: str, request_id: int) -> object:
    with node.db.write() as session:
        return workflow.approve(session, node, _p(session, officer), request_id, DETERMINATION)


def _logged(node: Node, action: str) -> list[dict[str, object]]:
    with node.db.read() as session:
        hits = search(session, Query(object_id=RULE_SETTING, action=action, outcome="allowed")).hits
    return [dict(hit.event.detail or {}) for hit in hits]


def test_a_new_node_needs_two_approvers_at_the_lowest_levels_too(node: Node, demo: Demo) -> None:
    request_id = _cui_request(node)
    assert _approve(node, "dan.disclosure", request_id) is None
    assert _approve(node, "dora.disclosure", request_id) is not None

    by_officer = _cui_request(node, requester="dan.disclosure")
    with pytest.raises(Exception, match="requester may not approve"):
        _approve(node, "dan.disclosure", by_officer)


def test_turning_the_rule_off_takes_a_second_admin_and_both_steps_are_logged(
    client: TestClient, node: Node, admins: tuple[dict[str, str], dict[str, str]]
) -> None:
    first, second = admins
    assert client.get(RULE, headers=first).json() == {"levels": [0, 1, 2, 3, 4], "pending": None}

    proposed = client.put(RULE, json={"levels": [2, 3, 4]}, headers=first)
    assert proposed.status_code == 202, proposed.text
    assert proposed.json()["state"] == "proposed" and proposed.json()["levels"] == [0, 1, 2, 3, 4]
    assert proposed.json()["pending"]["proposed_by"] == "adam.admin@US-DEMO-NARC"
    request_id = _cui_request(node)
    assert _approve(node, "dan.disclosure", request_id) is None  # a proposal changes nothing

    again = client.put(RULE, json={"levels": [2, 3, 4]}, headers=first)
    assert again.status_code == 403 and "second admin" in again.json()["message"]

    confirmed = client.put(RULE, json={"levels": [4, 3, 2]}, headers=second)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"levels": [2, 3, 4], "pending": None, "state": "in force"}
    assert _approve(node, "dora.disclosure", _cui_request(node)) is not None  # one approver now

    assert _logged(node, "release.two_person_rule.propose")[0]["to"] == [2, 3, 4]
    change = _logged(node, "release.two_person_rule.change")[0]
    assert change["from"] == [0, 1, 2, 3, 4] and change["to"] == [2, 3, 4]
    assert change["admins"] == ["adam.admin@US-DEMO-NARC", "ada.admin@US-DEMO-NARC"]
    assert len(_logged(node, "release.two_person_rule.change")) == 1


def test_adding_levels_back_takes_one_admin(
    client: TestClient, node: Node, admins: tuple[dict[str, str], dict[str, str]]
) -> None:
    first, second = admins
    client.put(RULE, json={"levels": []}, headers=first)
    assert client.put(RULE, json={"levels": []}, headers=second).json()["levels"] == []
    back = client.put(RULE, json={"levels": [1, 2, 3, 4]}, headers=second)
    assert back.status_code == 200 and back.json()["levels"] == [1, 2, 3, 4]
    assert len(_logged(node, "release.two_person_rule.change")) == 2


def test_a_proposal_lapses_after_a_day_and_another_proposal_replaces_it(
    client: TestClient, node: Node, admins: tuple[dict[str, str], dict[str, str]]
) -> None:
    first, second = admins
    now = clock.now()
    with clock.frozen_at(now):
        assert client.put(RULE, json={"levels": [3, 4]}, headers=first).status_code == 202
    with clock.frozen_at(now + PROPOSAL_LIFETIME):
        late = client.put(RULE, json={"levels": [3, 4]}, headers=second)
        assert late.status_code == 202 and late.json()["pending"]["proposed_by"] == "ada.admin@US-DEMO-NARC"
        other = client.put(RULE, json={"levels": [4]}, headers=first)
        assert other.status_code == 202 and other.json()["pending"]["levels"] == [4]
        assert client.put(RULE, json={"levels": [3, 4]}, headers=second).status_code == 202  # not the one pending
        assert client.get(RULE, headers=first).json()["levels"] == [0, 1, 2, 3, 4]


def test_only_admins_change_the_rule_and_only_overseers_read_it(
    client: TestClient, node: Node, admins: tuple[dict[str, str], dict[str, str]]
) -> None:
    officer, analyst = token_headers(node, "dan.disclosure"), token_headers(node, "ana.analyst")
    assert client.get(RULE, headers=officer).status_code == 200
    assert_error(client.get(RULE, headers=analyst), 403)
    assert_error(client.put(RULE, json={"levels": [4]}, headers=officer), 403)
    assert_error(client.put(RULE, json={"levels": [5]}, headers=admins[0]), 422, "levels.0")
    assert_error(client.put(RULE, json={"level": [4]}, headers=admins[0]), 422)
    assert client.get(RULE, headers=officer).json()["pending"] is None
    assert _logged(node, "release.two_person_rule.change") == []
    with node.db.read() as session:  # each refusal is logged, naming its rule
        refused = search(session, Query(object_id=RULE_SETTING, outcome="denied")).hits
    assert sorted(hit.event.rule or "" for hit in refused) == ["default-deny", "release-settings"]


def test_a_proposal_by_an_admin_since_disabled_is_no_first_person(
    client: TestClient, node: Node, admins: tuple[dict[str, str], dict[str, str]]
) -> None:
    first, second = admins
    assert client.put(RULE, json={"levels": [3, 4]}, headers=first).status_code == 202
    with node.db.write() as session:
        _p(session, "adam.admin").disabled = True
    late = client.put(RULE, json={"levels": [3, 4]}, headers=second)
    assert late.status_code == 202 and late.json()["pending"]["proposed_by"] == "ada.admin@US-DEMO-NARC"
    assert client.get(RULE, headers=second).json()["levels"] == [0, 1, 2, 3, 4]
