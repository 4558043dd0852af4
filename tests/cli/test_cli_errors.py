"""Errors at the command line: exit 2 and one line saying what to fix, never a traceback; what is
printed is text (a value holding `[/b]` is no Rich markup), and each problem is printed once."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tearline.cli.main import app
from tearline.config import NodeConfig
from tearline.db.models import AgencyRow
from tearline.errors import ConfigError
from tearline.node import Node

RUNNER = CliRunner()


def _run(node: Node, *args: str) -> Result:
    return RUNNER.invoke(app, [*args, "--data", str(node.data_dir)])


def _refused(result: Result, *named: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output, result.output
    for text in named:
        assert text in " ".join(result.output.split()), result.output
    return result.output


def test_init_on_an_unreachable_server_is_one_line_and_makes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "n"
    result = RUNNER.invoke(
        app, ["init", "--data", str(data), "--nation", "USA", "--agency", "A",
              "--database-url", "postgresql://nobody@127.0.0.1:1/zz"],
    )  # fmt: skip
    output = _refused(result, "could not be reached", "--database-url")
    assert len(output.strip().splitlines()) == 1, output
    assert not data.exists()


@pytest.mark.parametrize("url", ["notaurl", "mysql://u@h/db"])
def test_init_with_a_url_that_is_no_database_of_ours_is_refused(tmp_path: Path, url: str) -> None:
    result = RUNNER.invoke(app, ["init", "--data", str(tmp_path / "n"), "--nation", "USA", "--agency", "A",
                                 "--database-url", url])  # fmt: skip
    _refused(result, "--database-url", "postgresql://")
    assert not (tmp_path / "n").exists()


def test_a_damaged_sqlite_file_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "n"
    assert RUNNER.invoke(app, ["init", "--data", str(data), "--nation", "USA", "--agency", "A"]).exit_code == 0
    (data / "tearline.db").write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    for name in ("tearline.db-wal", "tearline.db-shm"):
        (data / name).unlink(missing_ok=True)

    output = _refused(RUNNER.invoke(app, ["user", "list", "--data", str(data)]), "not a database", "backup")
    assert len(output.strip().splitlines()) == 1, output


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{bad", ["node.json", "not valid JSON", "line 1"]),
        ('{"nation": "USA"}', ["node.json", "missing key 'agency'", "missing key 'name'"]),
        ("[1, 2]", ["node.json", "JSON object"]),
        ('{"nation": "USA", "agency": "A", "name": "A (USA)", "databse_url": "x"}', ["unknown key 'databse_url'"]),
        ('{"nation": "USA", "agency": 7, "name": "A (USA)"}', ["'agency' must be a non-empty string"]),
    ],
)
def test_a_bad_node_json_names_the_file_and_the_key(tmp_path: Path, text: str, named: list[str]) -> None:
    (tmp_path / "node.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        NodeConfig.load(tmp_path)
    _refused(RUNNER.invoke(app, ["user", "list", "--data", str(tmp_path)]), *named)


def test_ingest_of_a_missing_file_or_mapping_is_refused(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # short names: typer's error box wraps long ones
    _refused(_run(node, "ingest", "nofile.json"), "nofile.json", "does not exist")
    Path("x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    _refused(_run(node, "ingest", "x.csv", "--mapping", "nomap.json"), "nomap.json", "does not exist")


def test_ingest_refuses_an_unknown_submitter_before_drawing_its_progress(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.json").write_text('{"type": "bundle", "id": "bundle--0b1f2c3d-0000-4000-8000-000000000001", "objects": []}')
    output = _refused(_run(node, "ingest", "b.json", "--user", "nobody"), "no user 'nobody'", "tearline user add")
    assert "ingesting" not in output, output


def test_export_checks_its_output_path_before_building_the_bundle(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tearline.ingest

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundle was built before --out was checked")

    monkeypatch.setattr(tearline.ingest, "export_bundle", never)
    _refused(_run(node, "export", "--user", "node-service", "--out", str(tmp_path / "no" / "dir" / "x.json")),
             "does not exist")  # fmt: skip
    _refused(_run(node, "export", "--user", "node-service", "--out", str(tmp_path)), "is a directory")


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_serve_refuses_a_port_out_of_range(node: Node, port: str) -> None:
    _refused(_run(node, "serve", "--port", port), "--port")


@pytest.mark.parametrize("name", ["[/b] ", "[red]alarm[/red] "])
def test_a_value_holding_markup_is_printed_as_it_is(node: Node, name: str) -> None:
    output = _refused(_run(node, "agency", "add", name, "--nation", "MEX"), "agency")
    assert repr(name) in output  # shown whole: neither a MarkupError nor styled away


def test_an_agency_name_holding_brackets_is_registered_and_echoed_as_it_is(node: Node) -> None:
    result = _run(node, "agency", "add", "MX-[/b]-[bold]", "--nation", "MEX")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "MX-[/b]-[bold]" in result.output
    with node.db.read() as session:
        assert session.scalar(select(AgencyRow.name).where(AgencyRow.name == "MX-[/b]-[bold]")) is not None


def test_each_problem_is_printed_once(node: Node) -> None:
    one = _refused(_run(node, "agency", "add", "   ", "--nation", "MEX"), "agency: must not be empty")
    assert one.count("must not be empty") == 1, one

    two = _refused(_run(node, "workspace", "add", " ", "--name", "", "--host-nation", "USA"), "2 problems")
    assert two.count("slug: must not be empty") == 1 and two.count("name: must not be empty") == 1, two


def test_ingest_of_a_bundle_with_a_mapping_is_refused_not_ignored(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.json").write_text('{"type": "bundle", "id": "bundle--0b1f2c3d-0000-4000-8000-000000000001", "objects": []}')
    Path("m.json").write_text("{}", encoding="utf-8")
    output = _refused(_run(node, "ingest", "b.json", "--mapping", "m.json"), "b.json", "CSV files only", "--mapping")
    assert len(output.strip().splitlines()) == 1, output


def test_serve_on_a_port_in_use_is_refused_before_it_says_it_serves(node: Node) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = str(holder.getsockname()[1])
        output = _refused(_run(node, "serve", "--port", port), "--port", f"{port} on 127.0.0.1 is in use")
    assert "serving" not in output, output


def test_a_mapping_that_is_no_json_object_is_named_once(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    Path("m.json").write_text("[1]", encoding="utf-8")
    output = _refused(_run(node, "ingest", "x.csv", "--mapping", "m.json"), "mapping: must be a JSON object")
    assert "mapping: mapping:" not in output, output
