"""A partner's feed answers a `next` value it could not have given with a TAXII 400 naming `next`.

A row id past the column's range went through to the database and came back a 500, and a
malformed value answered 404 "no such page". On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import httpx
import pytest

from tests.federation.support import Pair
from tests.release.support import release_convoy_to_mexico
from tests.taxii.support import TAXII, assert_taxii_error

BAD = [
    "2026-12-07T16:44:08.686066+00:00|99999999999",
    "2026-12-07T16:44:08.686066+00:00|2147483648",
    "2026-12-07T16:44:08.686066+00:00|-1",
    "2026-12-07T16:44:08.686066+00:00|١",
    "2026-12-07T16:44:08.686066|3",
    "yesterday|3",
    "3",
]


def _feed(pair: Pair) -> tuple[str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {pair.mex_token_on_us}", "Accept": TAXII}
    listed = httpx.get(f"{pair.us_url}/taxii2/tearline/collections/", headers=headers, timeout=10).json()
    feed = next(c for c in listed["collections"] if c["can_read"])
    return f"{pair.us_url}/taxii2/tearline/collections/{feed['id']}/objects/", headers


@pytest.mark.parametrize("cursor", BAD)
def test_a_feed_cursor_this_server_did_not_give_is_a_400_naming_next(pair: Pair, cursor: str) -> None:
    url, headers = _feed(pair)
    body = assert_taxii_error(httpx.get(url, params={"next": cursor}, headers=headers, timeout=10), 400)
    assert body["description"].startswith("next ")


def test_a_feed_cursor_the_server_gave_still_pages(pair: Pair) -> None:
    release_convoy_to_mexico(pair.us, pair.demo)
    url, headers = _feed(pair)
    first = httpx.get(url, params={"limit": 2}, headers=headers, timeout=10).json()
    second = httpx.get(url, params={"limit": 2, "next": first["next"]}, headers=headers, timeout=10)
    assert second.status_code == 200 and second.json()["objects"]
    assert {o["id"] for o in second.json()["objects"]}.isdisjoint({o["id"] for o in first["objects"]})
