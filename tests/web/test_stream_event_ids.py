"""Where a stream resumes: a Last-Event-ID or `after` that is not an event id this stream sent the
subscriber is a 422 naming it, never a 500; and the ids it sends say nothing of the events it did
not send. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tearline.db.federation_tables import ChangeEvent
from tests.federation.support import serving
from tests.web.conftest import Scenario
from tests.web.support import token_headers
from tests.web.test_stream import parse

# str.isdigit() holds for superscripts, which int() then refuses; 5,000 digits is past int()'s own limit.
NOT_IDS = ["²", "1¹", "12³", "-1", "+1", "1.0", "0x10", "1" * 5000]


def test_a_last_event_id_that_is_not_an_event_id_is_a_422_naming_it(scenario: Scenario) -> None:
    # Over a real socket: the test client re-encodes header values as UTF-8, so '²' would arrive as 'Â²'.
    # A client that sends the byte 0xB2 has Starlette read it as Latin-1: '²'.
    token = token_headers(scenario.node, "ana.analyst")["Authorization"]
    with serving(scenario.node) as url, httpx.Client(base_url=url, timeout=10) as http:
        for value in NOT_IDS:
            headers = [(b"Authorization", token.encode()), (b"Last-Event-ID", value.encode("latin-1"))]
            response = http.get("/api/stream", params={"once": "true"}, headers=headers)
            assert response.status_code == 422, (value[:20], response.status_code, response.text[:300])
            assert "Last-Event-ID" in response.json()["message"]


@pytest.mark.parametrize("value", ["²", "1¹", "١", "-1", "1.5"])
def test_an_after_that_is_not_an_event_id_is_a_422_naming_it(scenario: Scenario, value: str) -> None:
    headers = token_headers(scenario.node, "ana.analyst")
    response = scenario.client.get("/api/stream", params={"once": "true", "after": value}, headers=headers)
    assert response.status_code == 422, (value, response.status_code, response.text[:300])
    assert "after" in response.json()["message"]


def _events(scenario: Scenario, username: str, resume: dict[str, str] | None = None, **params: str) -> list[Any]:
    headers = {**token_headers(scenario.node, username), **(resume or {})}
    response = scenario.client.get("/api/stream", params={"once": "true", **params}, headers=headers)
    assert response.status_code == 200, response.text[:300]
    return parse(response.text)


def _log_ids(scenario: Scenario) -> set[str]:
    with scenario.node.db.read() as session:
        return {str(i) for i in session.scalars(select(ChangeEvent.id))}


def test_an_event_id_is_opaque_and_says_nothing_of_the_events_between(scenario: Scenario) -> None:
    """The change log's own ids, sent as they are, counted by their gaps the events a reader was not sent."""
    log = _log_ids(scenario)
    ana, carla = _events(scenario, "ana.analyst"), _events(scenario, "carla.auditor")
    assert len(ana) >= 2 and carla
    for event in ana + carla:
        assert not event["id"].isdigit() and event["id"] not in log
        assert not any(number in event["id"] for number in log if len(number) > 2)
    # One change is a different id for each subscriber: two of them cannot compare notes either.
    heard = {(e["kind"], e.get("report"), e["at"]): e["id"] for e in carla}
    shared = [(e["id"], heard[k]) for e in ana if (k := (e["kind"], e.get("report"), e["at"])) in heard]
    assert shared and all(mine != theirs for mine, theirs in shared)


def test_an_event_id_resumes_by_header_and_by_query(scenario: Scenario) -> None:
    everything = _events(scenario, "ana.analyst")
    first = everything[0]["id"]
    assert _events(scenario, "ana.analyst", {"Last-Event-ID": first}) == everything[1:]
    assert _events(scenario, "ana.analyst", after=first) == everything[1:]
    assert _events(scenario, "ana.analyst", after=everything[-1]["id"]) == []


def _refused(scenario: Scenario, username: str, value: str) -> None:
    headers = token_headers(scenario.node, username)
    by_header = scenario.client.get(
        "/api/stream", params={"once": "true"}, headers={**headers, "Last-Event-ID": value}
    )
    assert by_header.status_code == 422, by_header.text[:300]
    assert "Last-Event-ID" in by_header.json()["message"]
    by_query = scenario.client.get("/api/stream", params={"once": "true", "after": value}, headers=headers)
    assert by_query.status_code == 422, by_query.text[:300]
    assert "after" in by_query.json()["message"]


def test_a_change_number_of_the_log_is_no_event_id(scenario: Scenario) -> None:
    """Resuming after a number of one's choosing would find, by halving, where each event sits in the log."""
    for number in [*sorted(_log_ids(scenario), key=int)[:3], "0", "1"]:
        _refused(scenario, "ana.analyst", number)


def test_an_event_id_given_to_another_subscriber_or_changed_is_refused(scenario: Scenario) -> None:
    given = _events(scenario, "carla.auditor")[0]["id"]
    _refused(scenario, "ana.analyst", given)  # carla's, not ana's
    changed = given[:-2] + ("AA" if given[-2:] != "AA" else "BB")
    _refused(scenario, "carla.auditor", changed)
    _refused(scenario, "carla.auditor", given[:-4])
