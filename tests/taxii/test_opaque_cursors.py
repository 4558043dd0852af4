"""A holdings `next` says nothing of where in the node's order the page stopped.

The cursor was `version.rank.id`: report versions are numbered node-wide, so two cursors (or one
and the caller's own report) told the caller how many versions lay between them that it may not
see. Now it is sealed for the caller and the collection; anything else is a 400 naming `next`.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select

from tearline.db.models import ReportVersion
from tests.taxii.conftest import Scenario
from tests.taxii.support import assert_taxii_error, holdings_url, read_all, taxii_headers


def _first_page(scenario: Scenario, username: str) -> dict[str, object]:
    url = holdings_url(scenario.node) + "objects/"
    response = scenario.client.get(url, params={"limit": 2}, headers=taxii_headers(scenario.node, username))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert body["more"] is True
    return body


def test_a_next_names_no_report_version(scenario: Scenario) -> None:
    with scenario.node.db.read() as session:
        versions = {str(v) for v in session.scalars(select(ReportVersion.id))}
    cursor = str(_first_page(scenario, "ana.analyst")["next"])
    assert not any(part in versions for part in cursor.split("."))
    assert "--" not in cursor  # nor the STIX id of the object it stopped at


def test_a_next_given_to_another_principal_or_changed_is_a_400_naming_next(scenario: Scenario) -> None:
    url = holdings_url(scenario.node) + "objects/"
    given = str(_first_page(scenario, "carla.auditor")["next"])
    headers = taxii_headers(scenario.node, "ana.analyst")
    for cursor in [given, given[:-2] + ("AA" if given[-2:] != "AA" else "BB"), given[:-3], given + "A"]:
        response = scenario.client.get(url, params={"limit": 2, "next": cursor}, headers=headers)
        assert assert_taxii_error(response, 400)["description"].startswith("next "), cursor
    own = scenario.client.get(
        url, params={"limit": 2, "next": given}, headers=taxii_headers(scenario.node, "carla.auditor")
    )
    assert own.status_code == 200 and own.json()["objects"]


def test_following_next_reads_the_whole_collection_once(scenario: Scenario) -> None:
    url = holdings_url(scenario.node) + "objects/"
    headers = taxii_headers(scenario.node, "ana.analyst")
    paged = read_all(scenario.client, url, headers, 2)
    whole = read_all(scenario.client, url, headers, 1000)
    assert [(o["id"], o.get("modified")) for o in paged] == [(o["id"], o.get("modified")) for o in whole]
