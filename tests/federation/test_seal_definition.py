"""The seal type is defined wherever seals are served. A seal names its extension-definition (a
new-sdo, STIX 2.1 §7.3), but neither the partner's feed nor a pushed envelope carried it, so a
consumer met `x-tearline-seal` with nothing that defined it. Now the feed holds the definition once,
before the first seal, and every push carries it; a receiver takes it as read, never as a stray.
Over HTTP on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from tearline.federation import courier
from tearline.federation.collections import feed_id
from tearline.federation.seal import EXT_SEAL, SEAL_TYPE, seal_definition, units_of
from tearline.stix import ids
from tearline.stix.definitions import extension_definition
from tearline.taxii.client import BearerAuth, TaxiiClient
from tests.federation.support import Pair
from tests.release.support import release_convoy_to_mexico


def _served(pair: Pair) -> list[dict[str, Any]]:
    """The partner's feed on the US node, read over HTTP with the partner's token, page by page."""
    collection = feed_id("USA", "US-DEMO-NARC", "MEX")
    with TaxiiClient(f"{pair.us_url}/taxii2/", auth=BearerAuth(pair.mex_token_on_us)) as client:
        pages = client.objects(f"{pair.us_url}/taxii2/tearline/", collection, limit=3)
        return [o for page in pages for o in page.items]


def test_the_feed_defines_the_seal_before_any_seal_and_validates_whole(pair: Pair) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)
    release_convoy_to_mexico(pair.us, pair.demo)  # a second unit brings no second definition
    objects = _served(pair)
    defined = [o for o in objects if o["id"] == EXT_SEAL]
    assert defined == [seal_definition()]
    first_seal = next(i for i, o in enumerate(objects) if o["type"] == SEAL_TYPE)
    assert objects.index(defined[0]) < first_seal
    assert all(EXT_SEAL in o["extensions"] for o in objects if o["type"] == SEAL_TYPE)

    bundle = {"type": "bundle", "id": ids.bundle_id(objects), "objects": objects}
    result = validate_instance(bundle, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for e in result.errors]
    units, rest = units_of(objects)
    assert (len(units), rest) == (2, [])  # the definition is no stray


def test_the_definition_is_shaped_like_tearline_s_others() -> None:
    other = extension_definition(ids.EXT_PHONE)
    ours = seal_definition()
    assert ours.keys() == other.keys()
    assert {k: ours[k] for k in ("created", "modified", "created_by_ref", "version", "extension_types")} == {
        k: other[k] for k in ("created", "modified", "created_by_ref", "version", "extension_types")
    }


def test_a_push_carries_the_definition_and_the_partner_takes_it(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[dict[str, Any], dict[str, Any]]] = []
    add_and_wait = TaxiiClient.add_and_wait

    def recording(self: TaxiiClient, root: str, collection: str, envelope: Any, **kw: Any) -> dict[str, Any]:
        status = add_and_wait(self, root, collection, envelope, **kw)
        sent.append((envelope, status))
        return status

    monkeypatch.setattr(TaxiiClient, "add_and_wait", recording)
    release_convoy_to_mexico(pair.us, pair.demo)
    assert courier.push_pending(pair.us).pushed == 1
    ((envelope, status),) = sent
    assert envelope["objects"][0] == seal_definition()
    assert "failures" not in status, status["failures"]  # the definition was once refused as a stray
    assert status["success_count"] == status["total_count"] == len(envelope["objects"])
