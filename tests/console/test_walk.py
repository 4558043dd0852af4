"""The demo storyline through the console, in Chromium, against the real `tearline demo`.

Log in, read the convoy report, mark a portion (and see an invalid marking refused with its
reason), request a release to Mexico, review the tearline, approve it with two disclosure
officers, and verify the release's audit entry in the browser and on the node.
"""

from __future__ import annotations

import re
from typing import Any

from tearline.fixtures import Demo
from tearline.fixtures.partners import MEX_CAST
from tests.console.conftest import Served

CONVOY = "report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01"
PASSWORDS = Demo.passwords()


def log_in(page: Any, served: Served, username: str, url: str | None = None) -> None:
    page.goto(f"{url or served.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS.get(username) or MEX_CAST[username][4])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox"))


def log_out(page: Any) -> None:
    page.click("[data-testid=logout]")
    page.wait_for_url(re.compile(r"/login"))


def banners(page: Any) -> tuple[str, str]:
    top = page.inner_text("[data-testid=banner-top]").strip()
    bottom = page.inner_text("[data-testid=banner-bottom]").strip()
    return top, bottom


def test_the_storyline(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    # 1. ana logs in and reads the convoy report, marked portion by portion.
    log_in(page, served, "ana.analyst")
    assert banners(page)[0] == banners(page)[1] == "SECRET//VU-HALCON//LES//NOFORN"
    page.click(f"tr[data-report='{CONVOY}'] a")
    expect(page.locator("[data-testid=portion-1] .mark")).to_have_text("(SECRET//LES//REL TO USA, MEX)")
    expect(page.locator("[data-testid=portion-3]")).to_contain_text("(SECRET//NOFORN)")
    assert banners(page) == ("SECRET//VU-HALCON//LES//NOFORN",) * 2

    # 2. She marks the Vancouver portion as personal data: the banner follows as she edits.
    page.click("[data-testid=edit]")
    vancouver = page.locator("fieldset.item[data-index='2']")
    vancouver.locator("input[data-field=controls][value=DP]").check()
    expect(page.locator("[data-testid=banner-top]")).to_have_text("SECRET//VU-HALCON//DP/LES//NOFORN")
    expect(vancouver.locator(".live-mark")).to_have_text("(SECRET//DP//REL TO USA, CAN, MEX)")

    # An invalid marking is refused with its reason: NOFORN together with another nation.
    source = page.locator("fieldset.item[data-index='3']")
    source.locator("input[data-field=rel_to][value=MEX]").check()
    expect(source.locator(".item-problem")).to_contain_text("NOFORN")
    expect(page.locator("[data-testid=save-error]")).to_be_visible()
    source.locator("input[data-field=rel_to][value=MEX]").uncheck()
    expect(page.locator("[data-testid=banner-top]")).to_have_text("SECRET//VU-HALCON//DP/LES//NOFORN")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(rf"/reports/{CONVOY}$"))
    expect(page.locator("[data-testid=version]")).to_have_text("2")
    expect(page.locator("[data-testid=portion-2] .mark")).to_have_text("(SECRET//DP//REL TO USA, CAN, MEX)")

    # 3. She asks to release it to Mexico's FIA.
    page.click("[data-testid=request-release]")
    page.select_option("[data-testid=recipient]", "MEX/MX-DEMO-FIA")
    page.fill("textarea[name=purpose]", "Interdiction at the Jiménez stop (fictional demo case).")
    page.fill("textarea[name=need_to_know]", "FIA analysts of the Highway 49 corridor.")
    page.click("[data-testid=submit-request]")
    expect(page.locator("[data-testid=requested]")).to_be_visible()
    request_id = page.url.rsplit("requested=", 1)[1]
    log_out(page)

    # 4. A disclosure officer reviews the tearline: withheld items struck through, with their rule.
    log_in(page, served, "dan.disclosure")
    page.click(f"[data-testid=queue] a[href='/review/{request_id}']")
    # dan holds no vetted-unit compartment: his review shows, and his banner counts, only what he may see.
    expect(page.locator("[data-testid=banner-before]")).to_have_text("SECRET//DP/LES//NOFORN")
    expect(page.locator("[data-testid=banner-after]")).to_have_text("SECRET//DP/LES//REL TO USA, MEX")
    expect(page.locator("[data-testid=recipient-clearance]")).to_contain_text("SECRETA")
    source_text = "Reporting comes from a person inside the company's dispatch office with direct access."
    expect(page.locator(".portion.withheld del")).to_have_text([source_text])
    expect(page.locator("[data-testid=withheld-by] code")).to_have_text(["not-releasable-to-recipient"])
    assert "VU-HALCON" not in page.content()
    expect(page.locator("[data-testid^=tearline-]")).to_have_count(2)
    determination = "Releasing the convoy and port portions does not threaten national security."
    page.fill("[data-testid=determination]", determination)
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=outcome]")).to_contain_text("two-person rule")
    # The same officer cannot be the second approver.
    page.fill("[data-testid=determination]", "Again.")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=decision-error]")).to_contain_text("already approved")
    log_out(page)

    # Meanwhile a Mexican analyst has her inbox open on the Mexican node, listening to its stream.
    partner = page.context.browser.new_context(locale="es-MX")
    partner.set_default_timeout(20_000)
    mateo = partner.new_page()
    log_in(mateo, served, "mateo.enlace", served.mex_url)
    expect(mateo.locator("#live-state")).to_have_text(mateo.locator("#live-state").get_attribute("data-on"))

    # 5. A second officer approves: the tearline is released.
    log_in(page, served, "dora.disclosure")
    page.goto(f"{served.url}/review/{request_id}")
    page.fill("[data-testid=determination]", "Concur: no threat to national security; 30-day expiry.")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=outcome]")).to_contain_text("released")
    release_id = page.inner_text("[data-testid=release-id]")
    assert release_id.startswith("release--")
    log_out(page)

    # 6. It arrives at the partner: live in the Mexican inbox, then readable there, marked in
    # Mexico's labels, without the source portion that stayed home.
    expect(mateo.locator("#live-events li").first).to_be_visible()
    mateo.reload()
    mateo.click(f"tr[data-report='{CONVOY}'] a")
    top, bottom = banners(mateo)
    assert top == bottom and top.startswith("SECRETA//") and top.endswith("REL TO MEX, USA")
    assert "dispatch office" not in mateo.content()
    expect(mateo.locator(".portion")).to_have_count(2)
    partner.close()

    # 7. The auditor verifies the release's audit entry, in the browser and on the node.
    log_in(page, served, "carla.auditor")
    page.goto(f"{served.url}/audit")
    page.locator("[data-testid=verify-release]").last.click()
    expect(page.locator("[data-testid=browser-result]")).to_have_attribute("data-ok", "true")
    expect(page.locator("[data-testid=server-result]")).to_have_attribute("data-ok", "true")
    page.goto(f"{served.url}/audit?object={CONVOY}")
    expect(page.locator("[data-testid=hits] tbody tr")).not_to_have_count(0)
    assert banners(page)[0] == banners(page)[1]
    log_out(page)


