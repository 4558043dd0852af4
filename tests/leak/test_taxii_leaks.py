"""The leak harness over TAXII: random worlds, every principal reading the holdings collection.

Objects, object by id, versions and the manifest are held to the oracle (DESIGN §3.3): exactly the
items the rules admit, nothing hidden placed, counted or defined (not even a marking-definition
that only a hidden item uses), and a hidden object answering the 404 of a missing one.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from tearline import clock
from tearline.db.models import MarkingRow, Principal, StixObject
from tearline.markings.banner import banner_text
from tearline.node import Node
from tearline.stix import ids
from tearline.store.audience import marking_from_body
from tearline.store.principals import issue_token
from tearline.taxii.holdings import holdings_id
from tearline.taxii.routes import taxii_app
from tests.conftest import NodeFactory
from tests.leak import oracle
from tests.leak.test_leak_harness import NOW, Built, _marking_of, build, expected
from tests.leak.world import WorldSpec, worlds

TAXII = "application/taxii+json;version=2.1"
MISSING = "identity--00000000-0000-4000-8000-000000000000"
DEFINITIONS = frozenset({"marking-definition", "extension-definition"})
PRELUDE = frozenset({ids.TEARLINE_IDENTITY, ids.node_identity_id("USA", "US-DEMO-NARC")})


def _headers(node: Node, row: Principal) -> dict[str, str]:
    with node.db.write() as session:
        principal = session.get(Principal, row.id)
        assert principal is not None
        return {"Authorization": f"Bearer {issue_token(session, principal)}", "Accept": TAXII}


def _pages(client: TestClient, url: str, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        body = client.get(url, params=params, headers=headers).json()
        out += body.get("objects", [])
        if not body["more"]:
            return out
        params["next"] = body["next"]


def _definition_ids(node: Node, rows: list[Any]) -> set[str]:
    with node.db.read() as session:
        bodies = session.scalars(select(MarkingRow.body).where(MarkingRow.id.in_({r.marking_id for r in rows})))
        return {ids.marking_definition_id(marking_from_body(b)) for b in bodies}


def check_principal(built: Built, client: TestClient, username: str) -> None:
    p = built.principals[username]
    portions, objects = expected(built, p)
    headers = _headers(built.node, built.rows[username])
    base = f"/tearline/collections/{holdings_id('USA', 'US-DEMO-NARC')}/"
    served = _pages(client, base + "objects/", headers, 5)
    content = [o for o in served if o["type"] not in DEFINITIONS and o["id"] not in PRELUDE]
    visible_reports = {r.report_id for _, r in portions} | {r.report_id for _, r in objects}
    want = {r.stix_id for _, r in objects} | {built.report_ids[r] for r in visible_reports}
    assert {o["id"] for o in content} == want
    assert len(content) == len(want)

    # Only the markings of visible items are defined; a hidden item's marking is not even named.
    # (The standard TLP 2.0 definitions come with tearline's own, before the first visible item.)
    defined = {o["id"] for o in served if o["type"] == "marking-definition"} - set(ids.TLP2_IDS.values())
    assert defined == _definition_ids(built.node, [r for _, r in portions + objects])
    assert (not want) == (not served)

    for report in (o for o in content if o["type"] == "report"):
        _check_report(built, p, report, portions, objects)
    for obj in (o for o in content if o["type"] != "report"):
        x = next(x for x, r in objects if r.stix_id == obj["id"])
        if "name" in x.source_fields and not oracle.sees_source(p, x):
            assert obj["name"].startswith("[withheld"), obj

    manifest = _pages(client, base + "manifest/", headers, 4)
    assert [m["id"] for m in manifest] == [o["id"] for o in served]
    _check_by_id(built, client, base, headers, want)


def _check_report(built: Built, p: oracle.P, report: dict[str, Any], portions: list[Any], objects: list[Any]) -> None:
    report_id = next(k for k, v in built.report_ids.items() if v == report["id"])
    ext = report["extensions"][ids.EXT_REPORT]
    mine = sorted((r for _, r in portions if r.report_id == report_id and not r.is_title), key=lambda r: r.position)
    assert len(ext.get("portions", [])) == len(mine)
    kept = {r.hash for r in mine} | {r.hash for _, r in objects if r.report_id == report_id}
    assert {s["hash"] for s in ext.get("sources", [])} == kept
    shown = [x for x, r in portions + objects if r.report_id == report_id]
    with built.node.db.read() as session:
        table = built.node.table(session)
    assert ext["banner"] == banner_text([_marking_of(x) for x in shown], "USA", table)
    refs = set(report["object_refs"]) - PRELUDE
    assert refs == {r.stix_id for _, r in objects if r.report_id == report_id}


def _check_by_id(built: Built, client: TestClient, base: str, headers: dict[str, str], want: set[str]) -> None:
    with built.node.db.read() as session:
        every = set(session.scalars(select(StixObject.stix_id))) | set(built.report_ids.values())
    hidden = [*sorted(every - want)[:3], MISSING]
    for object_id in hidden:
        for suffix in ("", "versions/"):
            refused = client.get(f"{base}objects/{object_id}/{suffix}", headers=headers)
            assert refused.status_code == 404, (object_id, refused.text)
            assert refused.json()["description"] == f"no object {object_id}"
    for object_id in sorted(want)[:3]:
        found = client.get(f"{base}objects/{object_id}/", headers=headers)
        assert found.status_code == 200 and [o["id"] for o in found.json()["objects"]] == [object_id]
        versions = client.get(f"{base}objects/{object_id}/versions/", headers=headers).json()["versions"]
        assert len(versions) == 1


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
def test_taxii_reads_obey_the_oracle(make_node: NodeFactory, spec: WorldSpec) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        client = TestClient(taxii_app(built.node))
        for username in built.principals:
            check_principal(built, client, username)
