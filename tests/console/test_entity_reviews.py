"""The analysts' entity-resolution review queue, in Chromium, against the real `tearline serve`.

A node (on SQLite and on PostgreSQL) where pairs of person records land between the model's
thresholds: the analyst sees each pending pair, opens it side by side with its explanation, and
confirms or splits it (the decision changes in the database, and every read and decision is
audited); a reader who may not see one member sees neither its row nor its page; a non-analyst's
decision is refused with its rule; a confirmed link that a revision weakened comes back as a recheck.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tearline.audit.search import Query, search
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.fixtures import WORKSPACE, Demo, build_demo
from tearline.node import Node
from tearline.resolve import arrivals, batch, bench, incremental, model
from tearline.web.app import create_app
from tests.cli.support import free_port, serving
from tests.conftest import Templates
from tests.web.support import login, marking, quick_settings, report_body

# Each pair: a full record (with a date of birth and a phone) and a vague one naming the same
# person (names only), REL TO as given; names alone put such a pair in the analysts' queue.
PAIRS = {
    "confirm": ("Efraín Zamora Quintero", "Zamora, Efraín", ["USA", "MEX"]),
    "split": ("José Luis Hernández Garza", "Hernández, José Luis", ["USA", "MEX"]),
    "hidden": ("Ramón Ortiz Salcido", "Ortiz, Ramón", ["USA"]),  # the vague one is not for Mexico
    "refused": ("Ignacio Robles Duarte", "Robles, Ignacio", ["USA", "MEX"]),
    "recheck": ("Octavio Beltrán Lugo", "Beltrán, Octavio", ["USA", "MEX"]),
}
ANA, MATEO, CARLA = "ana.analyst@US-DEMO-NARC", "mateo.enlace@MX-DEMO-FIA", "carla.auditor@US-DEMO-NARC"


@dataclass
class Pair:
    decision: int
    members: tuple[str, str]  # (full, vague) STIX ids
    names: tuple[str, str]


@dataclass
class Reviews:
    """`tearline serve` on a node with a pending decision for each of PAIRS, and the node, for reads."""

    url: str
    node: Node
    pairs: dict[str, Pair]


@pytest.fixture(scope="module")
def trained() -> model.TrainedModel:
    return batch.resolve(bench.spanish(families=100, seed=4).records).trained


def _person(name: str, **extra: str) -> dict[str, Any]:
    return {
        "id": f"identity--{uuid.uuid4()}",
        "type": "identity",
        "name": name,
        "properties": {"name": name, "identity_class": "individual", "x_tearline_person": extra},
    }


def _report(person: dict[str, Any], rel_to: list[str]) -> dict[str, Any]:
    body = report_body(objects=[{**person, "marking": marking(rel_to)}], workspace=WORKSPACE)
    body["title"]["marking"] = body["portions"][0]["marking"] = marking(rel_to)
    return body


def _pending(node: Node, members: tuple[str, str], kind: str) -> int:
    with node.db.read() as session:
        found = session.scalars(
            select(ResolveDecision.id).where(
                ResolveDecision.member_a.in_(members),
                ResolveDecision.member_b.in_(members),
                ResolveDecision.kind == kind,
                ResolveDecision.state == "pending",
            )
        ).all()
    assert len(found) == 1, f"expected one pending {kind} of {members}, found {found}"
    return found[0]


def _build(node: Node, trained: model.TrainedModel) -> dict[str, Pair]:
    """The persons of PAIRS posted through the API and resolved; the recheck pair confirmed, then weakened."""
    build_demo(node)
    with node.db.write() as session:
        incremental.keep_model(session, trained)
    client = TestClient(create_app(node))
    ana = login(client, "ana.analyst")
    posted: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {}
    for number, (short, (full_name, vague_name, rel_to)) in enumerate(PAIRS.items()):
        full = _person(full_name, dob=f"197{number}-0{number + 1}-1{number}", phones=f"+52 662 123 45{10 + number}")
        vague = _person(vague_name)
        for person, marked in ((full, ["USA", "MEX"]), (vague, rel_to)):
            response = client.post("/api/reports", json=_report(person, marked), headers=ana)
            assert response.status_code == 201, response.text
        posted[short] = (full, vague, response.json()["id"])
    arrivals.drain(node)
    pairs = {
        short: Pair(_pending(node, (f["id"], v["id"]), "review"), (f["id"], v["id"]), (f["name"], v["name"]))
        for short, (f, v, _) in posted.items()
    }
    # A later version of the vague Beltrán's report gives another date of birth and phone: the link
    # an analyst confirmed is weaker now, and goes back to the queue as a recheck.
    confirmed = client.post(f"/api/resolve/decisions/{pairs['recheck'].decision}/confirm", headers=ana)
    assert confirmed.status_code == 200, confirmed.text
    full, vague, report_id = posted["recheck"]
    revised = {
        **vague,
        "properties": {**vague["properties"], "x_tearline_person": {"dob": "1990-11-23", "phones": "+52 662 999 0000"}},
    }
    edited = client.put(f"/api/reports/{report_id}", json=_report(revised, PAIRS["recheck"][2]), headers=ana)
    assert edited.status_code == 200, edited.text
    arrivals.drain(node)
    pairs["recheck"].decision = _pending(node, pairs["recheck"].members, "recheck")
    return pairs


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def reviews(
    request: pytest.FixtureRequest,
    templates: Templates,
    tmp_path_factory: pytest.TempPathFactory,
    trained: model.TrainedModel,
) -> Iterator[Reviews]:
    root = tmp_path_factory.mktemp("reviews")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TEARLINE_DATABASE_URL", raising=False)
        quick_settings(patch)
        built = (
            templates.sqlite_node(root / "node")
            if request.param == "sqlite"
            else templates.postgres_node(root / "node")
        )
        try:
            pairs = _build(built, trained)
        finally:
            built.close()
    port = free_port()
    with serving(["serve", "--data", str(root / "node"), "--port", str(port)], port, root / "logs") as server:
        node = Node.open(root / "node")  # the test's own reads: the database as the server left it
        try:
            yield Reviews(server.url, node, pairs)
        finally:
            node.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(locale="en-US")
    made.set_default_timeout(15_000)
    yield made
    made.close()


def log_in(context: Any, reviews: Reviews, username: str) -> Any:
    page = context.new_page()
    page.goto(f"{reviews.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", Demo.passwords()[username])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox"))
    return page


def state_of(reviews: Reviews, decision: int) -> str:
    with reviews.node.db.read() as session:
        row = session.get(ResolveDecision, decision)
        assert row is not None
        return row.state


def entities_of(reviews: Reviews, pair: Pair) -> set[str]:
    with reviews.node.db.read() as session:
        return set(session.scalars(select(ResolveMember.entity_id).where(ResolveMember.stix_id.in_(pair.members))))


def audited(reviews: Reviews, actor: str) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    with reviews.node.db.read() as session:
        hits = search(session, Query(actor=actor, limit=500)).hits
    return [(h.event.action, h.event.outcome, tuple(h.event.objects), h.event.rule) for h in hits]


def row(page: Any, pair: Pair) -> Any:
    return page.locator(f"[data-testid=reviews] tr[data-decision='{pair.decision}']")


def banners(page: Any) -> tuple[str, str]:
    return page.inner_text("[data-testid=banner-top]").strip(), page.inner_text("[data-testid=banner-bottom]").strip()


def post_form(page: Any, url: str) -> Any:
    """A form posted with the reader's own session and CSRF token, as a hand-made form would be."""
    return page.request.post(url, form={"csrf": page.get_attribute("body", "data-csrf")})


