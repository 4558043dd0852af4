"""TAXII 2.1 filters at their edges, on the holdings: one instant written two ways is one version;
an unknown spec_version, and a limit that is not plain ASCII digits, are 400s naming the parameter;
a missing or hidden object answers 404 with a `next` as without. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.taxii.conftest import Scenario
from tests.taxii.support import assert_taxii_error, holdings_url, read_all, taxii_headers

MISSING = "identity--00000000-0000-4000-8000-000000000000"


def _get(s: Scenario, path: str, username: str = "ana.analyst", **params: Any) -> Any:
    return s.client.get(holdings_url(s.node) + path, params=params, headers=taxii_headers(s.node, username))


def _report(s: Scenario) -> dict[str, Any]:
    found: dict[str, Any] = _get(s, "objects/", **{"match[type]": "report", "limit": 1}).json()["objects"][0]
    return found


def test_one_instant_written_two_ways_is_one_version(scenario: Scenario) -> None:
    report = _report(scenario)
    stamp = report["modified"]
    assert stamp.endswith("Z") and len(stamp.split(".")[1]) == 4  # milliseconds, as tearline writes them
    longer = stamp[:-1] + "000Z"
    for version in (stamp, longer):
        found = _get(scenario, "objects/", **{"match[id]": report["id"], "match[version]": version}).json()
        assert found["objects"] == [report], version
        one = _get(scenario, f"objects/{report['id']}/", **{"match[version]": version}).json()
        assert one["objects"] == [report], version
    later = stamp[:-1] + "001Z"  # a microsecond later is another instant
    assert _get(scenario, f"objects/{report['id']}/", **{"match[version]": later}).status_code == 404


def test_an_unknown_spec_version_is_refused_naming_it(scenario: Scenario) -> None:
    body = assert_taxii_error(_get(scenario, "objects/", **{"match[spec_version]": "foo"}), 400)
    assert "match[spec_version]" in body["description"] and "foo" in body["description"]
    assert _get(scenario, "objects/", **{"match[spec_version]": "2.1", "limit": 1}).json()["objects"]
    assert "objects" not in _get(scenario, "objects/", **{"match[spec_version]": "2.0"}).json()


@pytest.mark.parametrize("limit", [" 5", "5 ", "+5", "5_0", "١٠", "５"])
def test_a_limit_is_plain_ascii_digits(scenario: Scenario, limit: str) -> None:
    body = assert_taxii_error(_get(scenario, "objects/", limit=limit), 400)
    assert body["description"].startswith("limit")


def test_a_missing_or_hidden_object_is_404_with_a_next_too(scenario: Scenario) -> None:
    page = _get(scenario, "objects/", "mateo.enlace", limit=2).json()
    cursor = page["next"]  # mateo's own: a cursor is given to one principal
    url = holdings_url(scenario.node) + "objects/"

    def seen_by(username: str) -> set[str]:
        return {o["id"] for o in read_all(scenario.client, url, taxii_headers(scenario.node, username), 1000)}

    hidden = sorted(seen_by("ana.analyst") - seen_by("mateo.enlace"))
    assert hidden
    for object_id in (MISSING, hidden[0]):
        for path in (f"objects/{object_id}/", f"objects/{object_id}/versions/"):
            without = assert_taxii_error(_get(scenario, path, "mateo.enlace"), 404)
            with_next = assert_taxii_error(_get(scenario, path, "mateo.enlace", next=cursor), 404)
            assert with_next["title"] == without["title"] and with_next["http_status"] == without["http_status"]
