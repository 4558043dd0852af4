"""API tests run the FastAPI app in-process on the demo scenario, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tearline import clock
from tearline.fixtures import Demo, build_demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.conftest import Templates
from tests.web.support import quick, quick_settings

__all__ = ["quick"]


@pytest.fixture(autouse=True)
def _quick(quick: None) -> None:
    """Every API test logs in: argon2id, at its cheapest cost."""


@pytest.fixture
def demo_start() -> datetime:
    """When the convoy left Torreón: its sightings are at +0 h, +9 h and +20 h."""
    return clock.now().replace(microsecond=0)


@pytest.fixture
def demo(node: Node, demo_start: datetime) -> Demo:
    return build_demo(node, demo_start)


@pytest.fixture
def client(node: Node, demo: Demo) -> TestClient:
    return TestClient(create_app(node))


@dataclass(frozen=True)
class Scenario:
    """One demo node shared by the read-only tests of a module (building one per test doubles the run)."""

    node: Node
    demo: Demo
    start: datetime
    client: TestClient


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scenario(
    request: pytest.FixtureRequest, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """The demo on a fresh node of each backend, built once per module: only for tests that do not write."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TEARLINE_DATABASE_URL", raising=False)
        quick_settings(patch)
        target = tmp_path_factory.mktemp("scenario") / "node"
        node = templates.sqlite_node(target) if request.param == "sqlite" else templates.postgres_node(target)
        start = clock.now().replace(microsecond=0)
        demo = build_demo(node, start)
    yield Scenario(node, demo, start, TestClient(create_app(node)))
    node.close()
