"""Test set-up: every database test runs on a real SQLite file and on a real PostgreSQL server.

Under CI=true the PostgreSQL run is required: an unreachable server fails the run loudly.
Nodes are cloned from a migrated template (a copied SQLite file, or CREATE DATABASE … TEMPLATE
on PostgreSQL), so that each test starts from a fresh, fully migrated database quickly.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tearline.config import NodeConfig
from tearline.db.models import Principal
from tearline.node import Node, init_node
from tearline.store.federation import principal_named

POSTGRES_ADMIN = os.environ.get("TEARLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NODE_NATION, NODE_AGENCY = "USA", "US-DEMO-NARC"


def _pg_url(dbname: str) -> str:
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        message = f"PostgreSQL at {POSTGRES_ADMIN} is not reachable ({err}); start it or set TEARLINE_TEST_POSTGRES"
        if os.environ.get("CI") == "true" or not os.environ.get("TEARLINE_SKIP_POSTGRES"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _create_from_template(admin: psycopg.Connection[tuple[object, ...]], name: str, template: str) -> None:
    # A closed connection's server process can linger for a moment, and PostgreSQL refuses to copy
    # a template that anyone is connected to; so try again briefly.
    for attempt in range(50):
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 49:
                raise
            time.sleep(0.1)


class Templates:
    """One migrated template node per database kind, per test process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg_template: str | None = None
        self.sqlite_template: Path | None = None
        self.created: list[str] = []

    def sqlite_node(self, target: Path) -> Node:
        if self.sqlite_template is None:
            template = self.root / "sqlite-template"
            init_node(template, NODE_NATION, NODE_AGENCY).close()
            self.sqlite_template = template  # only once it is complete
        shutil.copytree(self.sqlite_template, target)
        return Node.open(target)

    def postgres_node(self, target: Path) -> Node:
        with _pg_admin() as admin:
            if self.pg_template is None:
                template = f"tl_tpl_{uuid.uuid4().hex[:12]}"
                admin.execute(f'CREATE DATABASE "{template}"')
                self.created.append(template)
                init_node(self.root / "pg-template", NODE_NATION, NODE_AGENCY, _pg_url(template)).close()
                self.pg_template = template  # only once it is complete
            name = f"tl_{uuid.uuid4().hex[:16]}"
            _create_from_template(admin, name, self.pg_template)
            self.created.append(name)
        shutil.copytree(self.root / "pg-template", target)
        config = NodeConfig.load(target)
        NodeConfig(**{**config.__dict__, "database_url": _pg_url(name)}).save(target)
        return Node.open(target)

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            for name in reversed(self.created):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.drop_all()


@pytest.fixture(autouse=True)
def _no_env_database(monkeypatch: pytest.MonkeyPatch) -> None:
    # The node's own URL decides in tests; a developer's TEARLINE_DATABASE_URL must not leak in.
    monkeypatch.delenv("TEARLINE_DATABASE_URL", raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


NodeFactory = Callable[[], Node]


@pytest.fixture
def make_node(backend: str, templates: Templates, tmp_path: Path) -> Iterator[NodeFactory]:
    """Fresh nodes on the parametrised backend (SQLite file or PostgreSQL database)."""
    nodes: list[Node] = []

    def factory() -> Node:
        target = tmp_path / f"node{len(nodes)}"
        node = templates.sqlite_node(target) if backend == "sqlite" else templates.postgres_node(target)
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        node.close()


@pytest.fixture
def node(make_node: NodeFactory) -> Node:
    return make_node()


def detached_principal(node: Node, username: str) -> Principal:
    """The node's principal of that name, usable after its session (for `node.reader`)."""
    with node.db.read() as session:
        found = principal_named(session, username)
        assert found is not None, f"the node has no {username}"
        session.expunge(found)
    return found
