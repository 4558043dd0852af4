"""The gates around the node's app: 503 until the demo is ready, and workers woken after a change."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.web.support import assert_error, report_body, token_headers


def test_until_ready_people_get_503_and_partners_and_tokens_are_served(node: Node, demo: Demo) -> None:
    ready = threading.Event()
    client = TestClient(create_app(node, ready=ready))

    waiting = client.get("/api/reports")
    assert_error(waiting, 503)
    assert waiting.json()["error"] == "starting"
    assert waiting.headers["Retry-After"] == "2"
    assert client.post("/api/login", json={"username": "ana.analyst", "password": "x"}).status_code == 503
    assert client.get("/api/reports", headers=token_headers(node, "ana.analyst")).status_code == 200
    assert client.get("/taxii2/").status_code != 503  # partner nodes build the storyline too

    ready.set()
    assert_error(client.get("/api/reports"), 401)  # now the app itself answers


class Counted:
    def __init__(self) -> None:
        self.nudges = 0

    def nudge(self) -> None:
        self.nudges += 1


def test_a_change_answered_below_400_wakes_the_courier_and_the_resolver(
    node: Node, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(node, deliver=True)  # no lifespan here: the workers' threads never start
    courier, resolver = Counted(), Counted()
    monkeypatch.setattr(app.state.courier, "nudge", courier.nudge)
    monkeypatch.setattr(app.state.resolver, "nudge", resolver.nudge)
    client, headers = TestClient(app), token_headers(node, "ana.analyst")

    assert client.post("/api/reports", json=report_body(), headers=headers).status_code == 201
    assert (courier.nudges, resolver.nudges) == (1, 1)
    assert client.get("/api/reports", headers=headers).status_code == 200  # a read changes nothing
    assert_error(client.post("/api/reports", json={"title": 5}, headers=headers), 422)  # nothing stored
    assert_error(client.post("/api/reports", json=report_body()), 401)
    assert (courier.nudges, resolver.nudges) == (1, 1)
