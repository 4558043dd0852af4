"""The console map carries at most MAP_LIMIT points and says how many of the reader's points it
leaves out: a count over what that reader may see, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tearline.node import Node
from tearline.web.console.routes_map import MAP_LIMIT, MAP_TYPES
from tests.console.test_sessions import log_in
from tests.web.support import marking, report_body, token_headers

LES_PLACES = 20  # seen by US-DEMO-NARC (law enforcement), not by US-DEMO-INTEL


def _placed_total(client: TestClient, node: Node, username: str) -> int:
    """The reader's points as the API counts them: placed objects of the map's types."""
    params: dict[str, Any] = {"type": MAP_TYPES, "bbox": "-180,-90,180,90", "limit": 1}
    response = client.get("/api/search", params=params, headers=token_headers(node, username))
    assert response.status_code == 200, response.text
    return int(response.json()["objects"]["total"])


def _post_places(client: TestClient, node: Node, count: int, **controls: Any) -> None:
    places = [
        {
            "id": f"location--{uuid.uuid4()}",
            "type": "location",
            "properties": {"name": f"Punto {i}, Sonora", "latitude": 29.0 + i / 1000, "longitude": -110.9},
            "marking": marking(["USA", "MEX"], **controls),
        }
        for i in range(count)
    ]
    headers = token_headers(node, "ana.analyst")
    response = client.post("/api/reports", json=report_body(objects=places), headers=headers)
    assert response.status_code == 201, response.text


def _map(client: TestClient, username: str) -> tuple[int, re.Match[str] | None]:
    log_in(client, username)
    page = client.get("/map").text
    points = re.search(r'id="points">(.*?)</script>', page, re.S)
    assert points is not None
    partial = re.search(r'data-testid="map-partial" data-shown="(\d+)" data-total="(\d+)"', page)
    return points.group(1).count('"id"'), partial


def test_the_map_says_how_many_of_the_readers_points_it_shows(client: TestClient, node: Node) -> None:
    shown, partial = _map(client, "ana.analyst")
    assert partial is None and shown == _placed_total(client, node, "ana.analyst")  # all fit: no notice
    before = {u: _placed_total(client, node, u) for u in ("ana.analyst", "ian.intel")}

    _post_places(client, node, MAP_LIMIT)
    _post_places(client, node, LES_PLACES, controls=["LES"])
    # Each reader's own count: the LES places are in ana's only.
    expected = {
        "ana.analyst": before["ana.analyst"] + MAP_LIMIT + LES_PLACES,
        "ian.intel": before["ian.intel"] + MAP_LIMIT,
    }
    for username, total in expected.items():
        assert _placed_total(client, node, username) == total
        shown, partial = _map(client, username)
        assert shown == MAP_LIMIT
        assert partial is not None and (int(partial.group(1)), int(partial.group(2))) == (MAP_LIMIT, total)
