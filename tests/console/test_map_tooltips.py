"""The map's tooltips show names as text, in Chromium against the real `tearline demo`.

A place's name is data from a report (any author, any partner): markup in it must show as its
characters, never become elements or run script.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from tearline import clock
from tearline.fixtures import WORKSPACE, Demo
from tests.console.conftest import Served
from tests.console.test_walk import log_in

NAME = "<img src=x onerror=alert(1)><b>bold</b>"


def _place_named_with_markup(served: Served) -> None:
    login = {"username": "ana.analyst", "password": Demo.passwords()["ana.analyst"]}
    token = httpx.post(f"{served.url}/api/login", json=login).json()["token"]
    marking = {"originator": {"nation": "USA", "agency": "US-DEMO-NARC"}, "level": "SECRET", "rel_to": ["USA", "MEX"]}
    place = {"name": NAME, "latitude": 29.0729, "longitude": -110.9559}
    body = {
        "title": {"text": "A place with an odd name", "marking": marking},
        "portions": [{"text": "The place's name came in as written.", "marking": marking}],
        "objects": [
            {
                "id": f"location--{uuid.uuid4()}",
                "type": "location",
                "name": NAME,
                "properties": place,
                "marking": marking,
                "latitude": place["latitude"],
                "longitude": place["longitude"],
            }
        ],
        "predicate": "Reasonable suspicion of narcotics transport (fictional test case).",
        "need_to_know": "Analysts of the corridor.",
        "review_due": (clock.now() + timedelta(days=90)).isoformat(),
        "workspace": WORKSPACE,
    }
    created = httpx.post(f"{served.url}/api/reports", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text


def test_a_place_name_holding_markup_shows_as_text(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _place_named_with_markup(served)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, served, "ana.analyst")
    page.goto(f"{served.url}/map")
    expect(page.locator("#map[data-ready='1']")).to_have_count(1)
    tips: list[str] = []
    for marker in page.locator("#map path.leaflet-interactive").all():
        marker.dispatch_event("mouseover")
        tips += page.locator(".leaflet-tooltip").all_inner_texts()
        marker.dispatch_event("mouseout")
    assert any(NAME in tip for tip in tips), tips
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip b, #map img[src='x']").count() == 0
    assert dialogs == []
