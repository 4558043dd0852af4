"""`tearline bench release` at a small size: it runs on both databases, and the two sides agree.

No speed is asserted: figures at this size mean nothing, and machines vary.
"""

from __future__ import annotations

import os

from typer.testing import CliRunner

from tearline.bench.release import CEDAR_RELEASE_POLICY, ReleaseBenchConfig, run_release_bench
from tearline.cli.main import app

POSTGRES = os.environ.get("TEARLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _quiet(step: str, done: int, total: int) -> None:
    return None


def test_the_bench_measures_a_tearline_and_per_item_cedar_agrees(backend: str) -> None:
    url = "sqlite" if backend == "sqlite" else POSTGRES
    (result,) = run_release_bench([url], ReleaseBenchConfig(portions=12, objects=30, runs=2, seed=3), _quiet)
    assert result.agree, result.disagreements
    assert result.items == 1 + 12 + 30
    assert 0 < result.kept < result.items and sum(result.withheld.values()) == result.items - result.kept
    assert min(result.ours_total, result.ours_generate, result.cedar_total, result.cedar_decide) > 0
    assert result.ratio() is not None and result.ratio(total=False) is not None


def test_every_withholding_rule_has_a_named_cedar_forbid() -> None:
    for rule in (
        "not-releasable-to-recipient",
        "above-release-ceiling",
        "compartment",
        "orcon-without-approval",
        "les-needs-law-enforcement-recipient",
        "third-party-without-consent",
        "not-live",
    ):
        assert f'@id("{rule}")\nforbid' in CEDAR_RELEASE_POLICY


def test_the_command_exits_0() -> None:
    args = ["bench", "release", "--portions", "8", "--objects", "20", "--runs", "2", "--database-url", "sqlite"]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "same items kept, rules agree" in outcome.output and "NO" not in outcome.output
