"""Two served nodes, a US node with the demo data and a Mexican node, registered as peers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tearline.fixtures import build_demo
from tearline.node import Node
from tests.conftest import Templates
from tests.federation.partner_units import world  # noqa: F401  (a fixture: partner pushes to MEX in process)
from tests.federation.support import Pair, free_port, register_each_other, serving
from tests.release.support import cheap_passwords, mex_node


@pytest.fixture
def pair(
    node: Node, backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pair]:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    mex = mex_node(backend, templates, tmp_path)
    mex_port = free_port()
    with serving(node) as us_url, serving(mex, mex_port) as mex_url:
        token = register_each_other(node, us_url, mex, mex_url)
        yield Pair(node, mex, demo, us_url, mex_url, token)
    mex.close()
