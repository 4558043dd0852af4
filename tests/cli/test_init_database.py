"""`tearline init` and the node's database: a database that holds a node is refused, a failed init
leaves nothing behind, the URL it used is recorded, and opening a node never makes a database.

A failed init used to leave node.json and node.key behind, so that the next command worked
against another node's database; one made with `TEARLINE_DATABASE_URL` recorded no URL, and
later commands without the variable made an empty SQLite node.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

import tearline.node
from tearline.cli.main import app
from tearline.config import NodeConfig
from tearline.db.models import Principal
from tearline.errors import TearlineError
from tearline.node import Node
from tests.conftest import Templates, _pg_admin, _pg_url

RUNNER = CliRunner()


def _refused(result: Result, *named: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output, result.output
    output = " ".join(result.output.split())
    for text in named:
        assert text in output, result.output
    return output


def _ok(result: Result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)


def _empty_database(backend: str, templates: Templates, tmp_path: Path) -> str:
    """A URL of an empty database of the backend: a SQLite file not yet made, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.db'}"
    name = f"tl_init_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    templates.created.append(name)  # dropped with the others at the end of the session
    return _pg_url(name)


def _database_of(node: Node) -> str:
    return node.config.database_url or f"sqlite:///{node.data_dir / 'tearline.db'}"


def _principals(node: Node) -> list[str]:
    with node.db.read() as session:
        return sorted(session.scalars(select(Principal.username)))


def _init(data: Path, *extra: str, agency: str = "MX-OTHER", nation: str = "MEX") -> Result:
    return RUNNER.invoke(app, ["init", "--data", str(data), "--nation", nation, "--agency", agency, *extra])


def test_init_on_a_database_that_holds_a_node_is_refused_and_writes_nothing(node: Node, tmp_path: Path) -> None:
    before = _principals(node)
    other = tmp_path / "other"

    _refused(_init(other, "--database-url", _database_of(node)), "already holds a node", "choose another database")

    assert not other.exists()  # no node.json, no node.key, no directory
    assert _principals(node) == before
    # and `user add --data other` cannot write into the first node's database
    _refused(
        RUNNER.invoke(app, ["user", "add", "x", "--nation", "MEX", "--agency", "MX-OTHER", "--clearance",
                            "SECRETA", "--data", str(other)]),
        "holds no tearline node",
    )  # fmt: skip
    assert _principals(node) == before


def test_init_on_a_database_holding_other_tables_is_refused(backend: str, templates: Templates, tmp_path: Path) -> None:
    url = _empty_database(backend, templates, tmp_path)
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("CREATE TABLE payroll (x INTEGER)")
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE payroll (x INTEGER)")

    _refused(_init(tmp_path / "n", "--database-url", url), "not empty", "payroll", "choose another database")

    assert not (tmp_path / "n").exists()


def test_a_stray_node_key_is_refused_before_any_database_is_made(tmp_path: Path) -> None:
    data = tmp_path / "half"
    data.mkdir()
    (data / "node.key").write_text("someone's key\n", encoding="utf-8")

    _refused(_init(data), "node.key", "no node.json", "choose another --data directory")

    assert sorted(p.name for p in data.iterdir()) == ["node.key"]
    assert (data / "node.key").read_text(encoding="utf-8") == "someone's key\n"


def test_a_failed_init_removes_what_it_wrote_and_can_be_run_again(
    backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _empty_database(backend, templates, tmp_path)
    data = tmp_path / "node"
    original = tearline.node.add_principal

    def failing(*args: object, **kwargs: object) -> object:
        raise TearlineError("the registry could not be written")

    monkeypatch.setattr(tearline.node, "add_principal", failing)
    _refused(_init(data, "--database-url", url), "could not be written")
    assert not data.exists()
    if backend == "sqlite":
        assert not Path(url.removeprefix("sqlite:///")).exists()

    monkeypatch.setattr(tearline.node, "add_principal", original)
    _ok(_init(data, "--database-url", url))  # a schema with no registry is no node
    node = Node.open(data)
    try:
        assert _principals(node) == ["node-service"]
    finally:
        node.close()


def test_a_failed_sqlite_init_leaves_no_database_file_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "node"
    data.mkdir()

    def failing(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tearline.node, "_write_key", failing)
    with pytest.raises(OSError):
        tearline.node.init_node(data, "USA", "US-A")
    assert list(data.iterdir()) == []  # the directory was there before: it stays, empty


def test_init_records_the_url_of_TEARLINE_DATABASE_URL_and_later_commands_use_it_without(
    backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _empty_database(backend, templates, tmp_path)
    data = tmp_path / "node"
    monkeypatch.setenv("TEARLINE_DATABASE_URL", url)
    _ok(_init(data))
    assert json.loads((data / "node.json").read_text(encoding="utf-8"))["database_url"] == url
    # the URL may carry the database's password: only the node's owner may read the file
    assert stat.S_IMODE((data / "node.json").stat().st_mode) == 0o600

    monkeypatch.delenv("TEARLINE_DATABASE_URL")
    _ok(RUNNER.invoke(app, ["user", "add", "ana", "--nation", "MEX", "--agency", "MX-OTHER", "--clearance",
                            "SECRETA", "--data", str(data)]))  # fmt: skip
    assert not (data / "tearline.db").exists()
    node = Node.open(data)
    try:
        assert _principals(node) == ["ana", "node-service"]
    finally:
        node.close()


def test_a_TEARLINE_DATABASE_URL_naming_another_database_is_refused(
    node: Node, backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _empty_database(backend, templates, tmp_path)
    monkeypatch.setenv("TEARLINE_DATABASE_URL", other)

    _refused(
        RUNNER.invoke(app, ["user", "list", "--data", str(node.data_dir)]),
        "TEARLINE_DATABASE_URL",
        "names another database",
        "unset TEARLINE_DATABASE_URL",
    )
    if backend == "sqlite":
        assert not Path(other.removeprefix("sqlite:///")).exists()

    # the same database (here with a password added on PostgreSQL) is this node's
    same = _database_of(node)
    if backend == "postgres":
        same = same.replace("postgres@", "postgres:secret@")
    monkeypatch.setenv("TEARLINE_DATABASE_URL", same)
    _ok(RUNNER.invoke(app, ["user", "list", "--data", str(node.data_dir)]))


def test_init_refuses_a_database_url_and_TEARLINE_DATABASE_URL_that_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEARLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    _refused(_init(tmp_path / "n", "--database-url", f"sqlite:///{tmp_path / 'b.db'}"), "different databases")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_opening_a_node_never_creates_its_sqlite_file(templates: Templates, tmp_path: Path) -> None:
    node = templates.sqlite_node(tmp_path / "node")
    node.close()
    (node.data_dir / "tearline.db").unlink()

    for command in (["user", "list"], ["migrate"], ["agency", "list"]):
        _refused(RUNNER.invoke(app, [*command, "--data", str(node.data_dir)]), "does not exist", "tearline init")
        assert not (node.data_dir / "tearline.db").exists()


def test_a_node_made_with_the_variable_by_an_older_tearline_still_opens_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """node.json records no URL and the data directory has no database file: the variable is its database."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    data = tmp_path / "node"
    _ok(_init(data, "--database-url", url))
    config = NodeConfig.load(data)
    NodeConfig(**{**config.__dict__, "database_url": None}).save(data)

    _refused(RUNNER.invoke(app, ["user", "list", "--data", str(data)]), "does not exist")
    monkeypatch.setenv("TEARLINE_DATABASE_URL", url)
    _ok(RUNNER.invoke(app, ["user", "list", "--data", str(data)]))
