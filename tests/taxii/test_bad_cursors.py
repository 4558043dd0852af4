"""A `next` value this server could not have given is a TAXII 400 that names `next`.

A version number too large for the column went through to SQLite and came back a 500; a negative
one was taken and served a page. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.taxii.conftest import Scenario
from tests.taxii.support import assert_taxii_error, holdings_url, taxii_headers

BAD = [
    "99999999999999999999.2.x",
    "2147483648.1.report--x",
    "-1.-1.x",
    "1.3.x",
    "١.2.x",
    " 1.2.x",
    "1_0.2.x",
    "1.2",
    "not-a-cursor",
    "1" * 5000 + ".1.x",  # past int()'s 4,300 digits: a ValueError, once a 500
    "1.2." + "x" * 200,
]


@pytest.mark.parametrize("cursor", BAD)
@pytest.mark.parametrize("resource", ["objects/", "manifest/"])
def test_a_cursor_this_server_did_not_give_is_a_400_naming_next(
    scenario: Scenario, cursor: str, resource: str
) -> None:
    url = holdings_url(scenario.node) + resource
    response = scenario.client.get(url, params={"next": cursor}, headers=taxii_headers(scenario.node, "ana.analyst"))
    body = assert_taxii_error(response, 400)
    assert body["description"].startswith("next ")


def test_a_cursor_the_server_gave_still_pages(scenario: Scenario) -> None:
    url = holdings_url(scenario.node) + "objects/"
    headers = taxii_headers(scenario.node, "ana.analyst")
    first = scenario.client.get(url, params={"limit": 3}, headers=headers).json()
    second = scenario.client.get(url, params={"limit": 3, "next": first["next"]}, headers=headers)
    assert second.status_code == 200 and second.json()["objects"]


def test_a_limit_of_thousands_of_digits_is_the_largest_page(scenario: Scenario) -> None:
    url = holdings_url(scenario.node) + "objects/"
    headers = taxii_headers(scenario.node, "ana.analyst")
    response = scenario.client.get(url, params={"limit": "9" * 5000}, headers=headers)
    assert response.status_code == 200, response.text
    zero = scenario.client.get(url, params={"limit": "0" * 5000}, headers=headers)
    assert zero.status_code == 400, zero.text
