"""`tearline bench audit` at a small size: it runs on both databases, and every proof it times is valid.

No speed is asserted: figures at this size mean nothing, and machines vary.
"""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from tearline.bench.audit import AuditBenchConfig, pymerkle_missing, run_audit_bench
from tearline.cli.main import app

POSTGRES = os.environ.get("TEARLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SMALL = AuditBenchConfig(
    entries=1_200, single=30, batched=300, batch=50, writers=2, grouped=64, callers=4, proofs=15, pymerkle_proofs=5
)


def _url(backend: str) -> str:
    return "sqlite" if backend == "sqlite" else POSTGRES


def _quiet(step: str, done: int, total: int) -> None:
    return None


def test_the_bench_measures_and_checks_its_proofs(backend: str) -> None:
    (result,) = run_audit_bench([_url(backend)], SMALL, _quiet)
    ours = result.ours
    assert ours.size == 1_200
    assert min(ours.single, ours.concurrent, ours.batched, ours.group, ours.fill) > 0
    assert 0 < ours.inclusion < 1 and 0 < ours.consistency < 1
    assert result.checked == 2 * SMALL.proofs
    if pymerkle_missing() is None:
        assert result.pymerkle is not None and result.pymerkle.size == 1_200
        assert result.ratio("single") is not None and result.ratio("group") is not None
    else:
        assert result.pymerkle is None and "pip install" in result.pymerkle_note


@pytest.mark.parametrize("pymerkle", ["--pymerkle", "--no-pymerkle"])
def test_the_command_exits_0(pymerkle: str) -> None:
    args = ["bench", "audit", "--entries", "400", "--single", "10", "--batched", "100", "--batch", "20"]
    args += ["--writers", "2", "--grouped", "16", "--callers", "4"]
    args += ["--proofs", "5", "--pymerkle-proofs", "3", "--database-url", "sqlite", pymerkle]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "timed proofs checked against the roots: all valid" in outcome.output
