"""Rule 4 on a receiving node (DESIGN §3.3): an ORCON portion released to one agency is seen by
that agency's principals there, and by no other agency of the nation.

Federation stores the release that brought a received item as a `delivery` grant naming the
recipient (nation and, if the release named one, agency). That grant is the live release of rule 4,
live by the same test as rule 5: unrecalled and unexpired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tearline import clock
from tearline.db.models import Grant, Portion, Principal
from tearline.markings.marking import Marking, marking_from_dict
from tearline.markings.visibility import Cover, ItemState, Rule, decide, item_facts
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store import reader_versions, reads
from tearline.store.content import version_content
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report
from tests.conftest import Templates, detached_principal
from tests.release.support import cheap_passwords, delivery_grant, mex_node

ORCON_TEXT = "Convoy leaves Torreón at dawn (originator controlled)"
RELEASE_ID = "release--6f1d2c3b-4a5e-4f60-8b71-9c0d1e2f3a4b"


@dataclass
class Received:
    node: Node
    report: str
    orcon_hash: str


def _marking(node: Node, *controls: str) -> Marking:
    raw = {
        "originator": {"nation": "USA", "agency": "US-DEMO-NARC"},
        "level": "SECRET",
        "rel_to": ["USA", "MEX"],
        "controls": list(controls),
        "compartments": [],
    }
    with node.db.read() as session:
        return marking_from_dict(raw, node.registry(session))


def _receive(node: Node, agency: str | None) -> Received:
    """What federation stores for a US release to MEX (`agency` as the release names it)."""
    draft = ReportDraft(
        title=PortionDraft("Highway 49 corridor", _marking(node)),
        portions=(
            PortionDraft("Front company trucks", _marking(node)),
            PortionDraft(ORCON_TEXT, _marking(node, "ORCON")),
        ),
        predicate="fictional predicate",
        review_due=clock.now() + timedelta(days=60),
        received=True,
    )
    with node.db.write() as session:
        service = session.scalar(select(Principal).where(Principal.username == SERVICE_ACCOUNT))
        assert service is not None
        report = create_report(session, draft, service, node.identity, node.registry(session))
        items = version_content(session, report.stix_id).items
        session.add_all(delivery_grant(i.hash, RELEASE_ID, clock.now() + timedelta(days=30), agency) for i in items)
        orcon = session.scalar(select(Portion.hash).where(Portion.report_id == report.id, Portion.text == ORCON_TEXT))
        assert orcon is not None
        return Received(node, report.stix_id, orcon)


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    cheap_passwords(monkeypatch)
    node = mex_node(backend, templates, tmp_path)
    with node.db.write() as session:
        add_principal(session, "paula.cni", "MEX", "MX-DEMO-CNI", "SECRETA", roles=["analyst"])
    return node


def _sql_sees(received: Received, username: str) -> bool:
    """The ORCON portion in every read path the rule feeds: the report, its count and its page."""
    node = received.node
    reader = node.reader(detached_principal(node, username))
    with node.db.read() as session:
        view = reader_versions.report_view(session, reader, node.table(session), received.report)
        in_view = received.orcon_hash in {p.hash for p in view.portions}
        orcon_id = session.scalar(select(Portion.id).where(Portion.hash == received.orcon_hash))
        in_page = orcon_id in reads.portion_page(session, reader, 50)
        counted = reads.portion_count(session, reader)
    assert in_view == in_page
    assert counted == 1 + len(view.portions)  # the title and the body portions seen
    return in_view


def _engine_decides(received: Received, username: str) -> tuple[bool, Rule | None]:
    """The per-item decision of the markings engine, from the grants stored."""
    node = received.node
    reader = node.reader(detached_principal(node, username))
    with node.db.read() as session:
        row = session.scalar(select(Portion).where(Portion.hash == received.orcon_hash))
        assert row is not None
        covers = [
            Cover(
                g.kind,
                g.grantor_nation,
                g.nation,
                g.agency,
                g.item_hash,
                g.report_version_id,
                clock.as_utc(g.expires_at),
                g.recalled_at is not None,
            )
            for g in session.scalars(select(Grant))
        ]
        marking = _marking(node, "ORCON")
        state = ItemState(row.hash, row.version_id, row.withdrawn, row.received, row.workspace_id)
        facts = item_facts(reader.viewer, marking, state, covers, reader.now, reader.allowed_workspaces)
        decision = decide(reader.viewer, marking, facts, "MEX", node.table(session))
    return decision.allowed, decision.rule


def test_orcon_released_to_fia_is_seen_by_fia_and_by_no_other_mexican_agency(mex: Node) -> None:
    received = _receive(mex, "MX-DEMO-FIA")
    assert _sql_sees(received, "mateo.enlace")
    assert _engine_decides(received, "mateo.enlace") == (True, None)
    assert not _sql_sees(received, "paula.cni")
    assert _engine_decides(received, "paula.cni") == (False, Rule.ORCON)


def test_orcon_released_to_mexico_alone_is_seen_by_no_mexican_agency(mex: Node) -> None:
    """A release naming only a nation does not count for ORCON (the rest of it is delivered)."""
    received = _receive(mex, None)
    for username in ("mateo.enlace", "paula.cni"):
        assert not _sql_sees(received, username)
        assert _engine_decides(received, username) == (False, Rule.ORCON)


@pytest.mark.parametrize("ended", ["recalled", "expired"])
def test_orcon_cover_ends_with_the_release_that_delivered_it(mex: Node, ended: str) -> None:
    """A second, nation-only release keeps the item live (rule 5) but is no ORCON cover."""
    received = _receive(mex, "MX-DEMO-FIA")
    with mex.db.write() as session:
        second = "release--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        session.add(delivery_grant(received.orcon_hash, second, clock.now() + timedelta(days=30), agency=None))
        ending = (
            {"recalled_at": clock.now()} if ended == "recalled" else {"expires_at": clock.now() - timedelta(seconds=1)}
        )
        session.execute(
            update(Grant).where(Grant.origin_id == RELEASE_ID, Grant.item_hash == received.orcon_hash).values(**ending)
        )
    assert not _sql_sees(received, "mateo.enlace")
    assert _engine_decides(received, "mateo.enlace") == (False, Rule.ORCON)
