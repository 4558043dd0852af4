"""A title its reader may not see is said one way by the stream and by the report read: the read
answers `"title": null` (the STIX renderings need a name and say "[title withheld]"), and a report
event for that reader carries the same. On SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.web.conftest import Scenario
from tests.web.support import token_headers
from tests.web.test_stream import parse


def test_a_report_event_says_a_hidden_title_as_the_report_read_does(scenario: Scenario) -> None:
    headers = token_headers(scenario.node, "chloe.liaison")
    convoy = scenario.demo.reports["convoy"]
    read = scenario.client.get(f"/api/reports/{convoy}", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["title"] is None  # chloe may not see the convoy report's title
    events = parse(scenario.client.get("/api/stream", params={"once": "true"}, headers=headers).text)
    about = [e for e in events if e["kind"] == "report" and e["report"] == convoy]
    assert about and all(e["title"] == read.json()["title"] for e in about)
