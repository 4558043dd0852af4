"""`tearline bench visibility` at a small size: the SQL and Cedar answers agree, and the command exits 0.

No timing is asserted: figures at this size mean nothing, and CI machines vary.
"""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from tearline.bench.databases import postgres_reachable
from tearline.bench.load import LoadSpec
from tearline.bench.visibility import VisibilityConfig, run_visibility
from tearline.cli.bench import bench_app

POSTGRES = os.environ.get("TEARLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SMALL = ["--portions", "2000", "--principals", "5", "--samples", "5", "--pages", "3", "--markings", "150"]


BACKENDS = pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])


def _url(backend: str) -> str:
    if backend == "sqlite":
        return "sqlite"
    if not postgres_reachable(POSTGRES):
        message = f"PostgreSQL at {POSTGRES} is not reachable; start it or set TEARLINE_TEST_POSTGRES"
        if os.environ.get("TEARLINE_SKIP_POSTGRES") and os.environ.get("CI") != "true":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    return POSTGRES


def _quiet(name: str, done: int, total: int) -> None:
    return None


@BACKENDS
def test_sql_and_cedar_give_the_same_pages_and_counts(backend: str) -> None:
    load = LoadSpec(portions=2_000, principals=5, markings=150, seed=7)
    config = VisibilityConfig(load=load, samples=5, pages=3, repeats=1, cedar_counts=5)
    result = run_visibility(_url(backend), config, _quiet)
    assert result.portions == 2_000
    assert len(result.principals) == 5
    assert all(p.pages_equal for p in result.principals)
    assert [p.count_equal for p in result.principals] == [True] * 5
    assert result.agree
    # The sample is not degenerate: someone sees something, and nobody sees everything.
    assert any(p.visible > 0 for p in result.principals)
    assert all(p.visible < 2_000 for p in result.principals)


@BACKENDS
def test_the_command_exits_0(backend: str) -> None:
    args = ["visibility", *SMALL, "--cedar-counts", "2", "--ingest-objects", "120", "--database-url", _url(backend)]
    outcome = CliRunner().invoke(bench_app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "SQL and Cedar answers equal" in outcome.output
    assert "NO" not in outcome.output
