"""Every extension an object in the holdings uses has its extension-definition in the collection:
the prelude listed a fixed set and left out the person property-extension, so persons were served
with an extension nothing there defined. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

from tearline import clock
from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.stix import ids
from tearline.stix.definitions import is_tearline_extension
from tearline.web.app import create_app
from tests.taxii.support import holdings_url, read_all, taxii_headers
from tests.web.support import report_body, token_headers

PERSON = {"dob": "1979-02-14", "national_id": "LUCE790214HSRJRV04"}


def _used(objects: list[dict[str, Any]]) -> set[str]:
    """tearline's own extensions the objects use (another party's defines its own)."""
    return {e for o in objects for e in o.get("extensions", {}) if is_tearline_extension(e)}


def test_every_extension_served_is_defined_in_the_collection(node: Node, quick: None) -> None:
    build_demo(node, clock.now().replace(microsecond=0))
    client = TestClient(create_app(node))
    body = report_body()
    body["objects"][0]["properties"]["extensions"] = {
        ids.EXT_PERSON: {"extension_type": "property-extension", **PERSON}
    }
    created = client.post("/api/reports", json=body, headers=token_headers(node, "ana.analyst"))
    assert created.status_code == 201, created.text
    headers = taxii_headers(node, "ana.analyst")
    objects = read_all(client, holdings_url(node) + "objects/", headers, 50)
    defined = {o["id"] for o in objects if o["type"] == "extension-definition"}
    assert ids.EXT_PERSON in _used(objects), "a person is served with the person extension"
    assert _used(objects) <= defined, _used(objects) - defined
    options = ValidationOptions(version="2.1", strict=False)
    for obj in objects:
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])
        # {103}: tearline's fixed ids are UUIDv5, made from names, as STIX 2.1 allows for them.
        about = [w for w in map(str, result.warnings) if "extension" in w.lower() and "{103}" not in w]
        assert not about, (obj["id"], about)
