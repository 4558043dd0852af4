"""The README mentions every command of the CLI: an undocumented command fails here (as in Datasette)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_help import PATHS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
# Leaf commands only: a group such as `tearline user` is documented through its subcommands.
COMMANDS = [p for p in PATHS if p and not any(q[: len(p)] == p and q != p for q in PATHS)]


def test_the_walk_reaches_leaf_commands() -> None:
    assert ("init",) in COMMANDS and ("user", "add") in COMMANDS and ("user",) not in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_each_command_is_mentioned_in_the_readme(path: tuple[str, ...]) -> None:
    form = " ".join(("tearline", *path))
    assert form in " ".join(README.split()), f"README.md does not mention `{form}`"
