"""The auditor's log search shows only what the auditor may see (DESIGN §3.3), on SQLite and PostgreSQL.

The auditor role grants the search, never visibility: an entry about a report, portion or object
the auditor may not see is left out, a banner is shown only where the auditor sees all it covers,
and the history of a hidden report answers exactly like that of a report that never existed.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tearline.audit import search, store
from tearline.fixtures import VETTED_UNIT, Demo
from tests.web.support import MISSING_REPORT, login, marking, report_body

CARLA = "carla.auditor"


def _halcon_report(client: TestClient, ana: dict[str, str]) -> str:
    """A report of the vetted unit only: carla, who is not read into it, may not see it."""
    vetted = marking(["USA", "MEX"], compartments=[VETTED_UNIT])
    body = report_body(["The unit meets its source at the Jiménez stop."])
    body["title"]["marking"] = vetted
    for part in (*body["portions"], *body["objects"]):
        part["marking"] = vetted
    created = client.post("/api/reports", json=body, headers=ana)
    assert created.status_code == 201, created.text
    report: str = created.json()["id"]
    assert client.get(f"/api/reports/{report}", headers=ana).status_code == 200
    return report


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/audit/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _console(client: TestClient, username: str) -> None:
    """Log the test client's browser in: the session cookie stays."""
    response = client.post("/api/login", json={"username": username, "password": Demo.passwords()[username]})
    assert response.status_code == 200, response.text


def test_a_hidden_report_answers_the_auditor_like_one_that_never_existed(client: TestClient) -> None:
    ana, carla = login(client, "ana.analyst"), login(client, CARLA)
    halcon = _halcon_report(client, ana)
    assert client.get(f"/api/reports/{halcon}", headers=carla).status_code == 404
    for limit in (1, 100):
        hidden = _search(client, carla, object=halcon, limit=limit)
        missing = _search(client, carla, object=MISSING_REPORT, limit=limit)
        assert hidden == missing == {"hits": [], "next_after": None}
    # What ana did is searchable, but not what she did with the hidden report.
    theirs = _search(client, carla, actor="ana.analyst@US-DEMO-NARC")["hits"]
    assert theirs and not [h for h in theirs if halcon in h["event"]["objects"]]


def test_the_auditor_sees_no_banner_naming_a_compartment_she_is_not_read_into(client: TestClient, demo: Demo) -> None:
    ana, carla = login(client, "ana.analyst"), login(client, CARLA)
    convoy = demo.reports["convoy"]
    assert client.get(f"/api/reports/{convoy}", headers=ana).status_code == 200  # ana sees its vetted portion
    assert client.get(f"/api/reports/{convoy}", headers=carla).status_code == 200  # carla sees the rest
    hits = _search(client, carla, object=convoy)["hits"]
    assert hits, "carla's own read of the convoy report is hers to see"
    shown = [h["event"]["marking"] or "" for h in hits]
    assert not [m for m in shown if VETTED_UNIT in m], shown
    # A withheld banner takes the entry's bytes with it: they hold the banner too.
    assert all(h["data"] is None for h in hits if h["event"]["marking"] is None)


def test_the_console_search_leaves_out_what_the_auditor_may_not_see(client: TestClient, demo: Demo) -> None:
    ana = login(client, "ana.analyst")
    halcon = _halcon_report(client, ana)
    for reader in (ana, login(client, CARLA)):
        assert client.get(f"/api/reports/{demo.reports['convoy']}", headers=reader).status_code == 200
    _console(client, CARLA)
    about_convoy = client.get("/audit", params={"object": demo.reports["convoy"]})
    assert about_convoy.status_code == 200
    assert "report.read" in about_convoy.text and VETTED_UNIT not in about_convoy.text
    about_halcon = client.get("/audit", params={"object": halcon}).text
    about_nothing = client.get("/audit", params={"object": MISSING_REPORT}).text
    assert _hits(about_halcon) == _hits(about_nothing) and "No entries." in _hits(about_nothing)


def _hits(page: str) -> str:
    """The table of entries found (the checkpoint above it moves with every logged request)."""
    return page[page.index('data-testid="hits"') :].split("</table>", 1)[0]


def test_a_search_past_many_hidden_entries_stops_and_says_where_to_go_on(
    client: TestClient, monkeypatch: Any
) -> None:
    """The scan past hidden entries is bounded; the page it answers says where the next one starts,
    and following it finds what the auditor may see, as one unbounded scan would have."""
    monkeypatch.setattr(store, "INDEX_BATCH", 4)  # entries reach the search tables, where scans go in batches
    ana, carla = login(client, "ana.analyst"), login(client, CARLA)
    for _ in range(8):
        _halcon_report(client, ana)  # each leaves entries by ana that carla may not see
    seen = client.post("/api/reports", json=report_body(["Seen by the auditor."]), headers=ana)
    assert seen.status_code == 201, seen.text
    actor = "ana.analyst@US-DEMO-NARC"
    whole = [h["index"] for h in _search(client, carla, actor=actor, limit=500)["hits"]]
    assert len(whole) >= 2
    monkeypatch.setattr(search, "SIGHT_SCAN", 3)
    found, after, short = [], -1, 0
    for _ in range(1000):
        page = _search(client, carla, actor=actor, limit=1, after=after)
        found += [h["index"] for h in page["hits"]]
        if page["next_after"] is None:
            break
        short += not page["hits"]  # the scan stopped before the page was full
        after = page["next_after"]
    assert found == whole and short
