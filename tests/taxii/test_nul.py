"""NUL (U+0000) in a TAXII request is a TAXII 400 naming where, on both databases (PostgreSQL text cannot hold it)."""

from __future__ import annotations

import pytest

from tests.taxii.support import assert_taxii_error, holdings_url, taxii_headers
from tests.web.conftest import Scenario


@pytest.mark.parametrize(
    ("suffix", "where"),
    [
        ("objects/x%00/", "path"),
        ("objects/?match[id]=x%00", "query.match[id]"),
        ("manifest/?added_after=%00", "query.added_after"),
    ],
)
def test_nul_in_a_taxii_request_is_a_taxii_400_naming_where(scenario: Scenario, suffix: str, where: str) -> None:
    url = holdings_url(scenario.node) + suffix
    response = scenario.client.get(url, headers=taxii_headers(scenario.node, "ana.analyst"))
    body = assert_taxii_error(response, 400)
    assert body["description"] == f"{where}: must not contain NUL (U+0000)"