def test_map_and_timeline(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    log_in(page, served, "ana.analyst")
    page.goto(f"{served.url}/map")
    expect(page.locator("#map[data-ready='1']")).to_have_count(1)
    assert page.get_attribute("#map", "data-basemap") is None, "the offline basemap did not load"
    expect(page.locator("[data-testid=events] li")).to_have_count(3)  # three sightings of the truck
    expect(page.locator("#map path.leaflet-interactive")).not_to_have_count(0)
    page.fill("[data-testid=slider]", "0")
    expect(page.locator("[data-testid=events] li")).to_have_count(1)
    assert banners(page) == ("SECRET//REL TO USA, MEX",) * 2
    log_out(page)


def test_host_rules_are_validated_and_versioned(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    log_in(page, served, "adam.admin")
    page.click("a[href='/workspaces']")
    page.click("[data-testid=workspace-fc-paso-del-norte]")
    page.fill("[data-testid=policy]", "permit(principal, action, resource);")
    page.click("#validate")
    expect(page.locator("[data-testid=validation]")).to_contain_text("only forbid")
    rule = '@id("no-can-personnel")\nforbid(principal, action, resource) when { principal.nation == "CAN" };'
    page.fill("[data-testid=policy]", rule)
    page.click("#validate")
    expect(page.locator("[data-testid=validation]")).to_contain_text("no-can-personnel")
    page.click("[data-testid=save-policy]")
    expect(page.locator("[data-testid=saved]")).to_be_visible()
    expect(page.locator("[data-testid=version-1]")).to_contain_text("no-can-personnel")
    log_out(page)
