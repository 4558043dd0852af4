"""`tearline screenshots`: a PNG of each console screen on the demo data, for the README."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tearline.cli.common import console, reports_errors
from tearline.cli.console_browser import chromium, demo_site, logged_in
from tearline.fixtures import WORKSPACE

VIEWPORT = {"width": 1280, "height": 860}


def _shot(page: Any, out: Path, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    console.print(f"  {out / name}.png")


def _approve(page: Any, url: str, request_id: int, determination: str) -> None:
    page.goto(f"{url}/review/{request_id}")
    page.fill("[data-testid=determination]", determination)
    page.click("[data-testid=approve]")
    page.wait_for_selector("[data-testid=outcome]")


@reports_errors
def screenshots(
    out: Annotated[Path, typer.Option(help="Directory for the PNG files.")] = Path("docs/screenshots"),
) -> None:
    """Save a screenshot of each console screen, on the demo data, in English (and two in es/fr)."""
    out.mkdir(parents=True, exist_ok=True)
    with demo_site() as site, chromium() as browser:
        url, convoy, request = site.url, site.demo.reports["convoy"], site.demo.release_request
        login = browser.new_context(viewport=VIEWPORT).new_page()
        login.goto(f"{url}/login")
        _shot(login, out, "login")
        ana = logged_in(browser, url, "ana.analyst", viewport=VIEWPORT)
        ana.goto(f"{url}/reports/{convoy}")
        _shot(ana, out, "report")
        ana.goto(f"{url}/reports/{convoy}/edit")
        ana.locator("fieldset.item[data-index='3'] input[data-field=rel_to][value=MEX]").check()
        ana.wait_for_selector(".item-problem:not([hidden])")
        _shot(ana, out, "editor-refusal")
        ana.goto(f"{url}/map")
        ana.wait_for_selector("#map[data-ready='1']")
        _shot(ana, out, "map")
        dan = logged_in(browser, url, "dan.disclosure", viewport=VIEWPORT)
        _shot(dan, out, "inbox")
        dan.goto(f"{url}/review/{request}")
        _shot(dan, out, "review")
        dan.goto(f"{url}/consent")
        _shot(dan, out, "consent")
        dan_es = logged_in(browser, url, "dan.disclosure", locale="es-MX", viewport=VIEWPORT)
        dan_es.goto(f"{url}/review/{request}")
        _shot(dan_es, out, "review-es")
        assert request is not None
        _approve(dan, url, request, "Releasing the convoy and port portions does not threaten national security.")
        dora = logged_in(browser, url, "dora.disclosure", viewport=VIEWPORT)
        _approve(dora, url, request, "Concur: no threat to national security; 30-day expiry.")
        carla = logged_in(browser, url, "carla.auditor", viewport=VIEWPORT)
        carla.goto(f"{url}/audit?object={convoy}")
        carla.locator("[data-testid=verify-release]").last.click()
        carla.wait_for_selector("[data-testid=server-result]")
        _shot(carla, out, "audit")
        adam = logged_in(browser, url, "adam.admin", viewport=VIEWPORT)
        adam.goto(f"{url}/workspaces/{WORKSPACE}")
        rule = '@id("no-can-personnel-from-2027")\nforbid(principal, action, resource)\n'
        rule += 'when { principal.nation == "CAN" && context.now >= 1798761600 };  // from 2027-01-01'
        adam.fill("[data-testid=policy]", rule)
        adam.click("[data-testid=save-policy]")
        adam.wait_for_selector("[data-testid=saved]")
        _shot(adam, out, "workspace")
        ana_fr = logged_in(browser, url, "ana.analyst", locale="fr-CA", viewport=VIEWPORT)
        ana_fr.goto(f"{url}/map")
        ana_fr.wait_for_selector("#map[data-ready='1']")
        _shot(ana_fr, out, "map-fr")
