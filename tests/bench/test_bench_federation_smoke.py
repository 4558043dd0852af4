"""`tearline bench federation` at a small size: every release becomes searchable at the partner,
on SQLite and on PostgreSQL, and the command exits 0. No timing is asserted."""

from __future__ import annotations

from typer.testing import CliRunner

from tearline.bench.federation import FederationBenchConfig, run_latency
from tearline.cli.main import app
from tests.bench.test_bench_smoke import BACKENDS, _url


@BACKENDS
def test_every_release_becomes_searchable_at_the_partner(backend: str) -> None:
    config = FederationBenchConfig(releases=6, poll_releases=2, poll_seconds=0.2)
    result = run_latency(_url(backend), backend, config, lambda _step: None)
    assert (len(result.push), result.lost, len(result.poll)) == (6, 0, 2)
    assert all(0 < seconds < config.timeout for seconds in result.push + result.poll)


def test_the_command_prints_the_latency_table() -> None:
    small = ["--releases", "3", "--poll-releases", "1", "--poll-seconds", "0.2", "--database-url", "sqlite"]
    result = CliRunner().invoke(app, ["bench", "federation", *small, "--no-throughput"])
    assert result.exit_code == 0, result.output
    assert "approval to searchable at the partner" in result.output and "push: p99" in result.output
