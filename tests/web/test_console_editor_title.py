"""The editor's page title says what the page is (SQLite and PostgreSQL): a new report, or an edit."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tearline.fixtures import Demo
from tests.console.test_sessions import log_in


def _title(page: str) -> str:
    found = re.search(r"<title>([^<]*)</title>", page)
    assert found is not None
    return found.group(1)


def test_the_new_report_page_is_titled_new_report(client: TestClient, demo: Demo) -> None:
    log_in(client, "ana.analyst")
    assert _title(client.get("/reports/new").text).startswith("New report")
    assert _title(client.get(f"/reports/{demo.reports['convoy']}/edit").text).startswith("Edit markings")
    assert _title(client.get("/reports/new", params={"lang": "es"}).text).startswith("Nuevo informe")
