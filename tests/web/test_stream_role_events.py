"""Role events on the stream name reports and items, so they reach only officers and auditors who may
see them (DESIGN §3.3: roles grant actions, never visibility; nothing hidden shows).

On the MEX node: a US release arrives, then its recall, consent requests and a consent answer.
Officers and auditors cleared SECRETA read the report and hear of them; their PÚBLICA-cleared
colleagues, for whom the report answers 404, hear nothing, not even the report's id.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Portion, Report
from tearline.db.release_tables import ConsentRequest
from tearline.federation.seal import seal_unit
from tearline.node import Node
from tearline.store.principals import add_principal
from tests.federation import partner_units
from tests.federation.partner_units import SENDER, World, consent_request, sealed
from tests.federation.partner_units import recall as recall_unit
from tests.web.support import token_headers
from tests.web.test_stream import parse

world = partner_units.world  # the fixture: the US demo node, and a MEX node the US release is pushed to

CLEARED = ["lucia.divulgacion", "tomas.auditor"]  # SECRETA: they read the convoy report
UNCLEARED = ["pablo.divulgacion", "paula.auditora"]  # PÚBLICA: it answers 404 to them
ROLE_KINDS = {"recall", "consent-request", "consent-answer", "consent-revoke"}


def staff(mex: Node) -> None:
    """An auditor cleared like the officers, and a PÚBLICA-cleared officer and auditor."""
    with mex.db.write() as session:
        add_principal(session, "tomas.auditor", "MEX", "MX-DEMO-FIA", "SECRETA", roles=["auditor"])
        add_principal(session, "pablo.divulgacion", "MEX", "MX-DEMO-FIA", "PÚBLICA", roles=["disclosure_officer"])
        add_principal(session, "paula.auditora", "MEX", "MX-DEMO-FIA", "PÚBLICA", roles=["auditor"])


def received(world: World) -> str:
    """The convoy report as the MEX node holds it, once the US release has arrived."""
    world.push(world.release)
    report = str(world.release.payload["release"]["report"])
    headers = {u: token_headers(world.mex, u) for u in CLEARED + UNCLEARED}
    for username in CLEARED:
        assert world.client.get(f"/api/reports/{report}", headers=headers[username]).status_code == 200, username
    for username in UNCLEARED:
        assert world.client.get(f"/api/reports/{report}", headers=headers[username]).status_code == 404, username
    return report


def role_events(world: World, username: str) -> list[dict[str, Any]]:
    client: TestClient = world.client
    response = client.get("/api/stream", params={"once": "true"}, headers=token_headers(world.mex, username))
    assert response.status_code == 200, response.text
    return [e for e in parse(response.text) if e["kind"] in ROLE_KINDS]


def item_hashes(mex: Node, report: str) -> list[str]:
    with mex.db.read() as session:
        of_report = select(Report.id).where(Report.stix_id == report).scalar_subquery()
        return sorted(set(session.scalars(select(Portion.hash).where(Portion.report_id == of_report))))


def test_a_recall_reaches_only_those_who_could_read_what_it_recalls(world: World) -> None:
    staff(world.mex)
    report = received(world)
    world.push(recall_unit(world, report=report))
    for username in CLEARED:
        heard = role_events(world, username)
        assert [(e["kind"], e["report"]) for e in heard] == [("recall", report)], username
    for username in [*UNCLEARED, "mateo.enlace"]:
        assert role_events(world, username) == [], username


def test_a_consent_request_reaches_only_those_who_may_see_its_items(world: World) -> None:
    staff(world.mex)
    report = received(world)
    asked = consent_request(world, item_hashes=item_hashes(world.mex, report))
    world.push(asked)
    unheld = {**asked.payload, "id": f"consent-request--{uuid.uuid4()}", "item_hashes": ["ab" * 32]}
    at = clock.stix_timestamp(clock.now())
    world.push(seal_unit(world.us.signing_key(), SENDER, "MEX", "consent-request", unheld, [], at, "unheld"))
    with world.mex.db.read() as session:
        assert session.get(ConsentRequest, unheld["id"]) is not None  # filed, for items nobody here holds
    for username in CLEARED:
        heard = role_events(world, username)
        assert [(e["kind"], e["request"]) for e in heard] == [("consent-request", asked.payload["id"])], username
    for username in UNCLEARED:
        assert role_events(world, username) == [], username


def test_a_consent_answer_reaches_only_those_who_may_see_its_items(world: World) -> None:
    staff(world.mex)
    report = received(world)
    request = f"consent-request--{uuid.uuid4()}"
    with world.mex.db.write() as session:  # MEX asked the US to let it pass the convoy on to Canada
        session.add(
            ConsentRequest(
                id=request, direction="out", requester_nation="MEX", requester_agency="MX-DEMO-FIA",
                grantor_nation="USA", grantor_agency="US-DEMO-NARC", recipient_nation="CAN",
                recipient_agency=None, item_hashes=item_hashes(world.mex, report), purpose="Onward",
                created_at=clock.now(),
            )
        )  # fmt: skip
    world.push(sealed(world, "consent-answer", {"request": request, "answer": "refused"}))
    for username in CLEARED:
        heard = role_events(world, username)
        assert [(e["kind"], e["request"], e["answer"]) for e in heard] == [("consent-answer", request, "refused")]
    for username in UNCLEARED:
        assert role_events(world, username) == [], username
