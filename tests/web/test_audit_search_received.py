"""An auditor's log search leaves out the receipt of a partner's release whose report the auditor
may not see (DESIGN §3.3): a PÚBLICA-cleared auditor on the MEX node was shown the
`federation.receive.release` entry of a SECRET US release, by its release id. On SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from tests.federation import partner_units
from tests.federation.partner_units import World
from tests.web.support import token_headers
from tests.web.test_stream_role_events import received, staff

world = partner_units.world  # the fixture: the US demo node, and a MEX node the US release is pushed to

MISSING_RELEASE = "release--00000000-0000-4000-8000-000000000000"


def _search(world: World, username: str, object_id: str) -> dict[str, Any]:
    response = world.client.get(
        "/api/audit/search", params={"object": object_id}, headers=token_headers(world.mex, username)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_receipt_of_a_release_shows_only_to_auditors_who_may_see_its_report(world: World) -> None:
    staff(world.mex)
    received(world)
    release = str(world.release.payload["release"]["id"])
    cleared = _search(world, "tomas.auditor", release)["hits"]
    assert [h["event"]["action"] for h in cleared] == ["federation.receive.release"]
    assert _search(world, "paula.auditora", release) == _search(world, "paula.auditora", MISSING_RELEASE)
    assert _search(world, "paula.auditora", release) == {"hits": [], "next_after": None}
