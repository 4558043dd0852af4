"""An opaque id says nothing by its length or its spelling: every stream event id and TAXII `next`
is one length whatever the position it names (an unpadded one grew with the change id's digits, so
its length told the order of magnitude of the activity hidden from its reader), and only the spelling
the node gave opens (base64's last character has unused bits, so a second spelling opened to the
same position). On SQLite and on PostgreSQL, over the stream itself."""

from __future__ import annotations

import base64

from tearline.web.opaque import seal, unseal
from tearline.web.routes_stream import EVENT_ID_PURPOSE, event_id_after
from tests.conftest import detached_principal
from tests.web.conftest import Scenario
from tests.web.support import token_headers
from tests.web.test_stream import parse


def test_every_event_id_is_one_length_whatever_the_change_it_names(scenario: Scenario) -> None:
    principal = detached_principal(scenario.node, "ana.analyst")
    ids = [event_id_after(scenario.node, principal, p) for p in (1, 22, 333, 4444, 2**31 - 1)]
    assert len({len(i) for i in ids}) == 1, [len(i) for i in ids]
    # The ids the stream itself sends, for changes of one and of more digits, are of that length too.
    sent = parse(
        scenario.client.get(
            "/api/stream", params={"once": "true"}, headers=token_headers(scenario.node, "ana.analyst")
        ).text
    )
    assert sent and {len(e["id"]) for e in sent} == {len(ids[0])}
    # A TAXII `next` is sealed the same way: its length says nothing of the version it names.
    uuid = "1b0a3f5e-6c39-4b0b-9a39-3f1e2d6c4b1a"
    cursors = ["1.1.report--" + uuid, f"{2**31 - 1}.2.x-custom-object--{'a' * 90}", "2026-12-07T20:35:03+00:00|7"]
    assert {len(seal(scenario.node, "taxii-next:c", principal.id, c)) for c in cursors} == {len(ids[0])}


def test_a_second_spelling_of_an_event_id_is_refused(scenario: Scenario) -> None:
    node = scenario.node
    ana = detached_principal(node, "ana.analyst").id
    given = seal(node, EVENT_ID_PURPOSE, ana, "7")
    raw = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4))
    assert len(raw) % 3, "a token with no unused bits has no second spelling to try"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(given[-1])
    others = [given[:-1] + alphabet[last ^ bit] for bit in (1, 2, 3)]
    for other in others:
        # The same bytes: base64 reads it as the id given ...
        assert base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == raw
        # ... and this node does not.
        assert unseal(node, EVENT_ID_PURPOSE, ana, other) is None
        response = scenario.client.get(
            "/api/stream", params={"once": "true", "after": other}, headers=token_headers(node, "ana.analyst")
        )
        assert response.status_code == 422, response.text[:300]
    assert unseal(node, EVENT_ID_PURPOSE, ana, given) == "7"
