"""A person's canonical fields cross to a partner in a release: the sealed unit carries them in
tearline's person property-extension, with its extension-definition, and the partner stores them
where its entity resolution reads them. Two real nodes over HTTP on loopback, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tearline import clock
from tearline.db.models import StixObject
from tearline.db.release_tables import OutboxMessage
from tearline.federation import courier
from tearline.federation.feed import unit_for
from tearline.fixtures import us_marking
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow
from tearline.resolve.entities import person_of
from tearline.stix import ids
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import create_report
from tests.federation.support import Pair
from tests.release.support import DETERMINATION, p

PERSON = "identity--4e8a2c6d-1b3f-4d5a-9e7c-2a4b6c8d0e11"
FIELDS = {"dob": "1984-05-17", "national_id": "QUBA840517HCLNSR07", "phones": "+52 871 555 0199"}


def _report_with_a_person(us: Node) -> str:
    with us.db.write() as session:
        registry = us.registry(session)
        us_mx = us_marking(registry, ["USA", "MEX"])
        body = {"name": "Aurelio Quintanar Bastida", "identity_class": "individual", "x_tearline_person": FIELDS}
        draft = ReportDraft(
            stix_id=None,
            title=PortionDraft("Convoy driver, Torreón", us_mx),
            portions=(PortionDraft("The driver of the lead tractor-trailer, as dispatch knows him.", us_mx),),
            objects=(ObjectDraft(PERSON, "identity", body, us_mx, name=body["name"]),),
            predicate="Reasonable suspicion of conspiracy to import controlled substances (fictional demo case).",
            need_to_know="Counter-narcotics analysts on the Highway 49 corridor.",
            review_due=clock.now() + timedelta(days=365),
        )
        return create_report(session, draft, p(session, "ana.analyst"), us.identity, registry).stix_id


def _release_to_mexico(us: Node, report: str) -> None:
    to = Recipient("MEX", "MX-DEMO-FIA")
    request = workflow.RequestIn(report, to, "Identify the driver", "FIA analysts", clock.now() + timedelta(days=30))
    with us.db.write() as session:
        request_id = workflow.request_release(session, us, p(session, "ana.analyst"), request).id
    with us.db.write() as session:
        assert workflow.approve(session, us, p(session, "dan.disclosure"), request_id, DETERMINATION) is None
    with us.db.write() as session:
        assert workflow.approve(session, us, p(session, "dora.disclosure"), request_id, DETERMINATION) is not None


def test_a_partner_reads_the_person_fields_of_a_release(pair: Pair) -> None:
    _release_to_mexico(pair.us, _report_with_a_person(pair.us))
    with pair.us.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        unit = unit_for(pair.us, message)
    sent = {o["id"]: o for o in unit.objects}
    assert sent[PERSON]["extensions"] == {ids.EXT_PERSON: {"extension_type": "property-extension", **FIELDS}}
    assert "x_tearline_person" not in sent[PERSON]
    assert sent[ids.EXT_PERSON]["extension_types"] == ["property-extension"]
    done = courier.push_pending(pair.us)
    assert (done.pushed, done.failed, done.refused) == (1, 0, 0), done.errors
    with pair.mex.db.read() as session:
        body = session.scalar(select(StixObject.body).where(StixObject.stix_id == PERSON))
    assert body is not None and body["x_tearline_person"] == FIELDS
    record = person_of(dict(body), "MEX")
    assert record.national_id == "QUBA840517HCLNSR07" and record.phones
    assert record.dob is not None and (record.dob.year, record.dob.month, record.dob.day) == (1984, 5, 17)
