"""The leak harness's random worlds, with role events: every principal made an auditor, a consent
request filed for each item, and each received report's release recalled. On the stream, a role
event reaches exactly the node's own principals whom the oracle (tests/leak/oracle.py) lets see an
item it names; for a recall, an item the release delivered, as the oracle saw it before the recall.
Our own release workflow too: each report's release request filed and decided reaches those who see
an item of the report, and the recall of our release of some of its items those who see one of them.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from tearline import clock
from tearline.db.models import Grant, Report, ReportVersion
from tearline.db.release_tables import ConsentRequest, Release, ReleaseRequest
from tearline.store import changes
from tearline.store.federation import principal_named
from tearline.store.principals import update_principal
from tearline.web.routes_stream import events_for
from tests.conftest import NodeFactory, detached_principal
from tests.leak import oracle
from tests.leak.test_leak_harness import NOW, Built, build, expected
from tests.leak.world import WorldSpec, worlds

Released = dict[str, tuple[str, list[oracle.G]]]  # release id: (report id, its deliveries as they were, live)
EXPIRES = NOW + timedelta(days=30)


def file_requests(built: Built) -> dict[str, str]:
    """One consent request per stored item, naming its hash; request id: hash."""
    requests = {}
    with built.node.db.write() as session:
        for x, _ in built.items:
            row = ConsentRequest(
                id=f"consent-request--{uuid.uuid4()}", direction="in", requester_nation="MEX",
                requester_agency="MX-DEMO-FIA", grantor_nation="USA", grantor_agency="US-DEMO-NARC",
                recipient_nation="CAN", recipient_agency=None, item_hashes=[x.hash], purpose="Onward",
                created_at=NOW,
            )  # fmt: skip
            session.add(row)
            changes.note(session, "consent-request", None, role="disclosure_officer", detail={"request": row.id})
            requests[row.id] = x.hash
    return requests


def recall_received(built: Built) -> Released:
    """Each received report's items delivered by one release, which its sender has now recalled."""
    released: Released = {}
    with built.node.db.write() as session:
        received = session.scalars(select(Report.id).where(Report.received)).all()
        for report_id in received:
            release = f"release--{uuid.uuid4()}"
            delivered = []
            for x, _ in (item for item in built.items if item[0].report_id == report_id):
                session.add(
                    Grant(
                        kind="delivery", grantor_nation=x.orig_nation, grantor_agency=x.orig_agency, nation="USA",
                        agency=None, item_hash=x.hash, expires_at=EXPIRES, recalled_at=NOW,
                        created_at=NOW, origin_id=release,
                    )
                )  # fmt: skip
                delivered.append(oracle.G("delivery", x.orig_nation, "USA", None, x.hash, None, EXPIRES, False))
            detail = {"release": release, "from": "MEX"}
            changes.note(session, "recall", built.report_ids[report_id], role="disclosure_officer", detail=detail)
            released[release] = (built.report_ids[report_id], delivered)
    return released


Ours = dict[str, tuple[list[int], str, set[str]]]  # report id: (its release requests, its release, what it kept)
# Each report's two requests, as the workflow notes their steps: the first approved by one officer, then
# finally (two-person rule); the second denied.
STEPS = [
    [("release-request", None, None), ("release-decision", "approved", False), ("release-decision", "approved", True)],
    [("release-request", None, None), ("release-decision", "denied", True)],
]
Step = tuple[str, str, int, str | None, bool | None]  # kind, report, request, outcome, final


def release_ours(built: Built) -> Ours:
    """Each report's release requests filed and decided, and our release of every other item of the
    report recalled: the events as the workflow notes them."""
    ours: Ours = {}
    recipient = {"nation": "CAN", "agency": None}
    with built.node.db.write() as session:
        requester = next(iter(built.rows.values())).id
        for report_id, stix in built.report_ids.items():
            last = select(func.max(ReportVersion.number)).where(ReportVersion.report_id == report_id)
            requests = [_request(session, stix, session.scalar(last) or 1, requester) for _ in STEPS]
            for request, steps in zip(requests, STEPS, strict=True):
                for kind, outcome, final in steps:
                    detail: dict[str, Any] = {"request": request.id, "recipient": recipient}
                    detail |= {"outcome": outcome, "final": final} if outcome else {}
                    changes.note(session, kind, stix, role="disclosure_officer", detail=detail)
            kept = [x.hash for x, _ in built.items if x.report_id == report_id][::2]
            release = _release(session, requests[0], kept)
            detail = {"release": release.id, "request": requests[0].id, "recipient": recipient}
            changes.note(session, "release-recall", stix, role="disclosure_officer", detail=detail)
            ours[stix] = ([r.id for r in requests], release.id, set(kept))
    return ours


