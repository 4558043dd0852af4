from __future__ import annotations

from collections.abc import Iterator

import pytest

from tearline import clock
from tests.stix.factories import NOW


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    # Review dates and RESERVADA limits are read against the clock; a fixed instant keeps them exact.
    with clock.frozen_at(NOW):
        yield
