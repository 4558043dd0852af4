"""`tearline bench taxii` at a small size: both servers serve the whole collection, the command exits 0.

No timing is asserted: figures at this size mean nothing, and CI machines vary.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tearline.bench.taxii import OBJECTS_PER_REPORT, TaxiiBenchConfig, taxii_throughput
from tearline.cli.main import app
from tearline.taxii.holdings import HELD_EXTENSIONS
from tests.bench.test_bench_smoke import _url

SMALL = TaxiiBenchConfig(objects=450, page=100, medallion_budget=120)


# SQLite only: the PostgreSQL path is the server's, tested in tests/taxii; a fresh database there
# (created, migrated, dropped) would triple this test's time.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_both_servers_serve_the_same_whole_collection(backend: str) -> None:
    result = taxii_throughput(_url(backend), SMALL)
    reports = -(-SMALL.objects // OBJECTS_PER_REPORT)
    assert result.stored == SMALL.objects + reports * 10  # a tenth more, hidden from the reader
    # Every visible object and report, tearline's definitions and the markings in use.
    assert result.ours.finished and result.ours.served > SMALL.objects + reports
    assert result.ours.pages == -(-result.ours.served // SMALL.page)
    # medallion gets all of them but the extension-definitions it cannot serve (see bench/taxii.py).
    assert result.medallion.finished and result.medallion.served == result.medallion_objects
    assert result.medallion_objects == result.ours.served - len(HELD_EXTENSIONS)
    value, kind = result.ratio()
    assert value is not None and kind == "measured"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_command_prints_the_ratio(backend: str) -> None:
    out = CliRunner().invoke(app, ["bench", "taxii", "--objects", "120", "--database-url", _url(backend)])
    assert out.exit_code == 0, out.output
    assert "ratio, tearline / medallion" in out.output and "measured" in out.output
