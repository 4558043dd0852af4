"""Real peers we did not write, on the partner side (issue 5 §7).

OASIS taxii2-client reads our server as the partner node reads it: with the bearer token that
`tearline peer add --print-token` prints, it sees the partner's feed and our inbox, and nothing
else. Every object it gets passes stix2-validator. A sealed unit survives a round trip through a
medallion 3.0.0 server: pulled back, its seal still verifies, so no marking and no granular
selector changed on the way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select
from taxii2client.v21 import Server, as_pages

from tearline.audit import log
from tearline.bench.medallion import medallion_serving
from tearline.db.release_tables import OutboxMessage
from tearline.federation.feed import unit_for
from tearline.federation.peers import public_key
from tearline.federation.seal import SEAL_TYPE, seal_definition, units_of, verify_unit
from tearline.release import workflow
from tearline.stix.definitions import extension_definition
from tearline.taxii.client import TaxiiClient
from tests.federation.support import Pair
from tests.release.support import p, release_convoy_to_mexico
from tests.taxii.support import assert_valid_stix


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _marks(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {o["id"]: (o.get("object_marking_refs"), o.get("granular_markings")) for o in objects}


def _unit(pair: Pair) -> Any:
    with pair.us.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        return unit_for(pair.us, message)


def test_taxii2_client_reads_the_feed_as_the_partner_and_every_object_validates(pair: Pair) -> None:
    release = release_convoy_to_mexico(pair.us, pair.demo)
    unit = _unit(pair)
    server = Server(f"{pair.us_url}/taxii2/", auth=Bearer(pair.mex_token_on_us))
    root = server.default
    feed, inbox = sorted(root.collections, key=lambda c: c.can_write)
    assert (feed.can_read, feed.can_write, inbox.can_read, inbox.can_write) == (True, False, False, True)
    assert "MEX" in feed.title

    pages = list(as_pages(feed.get_objects, per_request=4))
    objects = [o for page in pages for o in page.get("objects", [])]
    assert len(pages) > 2
    assert_valid_stix(objects)
    served = [seal_definition(), *unit.objects, unit.seal]  # the seal's definition, once, before the seal
    assert sorted(o["id"] for o in objects) == sorted(o["id"] for o in served)
    assert _marks(objects) == _marks(served)
    (pulled,), rest = units_of(objects)
    assert rest == []
    verify_unit(pulled, public_key(log.verifier_key(pair.us)))  # the partner checks our seal itself
    manifest = [m for page in as_pages(feed.get_manifest, per_request=5) for m in page.get("objects", [])]
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    report = next(o for o in objects if o["type"] == "report")
    assert feed.get_object(report["id"])["objects"] == [report]

    with pair.us.db.write() as session:
        workflow.recall(session, pair.us, p(session, "dan.disclosure"), release.id, "Source compromised.")
    after = [o for page in as_pages(feed.get_objects, per_request=50) for o in page.get("objects", [])]
    assert [o["type"] for o in after if o["id"] not in {x["id"] for x in objects}] == [SEAL_TYPE]  # the recall
    assert report["id"] not in {o["id"] for o in after}  # a recalled release leaves the feed at once


def test_a_sealed_unit_survives_a_round_trip_through_medallion(pair: Pair, tmp_path: Path) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)
    unit = _unit(pair)
    with (
        medallion_serving(tmp_path / "medallion") as medallion,
        TaxiiClient(medallion.discovery, auth=medallion.user) as client,
    ):
        root = client.discovery()["default"]
        # medallion 3.0.0 reads an extension-definition's `version` ("1.0.0") as a TAXII timestamp and
        # then fails every read: tearline's fixed definitions stay behind and are added back from
        # tearline's own copies before the seal is checked.
        fixed = [o for o in unit.objects if o["type"] == "extension-definition"]
        carried = [o for o in [*unit.objects, unit.seal] if o not in fixed]
        status = client.add_and_wait(root, medallion.collection_id, {"objects": carried})
        assert status["status"] == "complete", status
        pulled = [o for page in client.objects(root, medallion.collection_id, limit=10) for o in page.items]
    assert fixed and all(o == extension_definition(o["id"]) for o in fixed)
    (back,), rest = units_of([*(extension_definition(o["id"]) for o in fixed), *pulled])
    assert rest == []
    verify_unit(back, public_key(log.verifier_key(pair.us)))
    assert _marks(pulled) == _marks(carried)
