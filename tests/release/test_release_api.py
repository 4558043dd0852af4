"""The release workflow over HTTP on the demo (issue 4 items 2, 6 and 7; DESIGN §5 step 2).

Request, the review screen (original and tearline side by side, withheld items with their rule,
banners before and after, the recipient's clearance), two-person approval, denial with a reason,
recall, and the oversight list of who received a record and when. Refusals name their rule, and
a Mexican principal on the US node never sees review data.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline import clock
from tearline.audit import log
from tearline.fixtures import Demo, build_demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.release.support import DETERMINATION, cheap_passwords

SOURCE = "Reporting comes from a person inside the company's dispatch office"
VETTED = "The binational vetted unit plans to observe"


@pytest.fixture
def demo(node: Node, monkeypatch: pytest.MonkeyPatch) -> Demo:
    cheap_passwords(monkeypatch)
    return build_demo(node)


@pytest.fixture
def client(node: Node, demo: Demo) -> TestClient:
    return TestClient(create_app(node))


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/login", json={"username": username, "password": Demo.passwords()[username]})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _request_body(demo: Demo, **overrides: Any) -> dict[str, Any]:
    body = {
        "report": demo.reports["convoy"],
        "recipient": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "purpose": "Interdiction at Jiménez",
        "need_to_know": "FIA analysts on the Highway 49 corridor",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    return {**body, **overrides}


def _open(client: TestClient, demo: Demo, who: dict[str, str]) -> int:
    response = client.post("/api/release-requests", json=_request_body(demo), headers=who)
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "requested"
    return int(response.json()["id"])


def _refused(response: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] and body["message"]
    if rule is not None:
        assert body["rule"] == rule and rule in body["message"], body
    return body


def test_request_review_two_approvals_recall_and_who_received_it(client: TestClient, demo: Demo) -> None:
    ana, dan, dora, carla = (
        _login(client, u) for u in ("ana.analyst", "dan.disclosure", "dora.disclosure", "carla.auditor")
    )
    request_id = _open(client, demo, ana)

    review = client.get(f"/api/release-requests/{request_id}/review", headers=dan)
    assert review.status_code == 200, review.text
    data = review.json()
    assert data["recipient"] == {"nation": "MEX", "agency": "MX-DEMO-FIA"}
    assert data["banner_before"] == "SECRET//LES//NOFORN"  # dan sees the source portion, not the vetted unit's
    assert data["banner_after"] == "SECRET//LES//REL TO USA, MEX"
    assert data["recipient_clearance"]["label"] == "SECRETA"
    assert data["recipient_clearance"]["common_level"] == 3
    original = data["original"]["portions"]
    assert [(p["number"], p["kept"], p["withheld_by"]) for p in original] == [
        (1, True, None),
        (2, True, None),
        (3, False, "not-releasable-to-recipient"),
    ]
    assert original[2]["text"].startswith(SOURCE)  # the reviewer sees what stays home, and why
    assert [p["number"] for p in data["tearline"]["portions"]] == [1, 2]
    assert SOURCE not in json.dumps(data["tearline"], ensure_ascii=False)
    assert VETTED not in review.text  # a compartment the reviewer does not hold is not shown at all
    kept_objects = {o["id"] for o in data["tearline"]["objects"]}
    assert kept_objects == {o["id"] for o in data["original"]["objects"] if o["kept"]}
    assert data["reviewer_cleared_for_all_kept"] is True
    assert (data["purpose"], data["state"]) == ("Interdiction at Jiménez", "requested")

    # An analyst may not approve; the refusal names the rule.
    _refused(
        client.post(f"/api/release-requests/{request_id}/approve", json={"determination": "x"}, headers=ana),
        403,
        "default-deny",
    )
    _refused(client.post(f"/api/release-requests/{request_id}/approve", json={"determination": " "}, headers=dan), 422)

    first = client.post(
        f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=dan
    )
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "requested" and "second approver" in first.json()["waiting_for"]
    second = client.post(f"/api/release-requests/{request_id}/approve", json={"determination": "Concur."}, headers=dora)
    assert second.status_code == 200, second.text
    assert second.json()["state"] == "disseminated"
    release = second.json()["release"]
    assert release["approvers"] == ["dan.disclosure", "dora.disclosure"]
    assert release["recipient"] == {"nation": "MEX", "agency": "MX-DEMO-FIA"}
    assert release["banner"] == "SECRET//LES//REL TO USA, MEX"
    assert (release["purpose"], release["need_to_know"]) == (
        "Interdiction at Jiménez",
        "FIA analysts on the Highway 49 corridor",
    )
    # Both officers' determinations, in order: dora's concurrence does not stand for dan's determination.
    assert release["determination"] == f"dan.disclosure: {DETERMINATION}\ndora.disclosure: Concur."
    assert release["consents_used"] == []
    assert isinstance(release["audit_index"], int)
    _refused(
        client.post(f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=dan),
        409,
    )

    # Oversight: per record, who received it and when.
    listed = client.get("/api/releases", params={"report": demo.reports["convoy"]}, headers=carla)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == release["id"] and item["recipient"] == {"nation": "MEX", "agency": "MX-DEMO-FIA"}
    received_at = clock.parse_timestamp(item["created_at"])
    assert abs(received_at - clock.now()) < timedelta(minutes=5)
    assert item["recalled_at"] is None and item["expires_at"] == release["expires_at"]
    other = client.get("/api/releases", params={"report": demo.reports["precursor"]}, headers=carla)
    assert other.json()["items"] == []

    recalled = client.post(f"/api/releases/{release['id']}/recall", json={"reason": "Source compromised"}, headers=dan)
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["release"] == release["id"]
    _refused(client.post(f"/api/releases/{release['id']}/recall", json={"reason": "again"}, headers=dora), 409)
    _refused(
        client.post(f"/api/releases/{release['id']}/recall", json={"reason": "mine"}, headers=ana), 403, "default-deny"
    )
    (item,) = client.get("/api/releases", params={"report": demo.reports["convoy"]}, headers=dan).json()["items"]
    assert item["recalled_at"] == recalled.json()["recalled_at"]


def test_denial_records_its_reason_and_foreigners_never_see_review_data(
    client: TestClient, demo: Demo, node: Node
) -> None:
    ana, dan, dora = (_login(client, u) for u in ("ana.analyst", "dan.disclosure", "dora.disclosure"))
    mateo, ian = _login(client, "mateo.enlace"), _login(client, "ian.intel")
    _refused(client.post("/api/release-requests", json=_request_body(demo, purpose=" "), headers=ana), 422)
    request_id = _open(client, demo, ana)

    # A Mexican principal on the US node: no review, no decision, no oversight list.
    review = client.get(f"/api/release-requests/{request_id}/review", headers=mateo)
    body = _refused(review, 403, "foreign-principals-never-decide")
    assert set(body) <= {"error", "message", "rule"}
    for leak in ("banner", "SECRET", SOURCE, "Three tractor-trailers", "original", "tearline"):
        assert leak not in review.text
    _refused(
        client.post(f"/api/release-requests/{request_id}/approve", json={"determination": "sí"}, headers=mateo),
        403,
        "foreign-principals-never-decide",
    )
    _refused(
        client.post(f"/api/release-requests/{request_id}/deny", json={"reason": "no"}, headers=mateo),
        403,
        "foreign-principals-never-decide",
    )
    _refused(client.get("/api/releases", headers=mateo), 403, "foreign-principals-never-decide")
    _refused(client.get("/api/consent-requests", headers=mateo), 403, "foreign-principals-never-decide")
    _refused(client.get(f"/api/release-requests/{request_id}/review", headers=ian), 403, "default-deny")
    _refused(client.get("/api/releases", headers=ian), 403, "default-deny")

    # A denial needs its reason, and closes the request.
    _refused(client.post(f"/api/release-requests/{request_id}/deny", json={"reason": " "}, headers=dan), 422)
    denied = client.post(
        f"/api/release-requests/{request_id}/deny", json={"reason": "Operation still covert"}, headers=dan
    )
    assert denied.status_code == 200, denied.text
    assert denied.json() == {"state": "denied", "reason": "Operation still covert"}
    _refused(
        client.post(f"/api/release-requests/{request_id}/approve", json={"determination": DETERMINATION}, headers=dora),
        409,
    )
    assert client.get("/api/releases", headers=dan).json()["items"] == []

    # Every refusal above is in the audit log, with the rule that decided it.
    with node.db.read() as session:
        entries = [json.loads(leaf.data) for leaf in log.read_leaves(session, 0, log.log_size(session))]
    denials = {(e["actor"].split("@")[0], e["action"], e["rule"]) for e in entries if e["outcome"] == "denied"}
    assert ("mateo.enlace", "release.review", "foreign-principals-never-decide") in denials
    assert ("mateo.enlace", "release.list", "foreign-principals-never-decide") in denials
    assert ("ian.intel", "release.list", "default-deny") in denials
    deny = [e for e in entries if e["action"] == "release.deny" and e["outcome"] == "allowed"]
    assert [e["rule"] for e in deny] == ["Operation still covert"]
