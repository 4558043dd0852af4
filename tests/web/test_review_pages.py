"""The review queue in pages, over the API, on SQLite and PostgreSQL: each reader walks exactly the
pending pairs they may both see, oldest first, however many pairs they may not see lie between."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from tearline import clock
from tearline.db.resolve_tables import ResolveDecision
from tearline.node import Node
from tests.web.support import login
from tests.web.test_resolve_api import _person, _post

HIDDEN_BETWEEN = 9_000  # pending pairs of records no reader may see, before each visible pair


def _pending(a: str, b: str) -> dict[str, Any]:
    return {
        "kind": "review",
        "state": "pending",
        "member_a": a,
        "member_b": b,
        "probability": 0.8,
        "match_weight": 2.0,
        "explanation": [{"comparison": "given", "level": "exact", "match_weight": 2.0}],
        "decided_by": "test",
        "created_at": clock.now(),
        "decided_at": None,
    }


def _walk(client: TestClient, headers: dict[str, str], limit: int) -> list[int]:
    seen: list[int] = []
    after: int | None = 0
    while after is not None:
        page = client.get("/api/resolve/reviews", params={"after": after, "limit": limit}, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == len(body["items"]) <= limit
        assert body["items"] or after == 0  # a `next` never leads to an empty page
        seen += [item["decision"] for item in body["items"]]
        after = body["next"]
    return seen


def test_each_reader_walks_the_pairs_they_may_both_see_in_pages(node: Node, client: TestClient) -> None:
    ana, mateo = login(client, "ana.analyst"), login(client, "mateo.enlace")
    shared = [_person(f"Persona Compartida {n}", ["USA", "MEX"]) for n in range(3)]
    noforn = _person("Persona Reservada", ["USA"])
    for person, rel_to in [(p, ["USA", "MEX"]) for p in shared] + [(noforn, ["USA"])]:
        _post(client, ana, person, rel_to)
    s0, s1, s2, nf = (p["id"] for p in [*shared, noforn])
    pairs = [(s0, s1), (s1, nf), (s0, s2), (s2, nf), (s1, s2)]
    visible_to = {"ana": [], "mateo": []}  # type: dict[str, list[int]]
    with node.db.write() as session:
        # Of 45,000 pending pairs, five are of stored records; the rest name records never stored.
        for a, b in pairs:
            hidden = [_pending(f"identity--{uuid.uuid4()}", f"identity--{uuid.uuid4()}") for _ in range(HIDDEN_BETWEEN)]
            session.execute(insert(ResolveDecision), hidden)
            decision = ResolveDecision(**_pending(a, b))
            session.add(decision)
            session.flush()
            visible_to["ana"].append(decision.id)
            if nf not in (a, b):
                visible_to["mateo"].append(decision.id)

    assert _walk(client, ana, limit=2) == visible_to["ana"]
    assert _walk(client, ana, limit=50) == visible_to["ana"]
    assert _walk(client, mateo, limit=1) == visible_to["mateo"]
    for bad in ({"limit": 0}, {"limit": 201}, {"after": -1}):
        refused = client.get("/api/resolve/reviews", params=bad, headers=ana)
        assert refused.status_code == 422 and next(iter(bad)) in refused.text
