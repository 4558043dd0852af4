"""DESIGN §3.3 "Nothing hidden shows" on the release review and the oversight list.

The convoy's vetted-unit portion (VU-HALCON) leaves for Mexico's sensitive-investigations unit,
which owns the compartment. dan.disclosure and carla.auditor are not read into it: the review's
banner after, its tearline and the releases list are computed over what they may see, and a
release of nothing they may see answers like one that is not there. Officers read into VU-HALCON
see all of it. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline import clock
from tearline.fixtures import VETTED_UNIT, Demo, build_demo
from tearline.node import Node
from tearline.store.principals import add_principal
from tearline.web.app import create_app
from tests.release.support import DETERMINATION, cheap_passwords
from tests.web.support import marking, report_body, token_headers

VETTED = "The binational vetted unit plans to observe"
UIS = {"nation": "MEX", "agency": "MX-DEMO-UIS"}  # owns VU-HALCON with US-DEMO-NARC; law enforcement


@pytest.fixture
def demo(node: Node, monkeypatch: pytest.MonkeyPatch) -> Demo:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    with node.db.write() as session:
        for name in ("val.disclosure", "vera.disclosure"):  # two officers read into the vetted unit
            add_principal(
                session, name, "USA", "US-DEMO-NARC", "SECRET", [VETTED_UNIT], ["disclosure_officer"], f"pw-{name}"
            )
    return demo


@pytest.fixture
def client(node: Node, demo: Demo) -> TestClient:
    return TestClient(create_app(node))


def _request(client: TestClient, who: dict[str, str], report: str) -> int:
    body = {
        "report": report,
        "recipient": UIS,
        "purpose": "Joint observation at Jiménez",
        "need_to_know": "The vetted unit's officers at Jiménez",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    response = client.post("/api/release-requests", json=body, headers=who)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _approve(client: TestClient, request_id: int, *officers: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for officer in officers:
        response = client.post(
            f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=officer
        )
        assert response.status_code == 200, response.text
        answer = response.json()
    assert answer["state"] == "disseminated", answer
    return dict(answer["release"])


def test_review_and_releases_list_show_only_what_the_reader_may_see(client: TestClient, demo: Demo, node: Node) -> None:
    ana, dan, carla, val, vera = (
        token_headers(node, u)
        for u in ("ana.analyst", "dan.disclosure", "carla.auditor", "val.disclosure", "vera.disclosure")
    )
    request_id = _request(client, ana, demo.reports["convoy"])

    # dan is not read into VU-HALCON: nothing of it, not even its name or a count, on his review.
    review = client.get(f"/api/release-requests/{request_id}/review", headers=dan)
    assert review.status_code == 200, review.text
    data = review.json()
    assert VETTED_UNIT not in review.text and VETTED not in review.text
    assert data["banner_after"] == "SECRET//LES//REL TO USA, MEX"
    assert [p["number"] for p in data["tearline"]["portions"]] == [1, 2]
    assert data["reviewer_cleared_for_all_kept"] is False
    assert data["approval_refused"] == {
        "rule": "approver-clearance",
        "message": "an approver must be cleared for every item that would leave",
    }
    refused = client.post(
        f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=dan
    )
    assert refused.status_code == 403 and refused.json()["rule"] == "approver-clearance"
    assert VETTED_UNIT not in refused.text

    # val is read into it: the same screen shows it all.
    full = client.get(f"/api/release-requests/{request_id}/review", headers=val).json()
    assert full["banner_after"] == "SECRET//VU-HALCON//LES//REL TO USA, MEX"
    assert [p["number"] for p in full["tearline"]["portions"]] == [1, 2, 3]
    assert VETTED in full["tearline"]["portions"][2]["text"]
    assert full["reviewer_cleared_for_all_kept"] is True and full["approval_refused"] is None

    release = _approve(client, request_id, val, vera)
    assert release["banner"] == "SECRET//VU-HALCON//LES//REL TO USA, MEX"

    (seen_by_val,) = client.get("/api/releases", headers=val).json()["items"]
    assert seen_by_val["banner"] == release["banner"] and seen_by_val["kept_hashes"] == release["kept_hashes"]
    for who in (dan, carla):
        listed = client.get("/api/releases", params={"report": demo.reports["convoy"]}, headers=who)
        assert listed.status_code == 200, listed.text
        assert VETTED_UNIT not in listed.text
        (item,) = listed.json()["items"]
        assert item["id"] == release["id"]
        assert item["banner"] == "SECRET//LES//REL TO USA, MEX"
        assert len(item["kept_hashes"]) == len(release["kept_hashes"]) - 1  # the vetted portion is not counted
        assert set(item["kept_hashes"]) < set(release["kept_hashes"])


def test_a_release_of_nothing_the_reader_may_see_is_not_listed(client: TestClient, demo: Demo, node: Node) -> None:
    ana, dan, carla, val, vera = (
        token_headers(node, u)
        for u in ("ana.analyst", "dan.disclosure", "carla.auditor", "val.disclosure", "vera.disclosure")
    )
    vetted = marking(["USA", "MEX"], compartments=[VETTED_UNIT])
    body = report_body(["The vetted unit meets its source at Jiménez."])
    body["title"]["marking"] = vetted
    for item in body["portions"] + body["objects"]:
        item["marking"] = vetted
    created = client.post("/api/reports", json=body, headers=ana)
    assert created.status_code == 201, created.text
    report = created.json()["id"]
    release = _approve(client, _request(client, ana, report), val, vera)

    assert [i["id"] for i in client.get("/api/releases", headers=val).json()["items"]] == [release["id"]]
    for who in (dan, carla):
        everything = client.get("/api/releases", headers=who)
        assert everything.status_code == 200 and everything.json()["items"] == []
        one = client.get("/api/releases", params={"report": report}, headers=who)
        missing = client.get(
            "/api/releases", params={"report": "report--00000000-0000-4000-8000-000000000000"}, headers=who
        )
        assert one.json() == missing.json() == {"items": []}
        assert VETTED_UNIT not in json.dumps(one.json()) + everything.text
