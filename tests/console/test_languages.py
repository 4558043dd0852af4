"""Every screen in English, Spanish and French, in Chromium, on the demo data.

The language follows the browser (Accept-Language) with a switch in the page. National labels in
banners and portion marks stay as each nation writes them, whatever the language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tearline.fixtures import WORKSPACE, Demo
from tests.console.conftest import Served

CONVOY = "report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01"
# (who, path, the page's heading in en, es, fr)
SCREENS = [
    ("dan.disclosure", "/inbox", ("Inbox", "Bandeja de entrada", "Boîte de réception")),
    ("dan.disclosure", f"/reports/{CONVOY}", None),
    ("ana.analyst", f"/reports/{CONVOY}/edit", ("Edit markings", "Editar marcas", "Modifier les marquages")),
    ("dan.disclosure", "/review/1", ("Release review", "Revisión de la entrega", "Examen de la communication")),
    ("dan.disclosure", "/consent", ("Consent", "Consentimiento", "Consentement")),
    ("dan.disclosure", "/releases", ("Releases", "Entregas", "Communications")),
    ("adam.admin", f"/workspaces/{WORKSPACE}", ("Host rules of", "Reglas del anfitrión de", "Règles de l'hôte de")),
    ("ana.analyst", "/map", ("Map and timeline", "Mapa y cronología", "Carte et chronologie")),
    ("ana.analyst", "/entities/reviews", ("Entity reviews", "Revisiones de entidades", "Revues d'entités")),
    ("carla.auditor", "/audit", ("Audit", "Auditoría", "Audit")),
]
LANGUAGES = {"en": "en-US", "es": "es-MX", "fr": "fr-CA"}


@pytest.fixture(scope="module", params=list(LANGUAGES))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def pages(browser: Any, language: str) -> Iterator[dict[str, Any]]:
    """One logged-in page per demo user, with the browser asking for the language."""
    context_of: dict[str, Any] = {}
    yield context_of
    for context in context_of.values():
        context.close()


def page_for(browser: Any, served: Served, pages: dict[str, Any], username: str, language: str) -> Any:
    if username not in pages:
        context = browser.new_context(locale=LANGUAGES[language])
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        # A console error would also show a blocked asset (the pages allow only this node's own).
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.errors = errors
        page.goto(f"{served.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", Demo.passwords()[username])
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/inbox"))
        pages[username] = context
    return pages[username].pages[0]


@pytest.mark.parametrize(("who", "path", "headings"), SCREENS, ids=[s[1].split("/")[1] for s in SCREENS])
def test_each_screen_in_each_language(
    browser: Any, served: Served, pages: dict[str, Any], language: str, who: str, path: str, headings: Any
) -> None:
    page = page_for(browser, served, pages, who, language)
    response = page.goto(served.url + path)
    assert response.status == 200, path
    assert page.get_attribute("html", "lang") == language
    if headings:
        assert page.inner_text("h1").startswith(headings[list(LANGUAGES).index(language)])
    top = page.inner_text("[data-testid=banner-top]").strip()
    assert top == page.inner_text("[data-testid=banner-bottom]").strip()
    # National labels are shown as the nation writes them: never translated.
    assert top.split("//")[0] in {"UNCLASSIFIED", "CUI", "CONFIDENTIAL", "SECRET", "TOP SECRET"}
    page.wait_for_load_state("load")
    assert page.errors == [], page.errors


def test_the_switch_changes_the_language(browser: Any, served: Served, language: str) -> None:
    context = browser.new_context(locale=LANGUAGES[language])
    page = context.new_page()
    page.goto(f"{served.url}/login")
    other = "fr" if language != "fr" else "es"
    page.click(f".langs a[hreflang={other}]")
    assert page.get_attribute("html", "lang") == other
    page.goto(f"{served.url}/login")  # the choice is remembered
    assert page.get_attribute("html", "lang") == other
    context.close()
