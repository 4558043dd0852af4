"""Every command and subcommand of `tearline` answers --help (scripts and partners rely on these forms)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from tearline.cli.main import app


def command_paths(command: object = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path of the app, the root included, by walking the Typer app's click tree."""
    command = command or typer.main.get_command(app)
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from command_paths(sub, (*path, name))


PATHS = list(command_paths())


def test_the_walk_finds_the_documented_command_forms() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"init", "serve", "user add", "ingest", "export", "demo"} <= names


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "tearline" for p in PATHS])
def test_each_command_answers_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="tearline")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert " ".join(("tearline", *path)) in " ".join(result.output.split())
