"""An open stream answers to its credential on every poll, as a new request would (DESIGN §3.3).

Disabling the principal, revoking its tokens, logging the session out or taking a role away
must bite on a stream that is already open: it ends, or stops carrying what the role brought,
instead of serving what the principal was at the moment it connected.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session

from tearline.audit.search import Query, search
from tearline.fixtures import Demo
from tearline.node import Node
from tearline.store import changes
from tearline.store.federation import principal_named
from tearline.store.principals import revoke_tokens, set_disabled, update_principal
from tearline.web.routes_stream import event_id_after
from tests.federation.support import serving
from tests.web.support import report_body, token_headers
from tests.web.test_stream import file_consent_request, parse


class Listener:
    """A stream opened on the node's real server and heard in a thread: what it sent, and whether
    the server ended it (a stream still open when the reading times out was not ended)."""

    def __init__(self, http: httpx.Client, headers: dict[str, str], after: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.status = 0
        self.opened, self.done = threading.Event(), threading.Event()
        self.ended_by_server = False
        args = (http, {**headers, "Last-Event-ID": after})
        threading.Thread(target=self._listen, args=args, daemon=True).start()
        assert self.opened.wait(10), "the stream did not open"

    def _listen(self, http: httpx.Client, headers: dict[str, str]) -> None:
        try:
            with http.stream("GET", "/api/stream", headers=headers) as response:
                self.status = response.status_code
                buffer = ""
                for chunk in response.iter_text():
                    self.opened.set()
                    *blocks, buffer = (buffer + chunk).split("\n\n")
                    self.events += parse("\n\n".join(blocks) + "\n\n")
            self.ended_by_server = True
        except httpx.TransportError:
            pass  # timed out while still open, or closed by the test at its end: not ended by the server
        finally:
            self.opened.set()
            self.done.set()

    def hears_event(self, kind: str, request: str, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while not self._heard(kind, request) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self._heard(kind, request)

    def _heard(self, kind: str, request: str) -> bool:
        return any(e["kind"] == kind and e.get("request") == request for e in self.events)

    def reports(self) -> list[str]:
        return [e["report"] for e in self.events if e["kind"] == "report"]

    def hears(self, report: str, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while report not in self.reports() and time.monotonic() < deadline:
            time.sleep(0.05)
        return report in self.reports()


@dataclass
class Live:
    """The node served on loopback, with the streams opened on it."""

    node: Node
    url: str
    after: int  # streams start after the latest change before the test acts
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        # A read timeout below the 15 s keep-alive: a stream left open times out instead of hanging.
        http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(10, read=4))
        self.clients.append(http)
        return http

    def listen(self, username: str, headers: dict[str, str], http: httpx.Client | None = None) -> Listener:
        with self.node.db.read() as session:  # the event id the stream would have given them for that change
            principal = principal_named(session, username)
            assert principal is not None
            after = event_id_after(self.node, principal, self.after)
        return Listener(http or self.client(), headers, after)


@contextmanager
def live(node: Node) -> Iterator[Live]:
    with node.db.read() as session:
        latest = changes.latest_change(session)
    with serving(node) as url:
        served = Live(node, url, latest)
        try:
            yield served
        finally:
            for http in served.clients:
                http.close()


def change_principal(node: Node, username: str, change: Callable[[Session, Any], object]) -> None:
    """What `tearline user …` does to a principal, in its own transaction."""
    with node.db.write() as session:
        principal = principal_named(session, username)
        assert principal is not None
        change(session, principal)


def post_report(served: Live, text: str) -> str:
    """Ana stores a SECRET report, REL TO USA, MEX, that every US analyst may read."""
    headers = token_headers(served.node, "ana.analyst")
    created = httpx.post(f"{served.url}/api/reports", json=report_body([text]), headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def assert_cut_off(served: Live, stream: Listener, witness: Listener) -> None:
    """After the change, a new report reaches the witness but not the stream, which the server has ended."""
    report = post_report(served, "Couriers switched to the Lukeville crossing.")
    assert witness.hears(report), "the witness hears the report: it was stored and streamed"
    assert stream.done.wait(6)
    assert report not in stream.reports()
    assert stream.ended_by_server, "the server ends a stream whose credential no longer admits"


def test_disabling_a_principal_ends_their_open_stream(node: Node, demo: Demo) -> None:
    with live(node) as served:
        stream = served.listen("ian.intel", token_headers(node, "ian.intel"))
        witness = served.listen("dan.disclosure", token_headers(node, "dan.disclosure"))
        change_principal(node, "ian.intel", lambda s, p: set_disabled(s, p, True))  # `tearline user disable`
        assert_cut_off(served, stream, witness)
    with node.db.read() as session:  # the end of the stream is a refusal in the log, as any refused request
        ended = search(session, Query(actor="ian.intel@US-DEMO-INTEL", action="stream", outcome="denied")).hits
    assert [(hit.event.rule or "").split(";")[0] for hit in ended] == ["unknown or revoked token"]


def test_revoking_a_principals_tokens_ends_their_open_stream(node: Node, demo: Demo) -> None:
    with live(node) as served:
        headers = token_headers(node, "ian.intel")
        stream = served.listen("ian.intel", headers)
        witness = served.listen("dan.disclosure", token_headers(node, "dan.disclosure"))
        change_principal(node, "ian.intel", revoke_tokens)  # `tearline user revoke-tokens`
        assert_cut_off(served, stream, witness)
        again = served.client().get("/api/stream", params={"once": "true"}, headers=headers)
        assert again.status_code == 401  # and a reconnect is refused, as any request is


def test_logging_out_ends_the_sessions_stream_and_no_other(node: Node, demo: Demo) -> None:
    with live(node) as served:
        console = served.client()
        csrf = console_log_in(console, "ian.intel")
        stream = served.listen("ian.intel", {}, console)  # the console's stream rides on its session cookie
        witness = served.listen("ian.intel", token_headers(node, "ian.intel"))  # the same principal's API token stays
        assert console.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert_cut_off(served, stream, witness)


def test_a_role_taken_away_stops_its_events_on_the_open_stream(node: Node, demo: Demo) -> None:
    with live(node) as served:
        report = post_report(served, "Couriers switched to the Lukeville crossing.")
        officer = served.listen("dan.disclosure", token_headers(node, "dan.disclosure"))
        witness = served.listen("carla.auditor", token_headers(node, "carla.auditor"))
        change_principal(node, "dan.disclosure", lambda s, p: update_principal(s, p, roles=["analyst"]))  # `user set`
        request = file_consent_request(node, report)
        assert witness.hears_event("consent-request", request), "the auditor hears the consent request"
        later = post_report(served, "A second courier vehicle, a white van.")
        assert officer.hears(later), "dan is still admitted: his stream goes on, as an analyst's"
        assert "consent-request" not in [e["kind"] for e in officer.events]


def console_log_in(http: httpx.Client, username: str) -> str:
    """Log in through the console's form; returns the session's CSRF token as a page carries it."""
    nonce = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
    assert nonce is not None
    data = {"username": username, "password": Demo.passwords()[username], "csrf": nonce.group(1), "next": "/inbox"}
    assert http.post("/login", data=data, follow_redirects=False).status_code == 303
    token = re.search(r'data-csrf="([^"]+)"', http.get("/inbox").text)
    assert token is not None
    return token.group(1)
