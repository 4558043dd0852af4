"""Edits a recipient cannot see leave no trace in what is released to it (DESIGN §3.3, §3.5).

ana edited only the convoy's VU-HALCON portion, three times: the tearline for Mexico's FIA withholds
it, and the disclosure officers are not in the compartment. The approve answer said our stored
version (4), where the release list said 1; the sealed release named it too, and the released
report's `modified` and `published` gave the time of the last hidden edit. Now the approve answer
is the release as the officer sees it, and the partner gets the version as its tearline shows it:
numbered over the distinct tearlines it could have been sent, dated by the first of them equal to
this one. A visible edit is still a new version on both sides. Over loopback, on both databases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import select

from tearline import clock
from tearline.db.federation_tables import ReceivedRelease
from tearline.db.release_tables import OutboxMessage
from tearline.federation import courier
from tearline.federation.feed import unit_for
from tearline.fixtures import Demo
from tearline.store.content import version_content
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import edit_report
from tests.federation.edits import edit_first_portion
from tests.federation.support import Pair
from tests.release.support import DETERMINATION, p, release_convoy_to_mexico

HIDDEN = " (vetted unit moved its observation post)"


def edit_vetted_portion(pair: Pair, report: str, n: int) -> None:
    """A new version whose VU-HALCON portion changed and nothing else: no tearline for FIA keeps it."""
    with pair.us.db.write() as session:
        content = version_content(session, report)
        title = next(i for i in content.items if i.kind == "title")
        portions = sorted((i for i in content.items if i.kind == "portion"), key=lambda i: i.position)
        draft = ReportDraft(
            stix_id=report,
            title=PortionDraft(title.text, title.marking),
            portions=tuple(
                PortionDraft(i.text + (f"{HIDDEN} {n}" if i.marking.compartments else ""), i.marking) for i in portions
            ),
            objects=tuple(
                ObjectDraft(
                    i.stix_id or "", i.stix_type or "", dict(i.body), i.marking, name=i.text,
                    observed_at=i.observed_at, latitude=i.latitude, longitude=i.longitude,
                    source_ref=i.source_ref, target_ref=i.target_ref,
                )
                for i in content.items
                if i.kind == "object"
            ),
            predicate=content.predicate,
            need_to_know=content.need_to_know,
            review_due=content.review_due,
        )
        ana, registry = p(session, "ana.analyst"), pair.us.registry(session)
        edit_report(session, report, draft, ana, pair.us.identity, registry, True)


def _login(pair: Pair, username: str) -> dict[str, str]:
    answer = requests.post(
        f"{pair.us_url}/api/login", json={"username": username, "password": Demo.passwords()[username]}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def release_over_http(pair: Pair) -> dict[str, Any]:
    """ana asks to release the convoy to FIA; dan and dora approve. Dora's approve answer."""
    body = {
        "report": pair.demo.reports["convoy"],
        "recipient": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "purpose": "Interdiction at Jiménez",
        "need_to_know": "FIA analysts on the Highway 49 corridor",
        "expires_at": (clock.now() + timedelta(days=90)).isoformat(),
    }
    opened = requests.post(f"{pair.us_url}/api/release-requests", json=body, headers=_login(pair, "ana.analyst"),
                           timeout=30)  # fmt: skip
    assert opened.status_code == 201, opened.text
    approve = f"{pair.us_url}/api/release-requests/{opened.json()['id']}/approve"
    for officer in ("dan.disclosure", "dora.disclosure"):
        answer = requests.post(approve, json={"determination": DETERMINATION}, headers=_login(pair, officer),
                               timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "disseminated"
    release: dict[str, Any] = answer.json()["release"]
    return release


def listed_version(pair: Pair, release_id: str) -> int:
    listed = requests.get(f"{pair.us_url}/api/releases", headers=_login(pair, "dora.disclosure"), timeout=30)
    assert listed.status_code == 200, listed.text
    return int(next(r for r in listed.json()["items"] if r["id"] == release_id)["version"])


def sent(pair: Pair) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each release unit in MEX's feed: its sealed record and its report object."""
    with pair.us.db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "release").order_by(OutboxMessage.id)
        units = [unit_for(pair.us, m) for m in session.scalars(query)]
    report = pair.demo.reports["convoy"]
    return [(u.payload["release"], next(o for o in u.objects if o["id"] == report)) for u in units]


def received_versions(pair: Pair) -> list[int]:
    with pair.mex.db.read() as session:
        rows = session.scalars(select(ReceivedRelease).order_by(ReceivedRelease.received_at))
        return [int(r.record["version"]) for r in rows]


def test_hidden_edits_show_nowhere_a_release_goes(pair: Pair) -> None:
    report = pair.demo.reports["convoy"]
    release_convoy_to_mexico(pair.us, pair.demo)
    for n in range(3):
        edit_vetted_portion(pair, report, n)
    answer = release_over_http(pair)
    assert answer["version"] == listed_version(pair, answer["id"]) == 1  # dora sees no VU-HALCON edit
    (first, first_report), (second, second_report) = sent(pair)
    assert first["version"] == second["version"] == 1
    assert second_report["modified"] == first_report["modified"] == second_report["published"]
    assert HIDDEN not in str(second_report) and HIDDEN not in str(second)
    assert courier.pull_all(pair.mex).pulled == 2
    assert received_versions(pair) == [1, 1]

    edit_first_portion(pair.us, report)  # an edit FIA receives
    answer = release_over_http(pair)
    assert answer["version"] == listed_version(pair, answer["id"]) == 2
    *_, (third, third_report) = sent(pair)
    assert third["version"] == 2 and third_report["modified"] > second_report["modified"]
    assert third_report["published"] == third_report["modified"] and third_report["created"] == first_report["created"]
    assert courier.pull_all(pair.mex).pulled == 1
    assert received_versions(pair) == [1, 1, 2]
    with pair.mex.db.read() as session:
        held = session.scalar(select(ReceivedRelease).where(ReceivedRelease.record["id"].as_string() == answer["id"]))
        assert held is not None