def open_review(page: Any, pair: Pair) -> None:
    """From the nav link to the queue, then the pair's row, to its page."""
    page.click("nav a[href='/entities/reviews']")
    page.wait_for_url(re.compile(r"/entities/reviews$"))
    row(page, pair).locator("[data-testid=open]").click()
    page.wait_for_url(re.compile(rf"/entities/reviews/{pair.decision}$"))


def test_an_analyst_confirms_a_pair_side_by_side_with_its_explanation(context: Any, reviews: Reviews) -> None:
    from playwright.sync_api import expect

    pair = reviews.pairs["confirm"]
    page = log_in(context, reviews, "ana.analyst")
    page.click("nav a[href='/entities/reviews']")
    expect(row(page, pair).locator("[data-testid=names]")).to_have_text(f"{pair.names[0]} · {pair.names[1]}")
    expect(row(page, pair).locator("[data-testid=probability]")).to_have_text(re.compile(r"^0\.\d{3}$"))
    expect(row(page, pair).locator("[data-testid=recheck]")).to_have_count(0)
    assert banners(page) == ("SECRET//NOFORN",) * 2  # the hidden pair's USA-only record is listed for her

    open_review(page, pair)
    expect(page.locator("[data-testid=member-1] [data-testid=member-name]")).to_have_text(pair.names[0])
    expect(page.locator("[data-testid=member-2] [data-testid=member-name]")).to_have_text(pair.names[1])
    expect(page.locator("[data-testid=state]")).to_have_attribute("data-state", "pending")
    explanation = page.locator("[data-testid=explanation]")
    expect(explanation.locator("tr[data-comparison=paternal] [data-testid=level]")).to_have_text("exact")
    expect(explanation.locator("tr[data-comparison=dob] [data-testid=level]")).to_have_text("missing")
    expect(explanation.locator("tr[data-comparison=given] [data-testid=weight]")).to_have_text(re.compile(r"^\+\d"))
    assert banners(page) == ("SECRET//REL TO USA, MEX",) * 2  # only what this page shows

    page.click("[data-testid=confirm]")
    page.wait_for_url(re.compile(r"/entities/reviews\?outcome=confirmed"))
    expect(page.locator("[data-testid=outcome]")).to_contain_text(f"Decision {pair.decision} confirmed")
    expect(row(page, pair)).to_have_count(0)
    expect(row(page, reviews.pairs["refused"])).to_have_count(1)  # the rest of the queue still waits
    assert state_of(reviews, pair.decision) == "confirmed"
    assert len(entities_of(reviews, pair)) == 1

    entries = audited(reviews, ANA)
    decision = f"decision:{pair.decision}"
    assert ("entity.confirm", "allowed", (decision, *pair.members), None) in entries
    assert any(a == "entity.reviews" and o == "allowed" and set(pair.members) <= set(objs) for a, o, objs, _ in entries)
    assert any(
        a == "entity.read" and objs[0] == decision and set(pair.members) <= set(objs) for a, _, objs, _ in entries
    )


