""""Edit markings" is offered only to those who may edit (SQLite and PostgreSQL): analysts of the
agency that originates what the page shows; never to other roles, nor to other agencies' analysts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tests.console.test_sessions import log_in

EDIT = 'data-testid="edit"'


@pytest.mark.parametrize(
    ("username", "report", "offered"),
    [
        ("ana.analyst", "convoy", True),  # an analyst of the originator, US-DEMO-NARC
        ("dan.disclosure", "convoy", False),  # the originator's disclosure officer: not an analyst
        ("carla.auditor", "convoy", False),
        ("ian.intel", "convoy", False),  # an analyst of another agency
        ("mateo.enlace", "convoy", False),  # a partner's analyst in the workspace
        ("ian.intel", "precursor", True),  # US-DEMO-INTEL originates this one
        ("ana.analyst", "precursor", False),
    ],
)
def test_edit_markings_is_offered_to_the_originators_analysts(
    client: TestClient, demo: Demo, username: str, report: str, offered: bool
) -> None:
    log_in(client, username)
    page = client.get(f"/reports/{demo.reports[report]}")
    assert page.status_code == 200
    assert (EDIT in page.text) is offered
