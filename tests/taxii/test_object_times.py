"""STIX 2.1 §3.2 in the holdings: `created` is the same for every version of an object, and an
object an edit did not change keeps its `modified`.

After an edit every object was stamped with the new version's time, `created` included: the
report seemed created at the edit, and an untouched location seemed a new version of itself.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.taxii.routes import taxii_app
from tests.federation.edits import EDIT, edit_first_portion
from tests.release.support import cheap_passwords
from tests.taxii.support import assert_valid_stix, holdings_url, read_all, taxii_headers


def _by_id(client: TestClient, node: Node) -> dict[str, dict[str, Any]]:
    url = holdings_url(node).removeprefix("/taxii2") + "objects/"
    return {o["id"]: o for o in read_all(client, url, taxii_headers(node, "ana.analyst"), 1000)}


def test_an_edit_keeps_created_and_the_unchanged_objects_modified(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_passwords(monkeypatch)
    report = build_demo(node).reports["convoy"]
    client = TestClient(taxii_app(node))
    before = _by_id(client, node)
    edit_first_portion(node, report)
    after = _by_id(client, node)
    assert_valid_stix(list(after.values()))

    old, new = before[report], after[report]
    assert EDIT in str(new) and EDIT not in str(old)
    assert new["created"] == old["created"] == old["modified"]
    assert new["modified"] > old["modified"]
    places = [i for i in new["object_refs"] if i.startswith("location--")]
    assert places
    for place in places:  # the edit changed a portion only: every location is the version it was
        assert after[place] == before[place]  # created and modified included
