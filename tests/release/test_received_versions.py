"""Version numbers of a received report count only the copies whose own release is live (DESIGN §3.3).

Each release of a report arrives as a new version, with the same hashes where nothing changed. When
the partner recalled the first two releases and a third arrived, a reader was told "version 3 of
3": two recalled copies counted. Here the Mexican FIA's report reaches the US node three times, by
hand as the federation layer delivers it. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tearline import clock
from tearline.db.models import Grant, Report
from tearline.fixtures import Demo, build_demo
from tearline.markings.marking import marking_from_dict
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.store.content import version_content
from tearline.store.drafts import PortionDraft, ReportDraft
from tearline.store.reports import create_report, store_received_version
from tearline.web.app import create_app
from tests.release.support import cheap_passwords, p
from tests.web.support import token_headers

STIX_ID = "report--4b7c2e91-5d3a-4f6b-8c1e-2a9d0f3b7e51"


@pytest.fixture
def demo(node: Node, monkeypatch: pytest.MonkeyPatch) -> Demo:
    cheap_passwords(monkeypatch)
    return build_demo(node)


def _deliver(node: Node, release_id: str) -> None:
    """Store FIA's report as received (a new version after the first), with one delivery per item."""
    with node.db.write() as session:
        registry = node.registry(session)
        mex = marking_from_dict(
            {"originator": {"nation": "MEX", "agency": "MX-DEMO-FIA"}, "level": "SECRETA", "rel_to": ["MEX", "USA"]},
            registry,
        )
        draft = ReportDraft(
            stix_id=STIX_ID,
            # The sender's hashes, as federation keeps them: the same in every copy of the same version.
            title=PortionDraft("Halcones watching the Jiménez toll plaza", mex, origin_hash="a1" * 32),
            portions=(
                PortionDraft(
                    "Two lookouts report trucks to the plaza's dispatcher by radio.", mex, origin_hash="b2" * 32
                ),
            ),
            objects=(),
            predicate="Reasonable suspicion of drug trafficking (fictional demo case).",
            need_to_know="Analysts working the Highway 49 corridor.",
            review_due=clock.now() + timedelta(days=300),
            received=True,
        )
        service = p(session, SERVICE_ACCOUNT)
        existing = session.scalar(select(Report).where(Report.stix_id == STIX_ID))
        if existing is None:
            create_report(session, draft, service, node.identity, registry)
        else:
            store_received_version(session, existing, draft, service, node.identity, registry)
        for item in version_content(session, STIX_ID).items:
            session.add(
                Grant(
                    kind="delivery",
                    grantor_nation="MEX",
                    grantor_agency="MX-DEMO-FIA",
                    nation="USA",
                    agency=None,
                    item_hash=item.hash,
                    expires_at=clock.now() + timedelta(days=90),
                    created_at=clock.now(),
                    origin_id=release_id,
                )
            )


def _recall(node: Node, release_id: str) -> None:
    """What a recall from the originator does here: the release's deliveries stop covering."""
    with node.db.write() as session:
        session.execute(update(Grant).where(Grant.origin_id == release_id).values(recalled_at=clock.now()))


def test_recalled_copies_are_not_counted_in_version_numbers(node: Node, demo: Demo) -> None:
    client = TestClient(create_app(node))
    ana, carla = token_headers(node, "ana.analyst"), token_headers(node, "carla.auditor")
    for release_id in ("release--mex-1", "release--mex-2", "release--mex-3"):
        _deliver(node, release_id)

    def shown(who: dict[str, str]) -> tuple[int, int]:
        response = client.get(f"/api/reports/{STIX_ID}", headers=who)
        assert response.status_code == 200, response.text
        return response.json()["version"], response.json()["versions"]

    assert shown(ana) == (3, 3)  # three live copies

    _recall(node, "release--mex-2")
    assert shown(ana) == shown(carla) == (2, 2)  # the second copy is gone from the count

    _recall(node, "release--mex-1")
    assert shown(ana) == shown(carla) == (1, 1)
    # An auditor's history holds only the live copy: there is no version 2 (or 3) to ask for.
    assert client.get(f"/api/reports/{STIX_ID}", params={"version": 1}, headers=carla).status_code == 200
    for hidden in (2, 3):
        response = client.get(f"/api/reports/{STIX_ID}", params={"version": hidden}, headers=carla)
        assert response.status_code == 404, response.text

    _recall(node, "release--mex-3")
    assert client.get(f"/api/reports/{STIX_ID}", headers=ana).status_code == 404  # nothing live is left