def test_an_analyst_splits_a_pair(context: Any, reviews: Reviews) -> None:
    from playwright.sync_api import expect

    pair = reviews.pairs["split"]
    page = log_in(context, reviews, "ana.analyst")
    open_review(page, pair)
    page.click("[data-testid=split]")
    page.wait_for_url(re.compile(r"/entities/reviews\?outcome=split"))
    expect(page.locator("[data-testid=outcome]")).to_contain_text(f"Decision {pair.decision} split")
    expect(row(page, pair)).to_have_count(0)
    assert state_of(reviews, pair.decision) == "split"
    assert len(entities_of(reviews, pair)) == 2
    assert ("entity.split", "allowed", (f"decision:{pair.decision}", *pair.members), None) in audited(reviews, ANA)

    # A decided pair's page shows where it stands, with nothing left to decide.
    page.goto(f"{reviews.url}/entities/reviews/{pair.decision}")
    expect(page.locator("[data-testid=state]")).to_have_attribute("data-state", "split")
    expect(page.locator("[data-testid=confirm]")).to_have_count(0)
    again = post_form(page, f"{reviews.url}/entities/reviews/{pair.decision}/confirm")  # a stale form
    assert again.status == 409 and f"decision {pair.decision} is split" in again.text()
    assert state_of(reviews, pair.decision) == "split"


