"""A version that changes nothing a reader sees is no new version for them in the holdings either.

ana adds a VU-HALCON portion to a report. carla.auditor, outside VU-HALCON, was served the report
and its objects again with the edit's time as `date_added` and `modified`, moved after every
later report, and brought by an `added_after` poll: news that something she may not see had been
edited (DESIGN §3.3). Her holdings are now what they were; ana's show the new version. Over real
HTTP, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx

from tearline import clock
from tearline.fixtures import Demo
from tearline.node import Node
from tests.federation.support import serving
from tests.taxii.support import holdings_url, taxii_headers
from tests.web.conftest import demo, demo_start
from tests.web.support import iso, report_body, token_headers
from tests.web.test_report_versions_api import CUI, FIRST, VETTED

__all__ = ["demo", "demo_start"]


DUE = iso(clock.now().replace(microsecond=0) + timedelta(days=365))  # the same in every version


def _body(portions: list[dict[str, Any]], person: str) -> dict[str, Any]:
    body = report_body(title={"text": "Cash couriers at Nogales", "marking": CUI}, review_due=DUE)
    body["objects"][0].update(id=person, marking=CUI)
    return {**body, "portions": portions}


def _store(http: httpx.Client, node: Node, portions: list[dict[str, Any]], courier: str, report: str = "") -> str:
    """ana stores a report naming one courier (its person object the same in every version)."""
    ana = token_headers(node, "ana.analyst")
    person = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, f'tearline-test/courier/{courier}')}"
    if not report:
        created = http.post("/api/reports", json=_body(portions, person), headers=ana)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])
    saved = http.put(f"/api/reports/{report}", json=_body(portions, person), headers=ana)
    assert saved.status_code == 200, saved.text
    return report


def _read(http: httpx.Client, node: Node, username: str, resource: str, limit: int, **params: str) -> Any:
    """Every page of a holdings resource, following `next`: the items and each page's date headers."""
    items: list[Any] = []
    headers: list[tuple[str | None, str | None]] = []
    query: dict[str, Any] = {"limit": limit, **params}
    for _ in range(1_000):
        page = http.get(holdings_url(node) + resource, params=query, headers=taxii_headers(node, username))
        assert page.status_code == 200, page.text
        body = page.json()
        items += body.get("objects", [])
        headers.append((page.headers.get("X-TAXII-Date-Added-First"), page.headers.get("X-TAXII-Date-Added-Last")))
        if not body["more"]:
            return items, headers
        query["next"] = body["next"]
    raise AssertionError("paging did not end")


def _unhashed(holdings: Any) -> Any:
    manifest, headers, objects = holdings
    unhashed = [re.sub(r'"hash": "[0-9a-f]{64}"', '"hash": ""', json.dumps(o)) for o in objects]
    return manifest, headers, [json.loads(o) for o in unhashed]


def _holdings(http: httpx.Client, node: Node, username: str) -> tuple[Any, Any, Any]:
    manifest, headers = _read(http, node, username, "manifest/", 1000)
    objects, _ = _read(http, node, username, "objects/", 1000)
    paged, _ = _read(http, node, username, "objects/", 2)  # pages ending on either side of the report
    assert paged == objects
    return manifest, headers, objects


def test_a_hidden_portion_edit_moves_nothing_in_the_holdings_of_a_reader_outside_it(
    node: Node, demo: Demo
) -> None:
    with serving(node) as url, httpx.Client(base_url=url, timeout=30) as http:
        report = _store(http, node, [FIRST], "first")
        later = _store(http, node, [{**FIRST, "text": "A second courier crew at Sasabe."}], "second")
        carla_before, ana_before = _holdings(http, node, "carla.auditor"), _holdings(http, node, "ana.analyst")
        _store(http, node, [FIRST, VETTED], "first", report)  # a VU-HALCON portion only
        carla_after, ana_after = _holdings(http, node, "carla.auditor"), _holdings(http, node, "ana.analyst")

        # Same order, date_added, modified and page headers; the bodies too, but for the item hashes
        # a report names its sources by, which are every stored version's own (as the report read's).
        assert _unhashed(carla_after) == _unhashed(carla_before)
        listed = [m["id"] for m in carla_after[0]]
        assert listed.index(report) < listed.index(later)
        added = next(m["date_added"] for m in carla_after[0] if m["id"] == later)
        for resource in ("manifest/", "objects/"):
            polled, _ = _read(http, node, "carla.auditor", resource, 1000, added_after=added)
            assert polled == [], resource

        old = next(m for m in ana_before[0] if m["id"] == report)
        new = next(m for m in ana_after[0] if m["id"] == report)
        assert new["version"] > old["version"] and new["date_added"] > old["date_added"]
        polled, _ = _read(http, node, "ana.analyst", "manifest/", 1000, added_after=added)
        assert report in [m["id"] for m in polled]
        served = next(o for o in ana_after[2] if o["id"] == report)
        assert VETTED["text"] in str(served)


def test_pages_after_hidden_edits_are_never_empty_with_more_to_come(node: Node, demo: Demo) -> None:
    """Empty pages that say `more` would count, one by one, the items that hidden edits moved."""
    with serving(node) as url, httpx.Client(base_url=url, timeout=30) as http:
        report = _store(http, node, [FIRST], "first")
        later = _store(http, node, [{**FIRST, "text": "A second courier crew at Sasabe."}], "second")
        manifest, _ = _read(http, node, "carla.auditor", "manifest/", 1000)
        added = next(m["date_added"] for m in manifest if m["id"] == later)
        for n in range(3):  # VU-HALCON portions only
            _store(http, node, [FIRST, {**VETTED, "text": f"{VETTED['text']} ({n})"}], "first", report)
        for resource in ("manifest/", "objects/"):
            query: dict[str, Any] = {"limit": 1, "added_after": added}
            for _ in range(100):
                page = http.get(holdings_url(node) + resource, params=query,
                                headers=taxii_headers(node, "carla.auditor")).json()
                assert page.get("objects") or not page["more"], (resource, page)
                if not page["more"]:
                    break
                query["next"] = page["next"]
