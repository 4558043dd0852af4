"""Helpers for TAXII tests: headers, the holdings collection's URL, whole-collection reads."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

from tearline.node import Node
from tearline.taxii.holdings import holdings_id
from tests.web.support import token_headers

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/tearline/"


def taxii_headers(node: Node, username: str) -> dict[str, str]:
    return token_headers(node, username) | {"Accept": TAXII}


def holdings_url(node: Node) -> str:
    return f"{ROOT}collections/{holdings_id(node.config.nation, node.config.agency)}/"


def read_all(client: TestClient, url: str, headers: dict[str, str], limit: int, **params: str) -> list[dict[str, Any]]:
    """Every item of a paged TAXII resource, following `next`."""
    out: list[dict[str, Any]] = []
    query: dict[str, str | int] = {"limit": limit, **params}
    for _ in range(10_000):
        response = client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        out += body.get("objects", [])
        if not body["more"]:
            return out
        query["next"] = body["next"]
    raise AssertionError("paging did not end")


def assert_valid_stix(objects: list[dict[str, Any]]) -> None:
    """Every object passes stix2-validator (strict on the spec, lenient on custom content)."""
    options = ValidationOptions(version="2.1", strict=False)
    for obj in objects:
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII
    body: dict[str, Any] = response.json()
    assert body["title"] and body["http_status"] == str(status), body
    return body
