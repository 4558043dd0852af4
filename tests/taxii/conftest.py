"""TAXII tests run the node's app on the demo scenario, on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.web.conftest import Scenario, scenario
from tests.web.support import quick

__all__ = ["Scenario", "quick", "scenario"]
