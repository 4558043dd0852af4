"""`GET /api/consent-requests` names only items the officer may see, and leaves out a request for
none of them (DESIGN §3.3: roles grant actions, never visibility). It listed every request, with
its item hashes, purpose and parties, to every disclosure officer. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from tests.federation import partner_units
from tests.federation.partner_units import World, consent_request
from tests.web.support import token_headers
from tests.web.test_stream_role_events import item_hashes, received, staff

world = partner_units.world  # the fixture: the US demo node, and a MEX node the US release is pushed to


def _listed(world: World, username: str) -> list[dict[str, object]]:
    response = world.client.get("/api/consent-requests", headers=token_headers(world.mex, username))
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_an_officer_is_listed_only_requests_for_items_they_may_see(world: World) -> None:
    staff(world.mex)
    report = received(world)
    hashes = item_hashes(world.mex, report)
    asked = consent_request(world, item_hashes=hashes)
    world.push(asked)

    (seen,) = _listed(world, "lucia.divulgacion")  # SECRETA: reads the convoy report
    assert seen["id"] == asked.payload["id"] and sorted(seen["item_hashes"]) == hashes  # type: ignore[arg-type]
    assert _listed(world, "pablo.divulgacion") == []  # PÚBLICA: the report answers 404 to him
