"""`tearline bench search` at a small size: full-text search and the LIKE scan agree, and the command exits 0.

No timing is asserted: figures at this size mean nothing, and CI machines vary.
"""

from __future__ import annotations

from typer.testing import CliRunner

from tearline.bench.load import LoadSpec
from tearline.bench.search import SearchConfig, run_search
from tearline.cli import bench_search  # noqa: F401  (mounts `bench search`)
from tearline.cli.bench import bench_app
from tests.bench.test_bench_smoke import BACKENDS, _quiet, _url


@BACKENDS
def test_full_text_and_like_find_the_same_totals(backend: str) -> None:
    config = SearchConfig(load=LoadSpec(portions=2_000, principals=4, markings=100, seed=3), samples=3, repeats=1)
    result = run_search(_url(backend), config, _quiet)
    assert result.portions == 2_000 and result.agree
    hits = {c.case.label: max(c.hits) for c in result.cases}
    # Not degenerate: the rare word is found by someone, and the common word by more.
    assert 0 < hits["rare word (one report)"] < hits["word in every portion"]


def test_the_command_exits_0() -> None:
    args = ["search", "--portions", "1000", "--principals", "3", "--samples", "2", "--repeats", "1",
            "--markings", "60", "--database-url", "sqlite"]  # fmt: skip
    outcome = CliRunner().invoke(bench_app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "same totals" in outcome.output
