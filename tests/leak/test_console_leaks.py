"""The leak harness through the console: the HTML pages and the JSON they carry, for random worlds.

Every principal of a random world logs in (a session cookie) and reads the inbox, each report and
the map. The oracle of DESIGN §3.3 decides what each may receive: the reports listed, the portions
and objects shown, the points on the map and every banner must be exactly what it admits, and a
hidden report must answer exactly like a missing one.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tearline import clock
from tearline.markings.banner import banner_text
from tearline.store.items import items_by_hash
from tearline.store.principals import issue_token
from tearline.web.app import SESSION_COOKIE, create_app
from tearline.web.console.routes_map import MAP_TYPES
from tests.conftest import NodeFactory
from tests.leak import oracle
from tests.leak.test_leak_harness import NOW, Built, _marking_of, build, expected
from tests.leak.world import WorldSpec, worlds

MISSING = "report--00000000-0000-4000-8000-000000000000"
BANNER = re.compile(r'data-testid="banner-top">([^<]*)<')


def _banner(page: str) -> str:
    top = BANNER.search(page)
    bottom = re.search(r'data-testid="banner-bottom">([^<]*)<', page)
    assert top is not None and bottom is not None
    assert top.group(1) == bottom.group(1), "the banner at the top and at the bottom differ"
    return top.group(1).replace("&#39;", "'")


def _expected_banner(shown: list[oracle.X], table: Any) -> str:
    return banner_text([_marking_of(x) for x in shown], "USA", table) if shown else "UNCLASSIFIED"


def _client_for(built: Built, username: str) -> TestClient:
    with built.node.db.write() as session:
        token = issue_token(session, session.merge(built.rows[username]), kind="session", ttl=timedelta(hours=1))
    client = TestClient(create_app(built.node))
    client.cookies.set(SESSION_COOKIE, token)
    return client


def check_console(built: Built, username: str) -> None:
    p = built.principals[username]
    portions, objects = expected(built, p)
    client = _client_for(built, username)
    with built.node.db.read() as session:
        table = built.node.table(session)
    visible = {r.report_id for _, r in portions} | {r.report_id for _, r in objects}

    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    listed = set(re.findall(r'<tr data-report="([^"]+)"', inbox.text))
    assert listed == {built.report_ids[r] for r in visible}
    assert _banner(inbox.text) == _expected_banner([x for x, _ in portions + objects], table)

    missing = client.get(f"/reports/{MISSING}")
    for report_id, stix in built.report_ids.items():
        page = client.get(f"/reports/{stix}")
        if report_id not in visible:
            assert (page.status_code, page.text) == (404, missing.text)
            continue
        assert page.status_code == 200
        body = [r for _, r in portions if r.report_id == report_id and not r.is_title]
        assert re.findall(r'class="portion" data-hash="([^"]+)"', page.text) == [
            r.hash for r in sorted(body, key=lambda r: r.position)
        ]
        assert set(re.findall(r'<tr class="object" data-id="([^"]+)"', page.text)) == {
            r.stix_id for _, r in objects if r.report_id == report_id
        }
        shown = [x for x, r in portions + objects if r.report_id == report_id]
        assert _banner(page.text) == _expected_banner(shown, table)

    # What a consent request asks for is shown item by item: only the items the reader may see.
    with built.node.db.read() as session:
        named = items_by_hash(session, built.node.reader(built.rows[username]), [r.hash for _, r in built.items])
    assert {i.hash for i in named} == {r.hash for _, r in portions + objects}

    map_page = client.get("/map")
    points = json.loads(re.search(r'id="points">(.*?)</script>', map_page.text, re.S).group(1))  # type: ignore[union-attr]
    placed = [
        (x, r)
        for x, r in objects
        if r.stix_type in MAP_TYPES and r.latitude is not None and oracle.sees_coordinates(p, x)
    ]
    assert {pt["id"] for pt in points} == {r.stix_id for _, r in placed}
    assert _banner(map_page.text) == _expected_banner([x for x, _ in placed], table)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
def test_console_pages_obey_the_oracle(make_node: NodeFactory, spec: WorldSpec) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        for username in built.principals:
            check_console(built, username)
