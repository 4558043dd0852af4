"""The TAXII 2.1 server on the demo scenario: resources, filters, paging, errors and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.search import Query, search
from tearline.db.federation_tables import Peer
from tearline.store.principals import add_principal
from tearline.taxii import collections as contract
from tearline.taxii import routes
from tearline.taxii.collections import AddResult, Caller, Collection, Filters, ObjectPage
from tests.taxii.conftest import Scenario
from tests.taxii.support import (
    ROOT,
    TAXII,
    assert_taxii_error,
    assert_valid_stix,
    holdings_url,
    read_all,
    taxii_headers,
)
from tests.web.support import token_headers

MISSING = "identity--00000000-0000-4000-8000-000000000000"


def _all(s: Scenario, username: str, limit: int = 1000, **params: str) -> list[dict[str, Any]]:
    return read_all(s.client, holdings_url(s.node) + "objects/", taxii_headers(s.node, username), limit, **params)


def test_discovery_names_the_api_root_and_answers_taxii(scenario: Scenario) -> None:
    headers = taxii_headers(scenario.node, "ana.analyst")
    response = scenario.client.get("/taxii2/", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert body["api_roots"] == ["http://testserver/taxii2/tearline/"] and body["default"] == body["api_roots"][0]
    root = scenario.client.get(ROOT, headers=headers).json()
    assert root["title"] == scenario.node.config.name
    assert root["versions"] == [TAXII] and root["max_content_length"] == routes.MAX_CONTENT_LENGTH


def test_collections_list_the_holdings_read_only(scenario: Scenario) -> None:
    headers = taxii_headers(scenario.node, "mateo.enlace")
    listed = scenario.client.get(f"{ROOT}collections/", headers=headers).json()["collections"]
    assert [(c["can_read"], c["can_write"]) for c in listed] == [(True, False)]
    one = scenario.client.get(holdings_url(scenario.node), headers=headers).json()
    assert one == listed[0] and one["media_types"] == ["application/stix+json;version=2.1"]


@pytest.mark.parametrize("username", ["ana.analyst", "mateo.enlace", "chloe.liaison", "ian.intel"])
def test_every_served_object_passes_the_validator_and_its_markings_come_first(
    scenario: Scenario, username: str
) -> None:
    objects = _all(scenario, username)
    assert_valid_stix(objects)
    defined: set[str] = set()
    for obj in objects:
        refs = set(obj.get("object_marking_refs", [])) | {g["marking_ref"] for g in obj.get("granular_markings", [])}
        assert refs <= defined, (obj["id"], refs - defined)
        assert obj.get("created_by_ref", obj["id"]) in defined | {obj["id"]}
        defined.add(obj["id"])
    assert len({o["id"] for o in objects}) == len(objects)


@pytest.mark.parametrize("limit", [1, 4, 9])
def test_pages_follow_next_and_add_up_to_the_whole_collection(scenario: Scenario, limit: int) -> None:
    whole = _all(scenario, "ana.analyst")
    assert [o["id"] for o in _all(scenario, "ana.analyst", limit)] == [o["id"] for o in whole]


def test_a_page_carries_date_added_headers_and_the_manifest_matches(scenario: Scenario) -> None:
    headers = taxii_headers(scenario.node, "ana.analyst")
    response = scenario.client.get(holdings_url(scenario.node) + "objects/", params={"limit": 5}, headers=headers)
    body = response.json()
    assert body["more"] is True and body["next"] and len(body["objects"]) == 5
    first, last = response.headers["X-TAXII-Date-Added-First"], response.headers["X-TAXII-Date-Added-Last"]
    manifest = read_all(scenario.client, holdings_url(scenario.node) + "manifest/", headers, 6)
    objects = _all(scenario, "ana.analyst")
    assert [(m["id"], m["version"]) for m in manifest] == [(o["id"], o.get("modified", o["created"])) for o in objects]
    assert manifest[0]["date_added"] == first <= last
    assert [m["date_added"] for m in manifest] == sorted(m["date_added"] for m in manifest)


def test_a_foreign_principal_sees_less_and_nothing_hidden(scenario: Scenario) -> None:
    ana = {o["id"] for o in _all(scenario, "ana.analyst")}
    mateo = {o["id"] for o in _all(scenario, "mateo.enlace")}
    assert mateo < ana
    hidden = sorted(i for i in ana - mateo if not i.startswith(("marking-definition", "extension-definition")))
    assert hidden
    url = holdings_url(scenario.node) + "objects/"
    for object_id in hidden[:3]:
        refused = scenario.client.get(f"{url}{object_id}/", headers=taxii_headers(scenario.node, "mateo.enlace"))
        missing = scenario.client.get(f"{url}{MISSING}/", headers=taxii_headers(scenario.node, "mateo.enlace"))
        assert_taxii_error(refused, 404)
        assert refused.json()["title"] == missing.json()["title"]
        assert_taxii_error(
            scenario.client.get(f"{url}{object_id}/versions/", headers=taxii_headers(scenario.node, "mateo.enlace")),
            404,
        )


def test_match_filters_select_by_type_id_version_and_spec_version(scenario: Scenario) -> None:
    whole = _all(scenario, "ana.analyst")
    reports = _all(scenario, "ana.analyst", **{"match[type]": "report"})
    assert reports and [o["id"] for o in reports] == [o["id"] for o in whole if o["type"] == "report"]
    two = [o["id"] for o in whole if o["type"] in ("location", "relationship")]
    assert [o["id"] for o in _all(scenario, "ana.analyst", 2, **{"match[type]": "location,relationship"})] == two
    markings = _all(scenario, "ana.analyst", 1, **{"match[type]": "marking-definition"})
    assert [o["id"] for o in markings] == [o["id"] for o in whole if o["type"] == "marking-definition"]
    picked = [whole[3]["id"], whole[-1]["id"]]
    assert [o["id"] for o in _all(scenario, "ana.analyst", **{"match[id]": ",".join(picked)})] == picked
    assert len(_all(scenario, "ana.analyst", **{"match[version]": "all"})) == len(whole)
    assert len(_all(scenario, "ana.analyst", **{"match[version]": "first"})) == len(whole)
    one = whole[-1]
    assert [o["id"] for o in _all(scenario, "ana.analyst", **{"match[version]": one["modified"]})] == [
        o["id"] for o in whole if o.get("modified") == one["modified"]
    ]
    assert _all(scenario, "ana.analyst", **{"match[spec_version]": "2.0"}) == []
    assert len(_all(scenario, "ana.analyst", **{"match[spec_version]": "2.1"})) == len(whole)


def test_added_after_keeps_what_was_added_later(scenario: Scenario) -> None:
    headers = taxii_headers(scenario.node, "ana.analyst")
    manifest = read_all(scenario.client, holdings_url(scenario.node) + "manifest/", headers, 1000)
    dates = sorted({m["date_added"] for m in manifest})
    assert len(dates) >= 2
    later = _all(scenario, "ana.analyst", 3, added_after=dates[0])
    assert [o["id"] for o in later] == [m["id"] for m in manifest if m["date_added"] > dates[0]]
    future = clock.stix_timestamp(clock.now() + timedelta(days=1))
    assert _all(scenario, "ana.analyst", added_after=future) == []


def test_an_object_and_its_versions(scenario: Scenario) -> None:
    headers = taxii_headers(scenario.node, "ana.analyst")
    report = _all(scenario, "ana.analyst", **{"match[type]": "report"})[0]
    url = f"{holdings_url(scenario.node)}objects/{report['id']}/"
    got = scenario.client.get(url, headers=headers)
    assert got.status_code == 200 and got.json()["objects"] == [report]
    assert got.headers["X-TAXII-Date-Added-First"]
    versions = scenario.client.get(url + "versions/", headers=headers).json()
    assert versions == {"more": False, "versions": [report["modified"]]}
    assert_taxii_error(scenario.client.get(url, params={"match[type]": "report"}, headers=headers), 400)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "ten"}, 400),
        ({"added_after": "yesterday"}, 400),
        ({"match[id]": "not-an-id"}, 400),
        ({"match[type]": "Report!"}, 400),
        ({"match[colour]": "red"}, 400),
        ({"match[version]": "newest"}, 400),
        ({"next": "not-a-cursor"}, 400),
    ],
    ids=["zero-limit", "word-limit", "bad-time", "bad-id", "bad-type", "unknown-match", "bad-version", "bad-next"],
)
def test_bad_parameters_answer_a_taxii_error(scenario: Scenario, params: dict[str, str], status: int) -> None:
    url = holdings_url(scenario.node) + "objects/"
    assert_taxii_error(
        scenario.client.get(url, params=params, headers=taxii_headers(scenario.node, "ana.analyst")), status
    )


def test_media_types_and_authentication(scenario: Scenario) -> None:
    client, headers = scenario.client, taxii_headers(scenario.node, "ana.analyst")
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        assert_taxii_error(client.get(ROOT, headers=headers | {"Accept": accept}), 406)
    for accept in ("application/taxii+json", "*/*", "text/html, application/taxii+json;version=2.1"):
        assert client.get(ROOT, headers=headers | {"Accept": accept}).status_code == 200
    refused = client.get(ROOT, headers={"Accept": TAXII})
    assert_taxii_error(refused, 401)
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert_taxii_error(client.get(ROOT, headers={"Accept": TAXII, "Authorization": "Bearer nope"}), 401)


def test_unknown_resources_and_forbidden_actions(scenario: Scenario) -> None:
    client, headers = scenario.client, taxii_headers(scenario.node, "ana.analyst")
    assert_taxii_error(client.get("/taxii2/elsewhere/", headers=headers), 404)
    assert_taxii_error(client.get(f"{ROOT}collections/no-such-collection/objects/", headers=headers), 404)
    assert_taxii_error(client.get(f"{ROOT}collections/no-such-collection/", headers=headers), 404)
    holdings = holdings_url(scenario.node)
    deleted = client.delete(f"{holdings}objects/{MISSING}/", headers=headers)
    assert assert_taxii_error(deleted, 403)["details"]["rule"] == "taxii-no-delete"
    envelope = b'{"objects": []}'
    posted = client.post(f"{holdings}objects/", content=envelope, headers=headers | {"Content-Type": TAXII})
    assert assert_taxii_error(posted, 403)["details"]["rule"] == "taxii-read-only"
    assert_taxii_error(client.get(f"{ROOT}status/{MISSING}/", headers=headers), 404)


def test_taxii_reads_and_refusals_are_audited(scenario: Scenario) -> None:
    served = {o["id"] for o in _all(scenario, "chloe.liaison")}
    url = holdings_url(scenario.node) + f"objects/{MISSING}/"
    scenario.client.get(url, headers=taxii_headers(scenario.node, "chloe.liaison"))
    with scenario.node.db.read() as session:
        hits = search(session, Query(actor="chloe.liaison@CA-DEMO-BORDER", limit=500)).hits
    reads = [h.event for h in hits if h.event.action == "taxii.objects" and h.event.outcome == "allowed"]
    assert reads and served <= {i for e in reads for i in e.objects}
    denied = [h.event for h in hits if h.event.action == "taxii.object" and h.event.outcome == "denied"]
    assert denied and MISSING in denied[0].objects and denied[0].rule == "not_found"


def test_a_partner_node_account_does_not_see_the_holdings(scenario: Scenario) -> None:
    with scenario.node.db.write() as session:
        account = add_principal(session, "node-can-test", "CAN", "CA-DEMO-BORDER", "SECRET", roles=[])
        session.add(
            Peer(
                nation="CAN",
                agency="CA-DEMO-BORDER",
                url="http://can.invalid/",
                vkey="-",
                principal_id=account.id,
                added_at=clock.now(),
            )
        )
    headers = taxii_headers(scenario.node, "node-can-test")
    listed = scenario.client.get(f"{ROOT}collections/", headers=headers).json().get("collections", [])
    assert holdings_url(scenario.node).split("/")[-2] not in [c["id"] for c in listed]
    assert_taxii_error(scenario.client.get(holdings_url(scenario.node) + "objects/", headers=headers), 404)


class Inbox:
    """A write-only collection, as the federation layer registers one, for the POST and status paths."""

    id = "test-inbox"
    title = "test inbox"
    description = "takes envelopes"
    can_read = False
    can_write = True

    def page(self, session: Session, caller: Caller, filters: Filters, limit: int, after: str | None) -> ObjectPage:
        raise AssertionError("never read")

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        return AddResult(successes=[{"id": o["id"], "version": o["modified"]} for o in envelope["objects"]])


@pytest.fixture
def inbox() -> Iterator[None]:
    def provider(_session: Session, _caller: Caller) -> list[Collection]:
        return [Inbox()]

    contract.register(provider)
    yield
    contract.PROVIDERS.remove(provider)


def test_a_post_answers_a_status_only_its_poster_may_read(
    scenario: Scenario, inbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, headers = scenario.client, taxii_headers(scenario.node, "ana.analyst")
    url = f"{ROOT}collections/test-inbox/objects/"
    obj = {"type": "identity", "id": MISSING, "modified": "2026-01-01T00:00:00.000Z"}
    posted = client.post(url, json={"objects": [obj]}, headers=headers | {"Content-Type": TAXII})
    assert posted.status_code == 202, posted.text
    status = posted.json()
    assert status["status"] == "complete" and status["total_count"] == status["success_count"] == 1
    assert status["successes"] == [{"id": MISSING, "version": "2026-01-01T00:00:00.000Z"}]
    again = client.get(f"{ROOT}status/{status['id']}/", headers=headers)
    assert again.status_code == 200 and again.json() == status
    other = client.get(f"{ROOT}status/{status['id']}/", headers=taxii_headers(scenario.node, "ian.intel"))
    assert_taxii_error(other, 404)
    assert_taxii_error(client.get(url, headers=headers), 403)
    plain = token_headers(scenario.node, "ana.analyst") | {"Accept": TAXII, "Content-Type": "application/json"}
    assert_taxii_error(client.post(url, json={"objects": [obj]}, headers=plain), 415)
    assert_taxii_error(client.post(url, content=b"[1, 2]", headers=headers | {"Content-Type": TAXII}), 422)
    monkeypatch.setattr(routes, "MAX_CONTENT_LENGTH", 64)
    big = {"objects": [obj, obj, obj]}
    assert_taxii_error(client.post(url, json=big, headers=headers | {"Content-Type": TAXII}), 413)
