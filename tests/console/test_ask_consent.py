"""A disclosure officer asks an originator for consent from the release review, in Chromium, against
the real `tearline demo`: the US releases its precursor report to Mexico's FIA; Mexico's analyst asks
to pass it to Canada, where the third-party rule withholds every US item; Mexico's officer chooses
the items on the review page and asks; the request reaches the US node's consent page."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx

from tearline import clock
from tearline.fixtures.partners import MEX_CAST
from tests.console.conftest import Served
from tests.console.test_auditor_view import PRECURSOR
from tests.console.test_walk import PASSWORDS, log_in


def _session(url: str, username: str) -> tuple[httpx.Client, str]:
    """A console session over plain HTTP (the set-up around the browser): the client and its CSRF token."""
    client = httpx.Client(base_url=url, timeout=20)
    nonce = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert nonce is not None
    password = PASSWORDS.get(username) or MEX_CAST[username][4]
    form = {"username": username, "password": password, "csrf": nonce.group(1), "next": "/inbox"}
    assert client.post("/login", data=form).status_code == 303
    token = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text)
    assert token is not None
    return client, token.group(1)


def _request_release(url: str, username: str, recipient: str) -> int:
    client, csrf = _session(url, username)
    form = {
        "csrf": csrf,
        "recipient": recipient,
        "purpose": "Precursor diversion through Manzanillo (fictional)",
        "need_to_know": "Analysts working precursor consignments",
        "expires": (clock.now() + timedelta(days=20)).date().isoformat(),
    }
    response = client.post(f"/reports/{PRECURSOR}/release", data=form)
    assert response.status_code == 303, response.text[:500]
    return int(re.findall(r"\d+", response.headers["location"].split("requested=")[-1])[-1])


def _approve_on_us(served: Served, request_id: int) -> None:
    for officer in ("dan.disclosure", "dora.disclosure"):
        client, csrf = _session(served.url, officer)
        form = {"csrf": csrf, "determination": "No source or method leaves with this tearline."}
        location = client.post(f"/review/{request_id}/approve", data=form).headers["location"]
        if "outcome=disseminated" in location:
            return
    raise AssertionError("the precursor report was not released")


def _until_received(served: Served) -> None:
    """Wait for the courier to deliver the release to Mexico's node (a wait, not a timing check)."""
    client, _ = _session(served.mex_url, "mateo.enlace")
    deadline = time.monotonic() + 60
    while client.get(f"/reports/{PRECURSOR}").status_code != 200:
        assert time.monotonic() < deadline, "the release did not reach Mexico's node"
        time.sleep(0.5)


def test_an_officer_asks_the_originator_for_consent_from_the_review(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _approve_on_us(served, _request_release(served.url, "ana.analyst", "MEX/MX-DEMO-FIA"))
    _until_received(served)
    request_id = _request_release(served.mex_url, "mateo.enlace", "CAN/CA-DEMO-BORDER")

    log_in(page, served, "lucia.divulgacion", served.mex_url)
    page.goto(f"{served.mex_url}/review/{request_id}")
    ask = page.locator("[data-testid=ask-consent]")
    expect(ask.locator("[data-testid=consent-item]")).to_have_count(2)  # the title and the portion, both US
    expect(ask).to_contain_text("third-party-without-consent")
    ask.locator("label.choice", has_text="Precursor chemical consignments").locator("input").uncheck()
    ask.locator("[data-testid=consent-purpose]").fill("The Canadian border agency works the same consignments")
    ask.locator("[data-testid=ask-consent-submit]").click()

    page.wait_for_url(re.compile(r"/consent\?asked=1$"))
    expect(page.locator("[data-testid=consent-sent]")).to_be_visible()
    outgoing = page.locator("section.consent", has_text="The Canadian border agency works the same consignments")
    expect(outgoing.locator("[data-testid=consent-state]")).to_have_attribute("data-state", "pending")
    expect(outgoing.locator("[data-testid=asked] li")).to_have_count(1)
    expect(outgoing.locator("[data-testid=consent-recipient]")).to_contain_text("CA-DEMO-BORDER")

    # The request travels to the originator: the US officer finds it, naming only the chosen portion.
    us = page.context.browser.new_context(locale="en-US")
    us.set_default_timeout(30_000)
    dan = us.new_page()
    log_in(dan, served, "dan.disclosure")
    incoming = dan.locator("section.consent", has_text="The Canadian border agency works the same consignments")
    deadline = time.monotonic() + 60
    while incoming.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        dan.goto(f"{served.url}/consent")
    expect(incoming.locator("[data-testid=asked] li")).to_have_text(re.compile("Mislabelled precursor drums"))
    expect(incoming.locator("[data-testid=grant]")).to_be_visible()
    us.close()
