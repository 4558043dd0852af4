"""Helpers for the release tests: cheap log-ins, a Mexican second node, principals by name, and
a US release delivered to that node by hand (as the federation layer will deliver it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.models import Grant, Principal
from tearline.db.release_tables import Release
from tearline.fixtures import Demo
from tearline.markings.release import Recipient
from tearline.node import SERVICE_ACCOUNT, Node, init_node
from tearline.release import workflow
from tearline.store import principals
from tearline.store import registry as reg
from tearline.store.content import VersionContent, version_content
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report
from tests.conftest import Templates, _pg_admin, _pg_url

QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
DETERMINATION = "Sharing does not threaten national security: no sources or methods leave."

# The Mexican node's cast: an analyst who asks, and two disclosure officers (two-person rule at SECRETA).
MEX_CAST = {
    "mateo.enlace": ["analyst"],
    "lucia.divulgacion": ["disclosure_officer"],
    "rafael.divulgacion": ["disclosure_officer"],
}
# Agencies and the vetted unit the US markings name; the MEX node must know them to store them.
FOREIGN_AGENCIES = [
    ("US-DEMO-NARC", "USA", True),
    ("US-DEMO-INTEL", "USA", False),
    ("MX-DEMO-CNI", "MEX", False),
    ("MX-DEMO-UIS", "MEX", True),
    ("CA-DEMO-BORDER", "CAN", True),
]


def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id still, at its cheapest: the demo's eight principals cost seconds otherwise."""
    monkeypatch.setattr(principals, "_hasher", QUICK_HASHER)


def p(session: Session, username: str) -> Principal:
    found = session.scalar(select(Principal).where(Principal.username == username))
    assert found is not None, username
    return found


def mex_node(backend: str, templates: Templates, tmp_path: Path) -> Node:
    """A second node, of Mexico's FIA, on the same backend (a fresh PostgreSQL database there)."""
    url = None
    if backend == "postgres":
        name = f"tl_mex_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        templates.created.append(name)  # dropped with the others at the end of the session
        url = _pg_url(name)
    node = init_node(tmp_path / "mex", "MEX", "MX-DEMO-FIA", url)
    with node.db.write() as session:
        for agency, nation, law_enforcement in FOREIGN_AGENCIES:
            reg.add_agency(session, agency, nation, law_enforcement)
        reg.add_compartment(session, "VU-HALCON", ["US-DEMO-NARC", "MX-DEMO-UIS"])
        for username, roles in MEX_CAST.items():
            add_principal(session, username, "MEX", "MX-DEMO-FIA", "SECRETA", roles=roles)
    return node


def release_convoy_to_mexico(us: Node, demo: Demo) -> Release:
    """DESIGN §5 step 2 on the US node: ana asks, dan and dora approve."""
    request_id = convoy_request_for_mexico(us, demo)
    with us.db.write() as session:
        release = workflow.approve(session, us, p(session, "dora.disclosure"), request_id, DETERMINATION)
        assert release is not None
        session.expunge(release)
    return release


def convoy_request_for_mexico(us: Node, demo: Demo) -> int:
    """Ana asks to release the convoy report to Mexico's FIA and dan approves: dora's approval releases it."""
    request = workflow.RequestIn(
        demo.reports["convoy"],
        Recipient("MEX", "MX-DEMO-FIA"),
        "Interdiction at Jiménez",
        "FIA analysts on the Highway 49 corridor",
        clock.now() + timedelta(days=90),
    )
    with us.db.write() as session:
        request_id = workflow.request_release(session, us, p(session, "ana.analyst"), request).id
    with us.db.write() as session:
        assert workflow.approve(session, us, p(session, "dan.disclosure"), request_id, DETERMINATION) is None
    return request_id


def deliver(us: Node, release: Release, mex: Node) -> str:
    """What federation will do: store the US tearline on the MEX node as a received report, with the
    US markings, and one `delivery` grant per item naming the release that brought it."""
    with us.db.read() as session:
        content = version_content(session, release.report_stix_id, release.version_number)
    draft = received_draft(content, set(release.kept_hashes))
    with mex.db.write() as session:
        registry = mex.registry(session)
        report = create_report(session, draft, p(session, SERVICE_ACCOUNT), mex.identity, registry)
        mex_content = version_content(session, report.stix_id)
        session.add_all(delivery_grant(i.hash, release.id, release.expires_at) for i in mex_content.items)
    # The same items under the same hashes on both nodes: what a consent names means the same to both.
    assert sorted(i.hash for i in mex_content.items) == sorted(release.kept_hashes)
    return report.stix_id


def delivery_grant(item_hash: str, release_id: str, expires_at: datetime, agency: str | None = "MX-DEMO-FIA") -> Grant:
    """The `delivery` grant federation stores on the MEX node for an item a US release brought
    (to the agency it named, or the whole nation)."""
    return Grant(
        kind="delivery",
        grantor_nation="USA",
        grantor_agency="US-DEMO-NARC",
        nation="MEX",
        agency=agency,
        item_hash=item_hash,
        expires_at=clock.as_utc(expires_at),
        created_at=clock.now(),
        origin_id=release_id,
    )


def received_draft(content: VersionContent, kept: set[str]) -> ReportDraft:
    items = [i for i in content.items if i.hash in kept]
    title = next(i for i in items if i.kind == "title")
    portions = [i for i in items if i.kind == "portion"]
    # The kept portions here are the first ones of the original, so positions (and hashes) agree.
    assert [i.position for i in portions] == list(range(1, len(portions) + 1))
    return ReportDraft(
        stix_id=content.stix_id,
        title=PortionDraft(title.text, title.marking),
        portions=tuple(PortionDraft(i.text, i.marking) for i in portions),
        objects=tuple(
            ObjectDraft(
                i.stix_id or "",
                i.stix_type or "",
                dict(i.body),
                i.marking,
                name=i.text,
                observed_at=i.observed_at,
                latitude=i.latitude,
                longitude=i.longitude,
                source_ref=i.source_ref,
                target_ref=i.target_ref,
            )
            for i in items
            if i.kind == "object"
        ),
        predicate=content.predicate,
        need_to_know=content.need_to_know,
        review_due=content.review_due,
        received=True,
    )
