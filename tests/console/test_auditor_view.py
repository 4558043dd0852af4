"""The auditor's console against the real `tearline demo`, in Chromium: carla.auditor, who is not read
into VU-HALCON, sees no entry or banner naming it, and each page's banner covers what it shows."""

from __future__ import annotations

from typing import Any

from tearline.fixtures import VETTED_UNIT
from tests.console.conftest import Served
from tests.console.test_walk import CONVOY, banners, log_in, log_out

PRECURSOR = "report--0b7a6c1d-9e2f-4a3b-8c4d-5e6f7a8b9c10"


def test_the_auditor_sees_nothing_of_the_vetted_unit(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    log_in(page, served, "ana.analyst")  # who reads the convoy report whole, its vetted portion too
    page.goto(f"{served.url}/reports/{CONVOY}")
    assert VETTED_UNIT in banners(page)[0]
    log_out(page)
    log_in(page, served, "carla.auditor")
    for report in (CONVOY, PRECURSOR):
        page.goto(f"{served.url}/audit?object={report}")
        expect(page.locator("[data-testid=hits]")).to_be_visible()
        assert VETTED_UNIT not in page.content()
    page.goto(f"{served.url}/audit?actor=ana.analyst@US-DEMO-NARC")
    expect(page.locator("[data-testid=hits] tbody tr").first).to_be_visible()
    assert VETTED_UNIT not in page.content()


def test_the_releases_banner_covers_the_releases_shown(page: Any, served: Served) -> None:
    log_in(page, served, "carla.auditor")
    page.goto(f"{served.url}/releases")
    shown = page.locator("[data-testid=releases] .mark").all_inner_texts()
    top, bottom = banners(page)
    assert shown and top == bottom == shown[0], (shown, top)  # the demo's one release still shown