def test_a_reader_who_may_not_see_a_member_sees_neither_its_row_nor_its_page(
    browser: Any, context: Any, reviews: Reviews
) -> None:
    from playwright.sync_api import expect

    hidden, shared = reviews.pairs["hidden"], reviews.pairs["refused"]
    ana = log_in(context, reviews, "ana.analyst")
    ana.goto(f"{reviews.url}/entities/reviews")
    expect(row(ana, hidden)).to_have_count(1)  # pending, and shown to a reader who may see both

    partner = browser.new_context(locale="en-US")
    partner.set_default_timeout(15_000)
    mateo = log_in(partner, reviews, "mateo.enlace")
    mateo.click("nav a[href='/entities/reviews']")
    expect(row(mateo, shared)).to_have_count(1)
    expect(row(mateo, hidden)).to_have_count(0)
    assert hidden.names[0] not in mateo.content()  # not even its visible member's name
    assert "NOFORN" not in banners(mateo)[0]

    page = mateo.goto(f"{reviews.url}/entities/reviews/{hidden.decision}")
    hidden_text = mateo.inner_text("main")
    missing = mateo.goto(f"{reviews.url}/entities/reviews/{hidden.decision + 10_000}")
    assert page.status == missing.status == 404
    assert hidden_text == mateo.inner_text("main")  # the same answer as a missing decision
    mateo.goto(f"{reviews.url}/entities/reviews")  # a page with his token (an error page carries none)
    refused = post_form(mateo, f"{reviews.url}/entities/reviews/{hidden.decision}/confirm")
    assert refused.status == 404
    assert state_of(reviews, hidden.decision) == "pending"

    entries = audited(reviews, MATEO)
    decision = (f"decision:{hidden.decision}",)
    assert ("entity.read", "denied", decision, "not_found") in entries  # no member named in the log either
    assert ("entity.confirm", "denied", decision, "not_found") in entries
    partner.close()


def test_a_non_analyst_may_read_but_not_decide(context: Any, reviews: Reviews) -> None:
    from playwright.sync_api import expect

    pair = reviews.pairs["refused"]
    page = log_in(context, reviews, "carla.auditor")
    expect(page.locator("nav a[href='/entities/reviews']")).to_have_count(0)
    page.goto(f"{reviews.url}/entities/reviews/{pair.decision}")
    expect(page.locator("[data-testid=explanation]")).to_be_visible()
    expect(page.locator("[data-testid=confirm]")).to_have_count(0)

    for action in ("confirm", "split"):
        refused = post_form(page, f"{reviews.url}/entities/reviews/{pair.decision}/{action}")
        assert refused.status == 403
        assert re.search(r'data-testid="rule">analyst-role<', refused.text())
        assert ("entity." + action, "denied", (f"decision:{pair.decision}",), "analyst-role") in audited(reviews, CARLA)
    assert state_of(reviews, pair.decision) == "pending"


def test_a_weakened_confirmation_comes_back_as_a_recheck(context: Any, reviews: Reviews) -> None:
    from playwright.sync_api import expect

    pair, review = reviews.pairs["recheck"], reviews.pairs["refused"]
    page = log_in(context, reviews, "ana.analyst")
    page.click("nav a[href='/entities/reviews']")
    expect(row(page, pair)).to_have_attribute("data-kind", "recheck")
    expect(row(page, pair).locator("[data-testid=recheck]")).to_have_text("recheck")
    expect(row(page, review).locator("[data-testid=recheck]")).to_have_count(0)

    open_review(page, pair)
    expect(page.locator("[data-testid=kind]")).to_have_attribute("data-kind", "recheck")
    expect(page.locator("[data-testid=recheck]")).to_contain_text("splitting withdraws the earlier confirmation")
    expect(page.locator("[data-testid=explanation] tr[data-comparison=dob]")).to_have_count(1)
    # The two are one entity still: the confirmation stands until an analyst decides again.
    shown = [page.inner_text(f"[data-testid=member-{n}] [data-testid=member-name]") for n in (1, 2)]
    expect(page.locator("[data-testid=others]")).to_have_text(shown[::-1])
    assert sorted(shown) == sorted(pair.names) and len(entities_of(reviews, pair)) == 1


def test_the_queue_pages_oldest_first(context: Any, reviews: Reviews) -> None:
    # Other tests decide some pairs: what is still pending now is what the pages must show.
    pending = sorted(p.decision for p in reviews.pairs.values() if state_of(reviews, p.decision) == "pending")
    assert len(pending) >= 2
    page = log_in(context, reviews, "ana.analyst")
    page.goto(f"{reviews.url}/entities/reviews?limit=2")
    shown: list[int] = []
    while True:
        rows = page.locator("[data-testid=reviews] tr[data-decision]")
        here = [int(rows.nth(i).get_attribute("data-decision")) for i in range(rows.count())]
        assert 1 <= len(here) <= 2
        shown += here
        assert (page.locator("[data-testid=first-page]").count() == 1) == (len(shown) > len(here))
        if page.locator("[data-testid=next-page]").count() == 0:
            break
        page.click("[data-testid=next-page]")
        page.wait_for_load_state("load")
    assert shown == pending