def _request(session: Any, report: str, number: int, requester: int) -> ReleaseRequest:
    row = ReleaseRequest(
        report_stix_id=report, version_number=number, recipient_nation="CAN", recipient_agency=None,
        requester_id=requester, purpose="Onward", need_to_know="Fictional", expires_at=EXPIRES, created_at=NOW,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _release(session: Any, request: ReleaseRequest, kept: list[str]) -> Release:
    row = Release(
        id=f"release--{uuid.uuid4()}", request_id=request.id, report_stix_id=request.report_stix_id,
        version_number=request.version_number, kept_hashes=kept, recipient_nation="CAN", recipient_agency=None,
        determination="Fictional", purpose="Onward", need_to_know="Fictional", expires_at=EXPIRES, approvers=[],
        consents_used=[], banner="", created_at=NOW,
    )  # fmt: skip
    session.add(row)
    return row


def heard_ours(events: list[dict[str, Any]]) -> tuple[list[Step], set[str]]:
    """The steps of our release requests heard of, and the releases of ours heard recalled."""
    steps = [
        (e["kind"], e["report"], e["request"], e.get("outcome"), e.get("final"))
        for e in events
        if e["kind"] in ("release-request", "release-decision")
    ]
    return sorted(steps, key=repr), {e["release"] for e in events if e["kind"] == "release-recall"}


def want_ours(built: Built, ours: Ours, seen: set[str]) -> tuple[list[Step], set[str]]:
    """Every step of a report's requests if the principal sees an item of the report; the recall of
    our release if they see an item it kept."""
    steps: list[Step] = []
    for report_id, stix in built.report_ids.items():
        requests, _, _ = ours[stix]
        if not {x.hash for x, _ in built.items if x.report_id == report_id} & seen:
            continue
        for request, kinds in zip(requests, STEPS, strict=True):
            steps += [(kind, stix, request, outcome, final) for kind, outcome, final in kinds]
    return sorted(steps, key=repr), {release for _, release, kept in ours.values() if kept & seen}


def make_auditors(built: Built) -> None:
    with built.node.db.write() as session:
        for username in built.principals:
            principal = principal_named(session, username)
            assert principal is not None
            update_principal(session, principal, roles=["auditor"])


def seen_hashes(built: Built, p: oracle.P, world: oracle.World) -> set[str]:
    portions, objects = expected(replace(built, world=world), p)
    return {x.hash for x, _ in portions + objects}


def recall_heard_by(built: Built, p: oracle.P, report: str, delivered: list[oracle.G]) -> bool:
    """Whether p saw an item of the report this release delivered, the release still live."""
    before = oracle.World(built.world.node_nation, NOW, [*built.world.grants, *delivered])
    items = {x.hash for x, _ in built.items if built.report_ids[x.report_id] == report}
    return bool(items & {g.item_hash for g in delivered} & seen_hashes(built, p, before))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
def test_role_events_on_the_stream_obey_the_oracle(make_node: NodeFactory, spec: WorldSpec) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        requests = file_requests(built)
        released = recall_received(built)
        ours = release_ours(built)
        make_auditors(built)
        for username, p in built.principals.items():
            events, _ = events_for(built.node, detached_principal(built.node, username), 0, limit=100_000)
            heard_requests = {e["request"] for e in events if e["kind"] == "consent-request"}
            heard_recalls = {e["release"] for e in events if e["kind"] == "recall"}
            our_steps, our_recalls = heard_ours(events)
            if p.nation != "USA":  # foreign principals act on nothing here: no role event at all
                assert heard_requests == heard_recalls == set(), username
                assert our_steps == [] and our_recalls == set(), username
                continue
            seen = seen_hashes(built, p, built.world)
            assert heard_requests == {r for r, h in requests.items() if h in seen}, username
            want = {r for r, (report, delivered) in released.items() if recall_heard_by(built, p, report, delivered)}
            assert heard_recalls == want, username
            assert (our_steps, our_recalls) == want_ours(built, ours, seen), username
