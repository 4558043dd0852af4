"""The banners of /consent, /releases and /audit roll up what each page shows, for its reader
(DESIGN §3.4), on SQLite and PostgreSQL: SECRET items never sit under an UNCLASSIFIED banner."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.db.models import Principal
from tearline.fixtures import Demo, request_convoy_release
from tearline.node import Node
from tearline.release import workflow
from tearline.release.consents import receive_consent_request
from tearline.store.content import version_content
from tests.console.test_sessions import log_in

# What the convoy's release to FIA keeps, as each officer and the auditor may see it.
RELEASED = "SECRET//LES//REL TO USA, MEX"


def _banners(page: str) -> tuple[str, str]:
    found = re.findall(r'data-testid="banner-(?:top|bottom)">([^<]*)<', page)
    assert len(found) == 2, page
    return found[0].strip(), found[1].strip()


def _release_convoy(node: Node, demo: Demo) -> None:
    request_id = request_convoy_release(node, demo)
    for officer in ("dan.disclosure", "dora.disclosure"):
        with node.db.write() as session:
            me = session.scalar(select(Principal).where(Principal.username == officer))
            assert me is not None
            workflow.approve(session, node, me, request_id, "No threat to national security (fictional).")


def test_the_consent_page_banner_covers_the_items_asked_for(client: TestClient, node: Node, demo: Demo) -> None:
    with node.db.write() as session:
        content = version_content(session, demo.reports["convoy"])
        item = next(i.hash for i in content.items if "port of Vancouver" in i.text)
        request = {
            "id": "consent-request--1b2c3d4e-0000-4000-8000-000000000002",
            "requester": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
            "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
            "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
            "item_hashes": [item],
            "purpose": "Pass the port contact to the Canadian border agency (fictional).",
        }
        receive_consent_request(session, node, request)
    log_in(client, "dan.disclosure")
    page = client.get("/consent").text
    assert "port of Vancouver" in page
    assert _banners(page) == ("SECRET//REL TO USA, CAN, MEX",) * 2


def test_the_releases_and_audit_page_banners_cover_the_releases_shown(
    client: TestClient, node: Node, demo: Demo
) -> None:
    _release_convoy(node, demo)
    log_in(client, "dan.disclosure")
    assert _banners(client.get("/releases").text) == (RELEASED,) * 2
    log_in(client, "carla.auditor")
    assert _banners(client.get("/releases").text) == (RELEASED,) * 2
    page = client.get("/audit").text
    assert "verify-release" in page and _banners(page) == (RELEASED,) * 2
    searched = client.get("/audit", params={"object": demo.reports["convoy"]}).text
    assert _banners(searched)[0].startswith("SECRET")


def test_pages_that_show_nothing_marked_keep_the_lowest_label(client: TestClient) -> None:
    log_in(client, "carla.auditor")
    assert _banners(client.get("/audit").text) == ("UNCLASSIFIED",) * 2
    assert _banners(client.get("/releases").text) == ("UNCLASSIFIED",) * 2
